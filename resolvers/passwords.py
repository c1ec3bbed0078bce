"""Hashing of human-chosen secrets (user passwords, security tokens) with argon2id.

Hashing and verifying cost tens of milliseconds of CPU on purpose, so both run
in worker threads to keep the event loop serving other requests meanwhile, and
at most :data:`HASH_CONCURRENCY` of them (one per core) run at once
(API.md §9.2): a flood of logins waits its turn instead of taking every core
from the event loop. Waiting is in order, except that *urgent* checks (the
background renewal of a login that was verified before, ``resolvers/auth.py``)
go before every waiting unverified attempt.

The hashing threads of unverified attempts also run at a lower CPU priority
(nice :data:`HASH_NICENESS`; argon2's own lane threads inherit it): one
argon2id hash keeps four lanes busy, which on a small machine is every core,
and the event loop must still answer cached logins and polls at once while it
runs. Urgent checks run at normal priority, so that a busy machine cannot delay
a renewal past the expiry of the login it renews.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import threading
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

PASSWORD_MAX_LENGTH = 1024


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


#: How many hashes may be computed at once in this process: one per core.
HASH_CONCURRENCY = _cores()
#: How much lower than the event loop's the hashing threads' CPU priority is (Linux nice).
HASH_NICENESS = 10

_hasher = PasswordHasher()
# Verified against when the user does not exist, so that an unknown username
# costs the same time as a wrong password and cannot be told apart by timing.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

T = TypeVar("T")


class HashSlots:
    """At most ``size`` holders at once; waiters in order, urgent waiters first.

    A waiter that is cancelled leaves its place (or, if it was just handed a
    slot, hands it on), so no slot is ever lost.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.busy = 0
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._waiting: deque[asyncio.Future[None]] = deque()

    @property
    def queued(self) -> int:
        return len(self._urgent) + len(self._waiting)

    @contextlib.asynccontextmanager
    async def slot(self, *, urgent: bool = False) -> AsyncIterator[None]:
        await self._acquire(urgent)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, urgent: bool) -> None:
        if self.busy < self.size and not self.queued:
            self.busy += 1
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._urgent if urgent else self._waiting
        queue.append(granted)
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._release()  # handed a slot just as we were cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):
                    queue.remove(granted)
            raise

    def _release(self) -> None:
        for queue in (self._urgent, self._waiting):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # the slot passes on; ``busy`` stays
                    return
        self.busy -= 1


#: The bound itself. Each executor has as many threads as there are slots, so even a
#: caller cancelled mid-hash (its slot passed on) cannot make many more run at once.
_slots = HashSlots(HASH_CONCURRENCY)


def _lower_priority() -> None:
    """Run by each hashing thread as it starts: on Linux the nice value is per thread."""
    with contextlib.suppress(AttributeError, OSError):  # not on Linux, or not allowed
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICENESS)


_executor = ThreadPoolExecutor(
    max_workers=HASH_CONCURRENCY, thread_name_prefix="argon2", initializer=_lower_priority
)
_urgent_executor = ThreadPoolExecutor(
    max_workers=HASH_CONCURRENCY, thread_name_prefix="argon2-urgent"
)


async def _hashing(
    work: Callable[..., T],
    *args: str,
    urgent: bool = False,
    admit: Callable[[], Awaitable[None]] | None = None,
) -> T:
    """Run ``work(*args)`` in a hashing thread once a slot is free.

    ``admit`` runs once the slot is held, just before hashing; it may raise to
    give the slot up unused (a login throttle that took effect while waiting).
    """
    async with _slots.slot(urgent=urgent):
        if admit is not None:
            await admit()
        executor = _urgent_executor if urgent else _executor
        return await asyncio.get_running_loop().run_in_executor(executor, work, *args)


def generate_password() -> str:
    """A random password for a generated account (about 128 bits)."""
    return secrets.token_urlsafe(16)


async def hash_password(password: str) -> str:
    return await _hashing(_hasher.hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(
    password_hash: str | None,
    password: str,
    *,
    urgent: bool = False,
    admit: Callable[[], Awaitable[None]] | None = None,
) -> bool:
    """Constant-time check of ``password``; ``None`` (no such user) is always false.

    ``urgent`` and ``admit``: see :func:`_hashing`.
    """
    if password_hash is None:
        await _hashing(_verify, _DUMMY_HASH, password, urgent=urgent, admit=admit)
        return False
    return await _hashing(_verify, password_hash, password, urgent=urgent, admit=admit)
