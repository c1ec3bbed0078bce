"""Throttling (API.md §9.2): failed logins per client address, device polls per device id.

The counting is the `limits` library's moving window, kept in this process for
``memory://`` (``resolvers/moving_windows.py``, a lean storage of the library's
interface) or in Redis for ``redis://`` (the library's Redis storage: every
process of a deployment shares the counts, so adding processes does not
multiply an attacker's budget). A moving window counts exactly what happened in
the last N seconds, with no burst at a window boundary.

- **Logins**: an address with ``max_failures`` failed uncached logins in the
  last ``window`` seconds is refused before any password is hashed, until its
  oldest counted failure leaves the window (that is the ``Retry-After``). The
  refusal is answered after a pause (``refusal_delay``), so that clients that
  ignore ``Retry-After`` cannot turn cheap refusals into a flood.
  Verified logins in the cache are never asked (``resolvers/auth.py``), so the
  devices' shared bootstrap login keeps working through a spray.
- **Device polls**: more than ``poll_limit`` polls for one device id within
  :data:`POLL_WINDOW_SECONDS` are refused, before the registration is read, so
  a refused poll changes nothing and answers the same whether the device exists
  or not. ``poll_limit`` 0 turns the limit off.

When Redis cannot be reached the counts cannot be read: throttling then lets
requests through (logging a warning at most once a minute) rather than refusing
every login of the platform; the hash bound (``resolvers/passwords.py``) still
holds.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import cast

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MovingWindowSupport, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from resolvers.errors import Throttled
from resolvers.moving_windows import MovingWindowMemory

log = logging.getLogger(__name__)

#: API.md §9.2: the device poll limit counts polls within 10 seconds.
POLL_WINDOW_SECONDS = 10
NAMESPACE = "gatehouse"
#: Prefix of every throttle key in Redis (``gatehouse-throttle:LIMITER/gatehouse/...``).
KEY_PREFIX = "gatehouse-throttle"
#: How long a Redis command of the throttle may take before the request goes on without it.
REDIS_TIMEOUT_SECONDS = 1.0
WARN_EVERY_SECONDS = 60.0


def storage_for(broker_url: str) -> Storage:
    """Where the counts live: Redis for a ``redis://`` broker, else this process."""
    if not broker_url.startswith(("redis://", "rediss://")):
        return MovingWindowMemory()
    return RedisStorage(
        "async+" + broker_url,
        implementation="redispy",  # the redis client the broker uses already
        wrap_exceptions=True,
        key_prefix=KEY_PREFIX,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )


def retry_after(reset_time: float, now: float) -> int:
    """Whole seconds until ``reset_time`` (epoch seconds), at least 1 (``Retry-After``)."""
    return max(1, math.ceil(reset_time - now))


class Throttles:
    """The login and poll throttles of one process, over one `limits` storage."""

    def __init__(
        self,
        broker_url: str = "memory://",
        *,
        login_max_failures: int = 10,
        login_window_seconds: int = 300,
        poll_limit: int = 10,
        refusal_delay: float = 1.0,
    ) -> None:
        storage = storage_for(broker_url)
        #: Whether other processes see the same counts (Redis).
        self.shared = isinstance(storage, RedisStorage)
        #: Both storages keep moving windows (``limits``' MovingWindowSupport).
        self._windows = cast(MovingWindowSupport, storage)
        self._limiter = MovingWindowRateLimiter(storage)
        self.login_failures: RateLimitItem = RateLimitItemPerSecond(
            login_max_failures, login_window_seconds, namespace=NAMESPACE
        )
        self.polls: RateLimitItem | None = (
            RateLimitItemPerSecond(poll_limit, POLL_WINDOW_SECONDS, namespace=NAMESPACE)
            if poll_limit > 0
            else None
        )
        # The key of a device's poll count, exactly as ``limits`` builds it (``key_for``),
        # around the device id: built with an f-string per poll instead of the library's
        # join over every part (the poll is the hottest path of the server).
        self._poll_key = ("", "")
        if self.polls is not None:
            before, _, after = self.polls.key_for("device-polls", "\0").partition("\0")
            self._poll_key = (before, after)
        #: Seconds a refused login waits before its answer (see :meth:`pause_refusal`).
        self.refusal_delay = refusal_delay
        self._warned_at = -math.inf

    # ------------------------------------------------------------ logins

    async def login_refusal(self, client_address: str) -> Throttled | None:
        """Why an uncached login from ``client_address`` may not be checked now, or ``None``."""
        try:
            stats = await self._limiter.get_window_stats(
                self.login_failures, "login-failures", client_address
            )
        except StorageError as error:
            self._storage_failed(error)
            return None
        if stats.remaining > 0:
            return None
        wait = retry_after(stats.reset_time, time.time())
        return Throttled(f"too many failed logins from this address; try again in {wait} s", wait)

    async def pause_refusal(self) -> None:
        """Hold a refused login's answer back for ``refusal_delay`` seconds.

        Refusing costs the server little, but a client that ignores
        ``Retry-After`` would send again at once, and fifty such clients keep an
        event loop busy with nothing but refusals. Pausing costs a timer, not
        CPU, and holds each throttled connection to one attempt per pause.
        """
        if self.refusal_delay > 0:
            await asyncio.sleep(self.refusal_delay)

    async def login_failed(self, client_address: str) -> bool:
        """Count a failed login of ``client_address``; ``True`` when it reached the limit."""
        try:
            counted = await self._limiter.hit(self.login_failures, "login-failures", client_address)
            if not counted:
                return False  # already at the limit: nothing more to count
            stats = await self._limiter.get_window_stats(
                self.login_failures, "login-failures", client_address
            )
        except StorageError as error:
            self._storage_failed(error)
            return False
        return stats.remaining <= 0

    # ------------------------------------------------------------ device polls

    async def admit_poll(self, device_id: str) -> None:
        """Count one poll for ``device_id``, or raise :class:`Throttled` beyond the limit."""
        polls = self.polls
        if polls is None:
            return
        before, after = self._poll_key
        try:
            # MovingWindowRateLimiter.hit(polls, "device-polls", device_id), without its layers.
            if await self._windows.acquire_entry(
                f"{before}{device_id}{after}", polls.amount, polls.get_expiry()
            ):
                return
            stats = await self._limiter.get_window_stats(polls, "device-polls", device_id)
        except StorageError as error:
            self._storage_failed(error)
            return
        wait = retry_after(stats.reset_time, time.time())
        raise Throttled(
            f"more than {polls.amount} requests for this device within "
            f"{POLL_WINDOW_SECONDS} s; try again in {wait} s",
            wait,
        )

    # ------------------------------------------------------------ storage faults

    def _storage_failed(self, error: StorageError) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_SECONDS:
            self._warned_at = now
            log.warning(
                "throttling is off while its storage cannot be reached (%s); "
                "requests go through unthrottled",
                type(error.storage_error).__name__,
            )
