"""Verifying ``tenant/username`` + password, with a short-lived in-memory cache.

argon2 costs tens of milliseconds of CPU per check, and devices in a roll-out
poll every few seconds with the same bootstrap login. A successful check is
therefore remembered for ``ttl`` seconds under an HMAC-SHA256 of the login with
a key generated per process: the cache never holds a password, and its keys are
useless outside this process. Failures are never cached. Concurrent checks of
the same login share one argon2 run.

A cached login is never throttled and never waits for a hash (API.md §9.2,
§9.6): once half its ``ttl`` has passed, the next use of it renews it in the
background, with a check that goes before every waiting unverified attempt
(``resolvers/passwords.py``), while the entry keeps answering. A login in use
therefore never expires, and a spray of wrong passwords can neither slow nor
lock out the devices' bootstrap login. Only uncached attempts are throttled:
with ``throttles``, an address with too many recent failures is refused
(:class:`~resolvers.errors.Throttled`) before anything is hashed, and every
failure of an address counts.

A changed password or permission, or a deleted user, is forgotten at once:
:meth:`Authenticator.forget` drops every entry of that ``tenant/username``
(the event hub calls it on every process, ``resolvers/users.py``), and a check
that was already running when the login changed is not cached.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass

from models.tenants import User
from resolvers.errors import Throttled
from resolvers.metrics import LOGIN_FAILURES
from resolvers.passwords import PASSWORD_MAX_LENGTH, verify_password
from resolvers.permissions import Actor, parse_permissions
from resolvers.throttling import Throttles

log = logging.getLogger(__name__)

#: A cached login is renewed once this share of its lifetime has passed.
RENEW_AFTER = 0.5


@dataclass(frozen=True)
class _Entry:
    expires: float
    renew_at: float
    actor: Actor


class _NotChecked:
    """What a shared check hands its waiters when it was throttled before checking."""


_NOT_CHECKED = _NotChecked()


class Authenticator:
    def __init__(
        self, ttl: float, max_entries: int = 10_000, throttles: Throttles | None = None
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.throttles = throttles
        self._key = secrets.token_bytes(32)
        self._keyed = hmac.new(self._key, digestmod=hashlib.sha256)
        self._cache: OrderedDict[bytes, _Entry] = OrderedDict()
        self._in_flight: dict[bytes, asyncio.Future[Actor | _NotChecked | None]] = {}
        self._renewing: dict[bytes, asyncio.Task[None]] = {}
        #: The cache keys of each ``tenant/username``, so a changed login can be forgotten.
        self._by_login: dict[str, set[bytes]] = {}
        #: Bumped by :meth:`forget` and :meth:`clear`: a check that started before must not
        #: refill the cache.
        self._generation = 0

    def _digest(self, tenant_id: str, username: str, password: str) -> bytes:
        login = "\0".join((tenant_id, username, password)).encode()
        # A copy of an HMAC already keyed: a third cheaper than keying one per login.
        mac = self._keyed.copy()
        mac.update(login)
        return mac.digest()

    async def authenticate(
        self, tenant_id: str, username: str, password: str, *, client_address: str | None = None
    ) -> Actor | None:
        """The actor for these credentials, or ``None`` when they are wrong.

        ``client_address`` is who is asking (API.md §9.2); with it, an uncached
        attempt from an address that failed too often raises
        :class:`~resolvers.errors.Throttled` without hashing, and a failure
        counts against the address. Without it (in-process callers) nothing is
        throttled.
        """
        if len(password) > PASSWORD_MAX_LENGTH or len(username) > 64 or len(tenant_id) > 32:
            LOGIN_FAILURES.inc()
            return None
        digest = self._digest(tenant_id, username, password)
        entry = self._cache.get(digest)
        if entry is not None:
            now = time.monotonic()
            if entry.expires > now:
                if now >= entry.renew_at:
                    self._renew(digest, tenant_id, username, password)
                return entry.actor
            self._drop(digest)
        try:
            checked = await self._shared_check(
                digest, tenant_id, username, password, client_address
            )
        except Throttled:
            if self.throttles is not None:
                await self.throttles.pause_refusal()  # outside any hashing slot
            raise
        if checked is None:
            LOGIN_FAILURES.inc()
            if client_address is not None:
                await self._count_failure(client_address)
        return checked

    async def _shared_check(
        self,
        digest: bytes,
        tenant_id: str,
        username: str,
        password: str,
        client_address: str | None,
        *,
        urgent: bool = False,
    ) -> Actor | None:
        """One argon2 run for all concurrent checks of the same login (a renewal included)."""
        admit = self._admission(client_address)
        while True:
            while (pending := self._in_flight.get(digest)) is not None:
                outcome = await asyncio.shield(pending)
                if not isinstance(outcome, _NotChecked):
                    return outcome
                # That caller was throttled before checking; we may not be.
            if admit is not None:
                await admit()  # fails fast, before waiting for a hashing slot
            if digest not in self._in_flight:
                break  # (another check of this login may have started while admit() ran)
        future: asyncio.Future[Actor | _NotChecked | None] = (
            asyncio.get_running_loop().create_future()
        )
        self._in_flight[digest] = future
        generation = self._generation
        try:
            checked = await _check(tenant_id, username, password, urgent=urgent, admit=admit)
            future.set_result(checked)
        except Throttled:
            future.set_result(_NOT_CHECKED)
            raise
        except BaseException as exc:
            future.set_exception(exc)
            # Mark the exception retrieved: waiters (if any) re-raise it themselves.
            future.exception()
            raise
        finally:
            if self._in_flight.get(digest) is future:
                del self._in_flight[digest]
        if checked is not None and generation == self._generation:
            self._remember(digest, checked)
        return checked

    async def _count_failure(self, client_address: str) -> None:
        throttles = self.throttles
        if throttles is not None and await throttles.login_failed(client_address):
            log.warning(
                "logins from %s are throttled: %d failed logins within %d s",
                client_address,
                throttles.login_failures.amount,
                throttles.login_failures.get_expiry(),
            )

    def _admission(self, client_address: str | None) -> _Admission | None:
        if self.throttles is None or client_address is None:
            return None
        return _Admission(self.throttles, client_address)

    def _remember(self, digest: bytes, actor: Actor) -> None:
        if self.ttl <= 0:
            return
        now = time.monotonic()
        self._cache[digest] = _Entry(now + self.ttl, now + self.ttl * RENEW_AFTER, actor)
        self._cache.move_to_end(digest)
        self._by_login.setdefault(actor.name, set()).add(digest)
        while len(self._cache) > self.max_entries:
            self._drop(next(iter(self._cache)))

    def _drop(self, digest: bytes) -> None:
        entry = self._cache.pop(digest, None)
        if entry is None:
            return
        logins = self._by_login.get(entry.actor.name)
        if logins is not None:
            logins.discard(digest)
            if not logins:
                del self._by_login[entry.actor.name]

    def _renew(self, digest: bytes, tenant_id: str, username: str, password: str) -> None:
        """Re-check a cached login in the background, ahead of unverified attempts."""
        if digest in self._renewing:
            return
        task = asyncio.create_task(
            self._renewal(digest, tenant_id, username, password), name="renew-login"
        )
        self._renewing[digest] = task

    async def _renewal(self, digest: bytes, tenant_id: str, username: str, password: str) -> None:
        # A shared check: a use of the login that finds its entry expired meanwhile waits
        # for this renewal instead of queueing a check of its own behind unverified ones.
        try:
            checked = await self._shared_check(
                digest, tenant_id, username, password, None, urgent=True
            )
        except Exception as error:
            # The entry stays until it expires; the next use after that checks afresh.
            log.warning("renewing a cached login failed: %s", type(error).__name__)
            return
        finally:
            self._renewing.pop(digest, None)
        if checked is None:
            self._drop(digest)  # the password or the user changed

    def forget(self, login: str | None) -> None:
        """Drop the cached checks of ``tenant/username`` (``None``: of everyone)."""
        if login is None:
            self.clear()
            return
        self._generation += 1
        for digest in self._by_login.pop(login, ()):
            self._cache.pop(digest, None)

    def clear(self) -> None:
        self._generation += 1
        self._cache.clear()
        self._by_login.clear()


class _Admission:
    """The login throttle's question, asked before queueing for a hash and again just before
    hashing (an address can reach its limit while its attempts wait)."""

    def __init__(self, throttles: Throttles, client_address: str) -> None:
        self.throttles = throttles
        self.client_address = client_address

    async def __call__(self) -> None:
        refusal = await self.throttles.login_refusal(self.client_address)
        if refusal is not None:
            raise refusal


async def _check(
    tenant_id: str,
    username: str,
    password: str,
    *,
    urgent: bool = False,
    admit: _Admission | None = None,
) -> Actor | None:
    user = await User.get_or_none(tenant_id=tenant_id, username=username)
    verified = await verify_password(
        user.password_hash if user else None, password, urgent=urgent, admit=admit
    )
    if not verified:
        return None
    assert user is not None
    return Actor(tenant_id, username, parse_permissions(user.permissions))
