"""Verifying ``tenant/username`` + password, with a short-lived in-memory cache.

argon2 costs tens of milliseconds of CPU per check, and devices in a roll-out
poll every few seconds with the same bootstrap login. A successful check is
therefore remembered for ``ttl`` seconds under an HMAC-SHA256 of the login with
a key generated per process: the cache never holds a password, and its keys are
useless outside this process. Failures are never cached. Concurrent checks of
the same login share one argon2 run.

A changed password or permission, or a deleted user, is forgotten at once:
:meth:`Authenticator.forget` drops every entry of that ``tenant/username``
(the event hub calls it on every process, ``resolvers/users.py``), and a check
that was already running when the login changed is not cached.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict

from models.tenants import User
from resolvers.passwords import PASSWORD_MAX_LENGTH, verify_password
from resolvers.permissions import Actor, parse_permissions


class Authenticator:
    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._key = secrets.token_bytes(32)
        self._cache: OrderedDict[bytes, tuple[float, Actor]] = OrderedDict()
        self._in_flight: dict[bytes, asyncio.Future[Actor | None]] = {}
        #: The cache keys of each ``tenant/username``, so a changed login can be forgotten.
        self._by_login: dict[str, set[bytes]] = {}
        #: Bumped by every forget: a check that started before it is not cached.
        self._generation = 0

    def _digest(self, tenant_id: str, username: str, password: str) -> bytes:
        login = "\0".join((tenant_id, username, password)).encode()
        return hmac.new(self._key, login, hashlib.sha256).digest()

    async def authenticate(self, tenant_id: str, username: str, password: str) -> Actor | None:
        """The actor for these credentials, or ``None`` when they are wrong."""
        if len(password) > PASSWORD_MAX_LENGTH or len(username) > 64 or len(tenant_id) > 32:
            return None
        digest = self._digest(tenant_id, username, password)
        cached = self._cache.get(digest)
        if cached is not None:
            expires, actor = cached
            if expires > time.monotonic():
                return actor
            self._drop(digest)
        pending = self._in_flight.get(digest)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Actor | None] = asyncio.get_running_loop().create_future()
        self._in_flight[digest] = future
        generation = self._generation
        try:
            checked = await _check(tenant_id, username, password)
            future.set_result(checked)
        except BaseException as exc:
            future.set_exception(exc)
            # Mark the exception retrieved: waiters (if any) re-raise it themselves.
            future.exception()
            raise
        finally:
            del self._in_flight[digest]
        if checked is not None and self.ttl > 0 and generation == self._generation:
            self._cache[digest] = (time.monotonic() + self.ttl, checked)
            self._by_login.setdefault(checked.name, set()).add(digest)
            while len(self._cache) > self.max_entries:
                self._drop(next(iter(self._cache)))
        return checked

    def _drop(self, digest: bytes) -> None:
        _, actor = self._cache.pop(digest)
        logins = self._by_login.get(actor.name)
        if logins is not None:
            logins.discard(digest)
            if not logins:
                del self._by_login[actor.name]

    def forget(self, login: str | None) -> None:
        """Drop the cached checks of ``tenant/username`` (``None``: of everyone)."""
        self._generation += 1
        if login is None:
            self.clear()
            return
        for digest in self._by_login.pop(login, ()):
            self._cache.pop(digest, None)

    def clear(self) -> None:
        self._cache.clear()
        self._by_login.clear()


async def _check(tenant_id: str, username: str, password: str) -> Actor | None:
    user = await User.get_or_none(tenant_id=tenant_id, username=username)
    if not await verify_password(user.password_hash if user else None, password):
        return None
    assert user is not None
    return Actor(tenant_id, username, parse_permissions(user.permissions))
