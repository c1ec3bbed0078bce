"""The brokers' and gateways' questions about devices, answered from a short cache (API.md §6).

A broker calls on every connect and, for topics, on every new publish or
subscription, so this is a hot path that stays read-only: a device's credential
state is read with one indexed SELECT and kept in memory for ``ttl`` seconds
(``GATEHOUSE_DEVICE_AUTH_CACHE_SECONDS``); the password is checked against its
SHA-256 digest (no argon2: it is a random secret, §4). Only devices with valid
credentials are cached, so a refused login is never remembered.

Revocation is immediate: ``removeRegistration`` and ``resetCredentials`` call
``live.invalidate(TOPIC, device_id)`` after they commit, which reaches
:meth:`DeviceLogins.forget` on every process through the broker (all of the
cache is forgotten after a broker reconnect). A lookup that was in flight while
an invalidation arrived is not cached, so it cannot bring a revoked state back.

``Registration.last_authenticated_at`` is written at most once a minute per
device: each process remembers when it last wrote it for a device, and the
UPDATE itself only changes a row whose value is a minute old, so several
processes together still write it once a minute.

The decisions are the pure functions of ``resolvers/device_auth.py``; this
module reads, caches, logs and counts (``gatehouse_auth_callbacks_total``, one per
answer a broker or gateway gets). Nothing here ever logs a password.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta

from tortoise.expressions import Q

from models.registrations import Registration, RegistrationStatus
from resolvers import metrics
from resolvers.changes import utcnow
from resolvers.device_auth import (
    Action,
    CredentialState,
    DeviceRules,
    Refusal,
    Verdict,
    login,
    parse_username,
    standing,
)

log = logging.getLogger("gatehouse.device_auth")

#: The invalidation topic of device credentials (``live.invalidate(TOPIC, device_id)``).
TOPIC = "device-credentials"
#: How often ``lastAuthenticatedAt`` may be written per device (API.md §6).
TOUCH_INTERVAL = timedelta(minutes=1)

#: ``{}`` is the dialect's parameter mark; the device id is always a bound parameter.
_STATE_SQL = (
    "SELECT tenant_id, device_password_hash FROM registrations WHERE device_id = {} "
    "AND status = 'ACCEPTED' "
    "AND credentials_delivered_at IS NOT NULL AND device_password_hash IS NOT NULL"
)
assert RegistrationStatus.ACCEPTED.value in _STATE_SQL


async def load_state(device_id: str) -> CredentialState | None:
    """The device's credential state, when it has valid credentials: one primary-key read."""
    connection = Registration._meta.db
    mark = "$1" if connection.capabilities.dialect == "postgres" else "?"
    rows = await connection.execute_query_dict(_STATE_SQL.format(mark), [device_id])
    if not rows:
        return None
    row = rows[0]
    return CredentialState(device_id, row["tenant_id"], row["device_password_hash"])


class DeviceLogins:
    """This process's answers to device callbacks, and its cache of device credential states."""

    def __init__(
        self,
        rules: DeviceRules | None = None,
        *,
        ttl: float = 30,
        max_entries: int = 50_000,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.rules = rules or DeviceRules()
        self.ttl = ttl
        self.max_entries = max_entries
        self.now = now
        self._cache: OrderedDict[str, tuple[float, CredentialState]] = OrderedDict()
        #: When this process last wrote ``last_authenticated_at`` per device.
        self._touched: OrderedDict[str, datetime] = OrderedDict()
        #: Counts invalidations: a lookup that saw it change is not cached.
        self._generation = 0

    # ------------------------------------------------------------ the cache

    async def state(self, device_id: str) -> CredentialState | None:
        """The device's state, from the cache or with one SELECT."""
        cached = self._cache.get(device_id)
        if cached is not None:
            expires, state = cached
            if expires > time.monotonic():
                self._cache.move_to_end(device_id)
                return state
            del self._cache[device_id]
        generation = self._generation
        found = await load_state(device_id)
        if found is not None and self.ttl > 0 and generation == self._generation:
            self._cache[device_id] = (time.monotonic() + self.ttl, found)
            while len(self._cache) > self.max_entries:
                self._cache.popitem(last=False)
        return found

    def forget(self, device_id: str | None) -> None:
        """Forget a device (``None``: every device); the hub calls this on invalidations."""
        self._generation += 1
        if device_id is None:
            self._cache.clear()
            self._touched.clear()
        else:
            self._cache.pop(device_id, None)
            self._touched.pop(device_id, None)

    # ------------------------------------------------------------ logins

    async def login(
        self, broker: str, username: str, password: str, client_id: str | None = None
    ) -> Verdict:
        """Valid credentials (and, where the broker passes one, the device's client id)."""
        name = parse_username(username)
        if name is None:
            return self._refused(broker, "login", username, Verdict.deny(Refusal.NOT_A_DEVICE))
        verdict = login(name, await self.state(name.device_id), password)
        verdict = self.rules.with_client_id(verdict, client_id)
        if not verdict.allowed:
            return self._refused(broker, "login", username, verdict)
        assert verdict.device is not None
        metrics.callback_answered(broker, True)
        await self._touch(verdict.device.device_id)
        log.debug("%s login: device %s allowed", broker, verdict.device.device_id)
        return verdict

    async def known(self, broker: str, username: str, client_id: str | None = None) -> Verdict:
        """A device with valid credentials now, for checks that carry no password."""
        name = parse_username(username)
        if name is None:
            return Verdict.deny(Refusal.NOT_A_DEVICE)
        verdict = standing(name, await self.state(name.device_id))
        return self.rules.with_client_id(verdict, client_id)

    # ------------------------------------------------------------ authorizations

    async def mqtt(
        self,
        broker: str,
        username: str,
        client_id: str | None,
        actions: tuple[Action, ...],
        topic: str,
    ) -> Verdict:
        """May the device do ``actions`` with the MQTT topic or filter ``topic``?"""
        verdict = self.rules.mqtt(await self.known(broker, username, client_id), actions, topic)
        what = "/".join(a.value for a in actions)
        return self._answer(broker, f"{what} {topic[:300]!r}", username, verdict)

    async def rabbitmq_vhost(self, username: str, vhost: str, client_id: str | None) -> Verdict:
        known = await self.known("rabbitmq", username, client_id)
        verdict = self.rules.rabbitmq_vhost(known, vhost)
        return self._answer("rabbitmq", f"vhost {vhost[:300]!r}", username, verdict)

    async def rabbitmq_resource(
        self,
        username: str,
        client_id: str | None,
        vhost: str,
        resource: str,
        name: str,
        permission: str,
    ) -> Verdict:
        verdict = self.rules.rabbitmq_resource(
            await self.known("rabbitmq", username, client_id), vhost, resource, name, permission
        )
        what = f"{permission[:20]} {resource[:20]} {name[:300]!r}"
        return self._answer("rabbitmq", what, username, verdict)

    async def rabbitmq_topic(
        self,
        username: str,
        client_id: str | None,
        vhost: str,
        exchange: str,
        permission: str,
        routing_key: str,
    ) -> Verdict:
        verdict = self.rules.rabbitmq_topic(
            await self.known("rabbitmq", username, client_id), vhost, exchange, routing_key
        )
        what = f"{permission[:20]} topic {routing_key[:300]!r}"
        return self._answer("rabbitmq", what, username, verdict)

    def superuser(self, broker: str, username: str) -> Verdict:
        """Devices are never superusers (and users never pass these callbacks)."""
        metrics.callback_answered(broker, False)
        return Verdict.deny(Refusal.SUPERUSER)

    # ------------------------------------------------------------ helpers

    def _answer(self, broker: str, what: str, username: str, verdict: Verdict) -> Verdict:
        if verdict.allowed:
            metrics.callback_answered(broker, True)
            log.debug("%s: allowed %s for %s", broker, what, username[:300])
            return verdict
        return self._refused(broker, what, username, verdict)

    def _refused(self, broker: str, what: str, username: str, verdict: Verdict) -> Verdict:
        metrics.callback_answered(broker, False)
        reason = verdict.refusal.value if verdict.refusal else "refused"
        log.info("%s: refused %s for %r: %s", broker, what, username[:300], reason)
        return verdict

    async def _touch(self, device_id: str) -> None:
        """Write ``last_authenticated_at``, at most once a minute per device."""
        now = self.now()
        last = self._touched.get(device_id)
        if last is not None and now - last < TOUCH_INTERVAL:
            return
        self._touched[device_id] = now
        self._touched.move_to_end(device_id)
        while len(self._touched) > self.max_entries:
            self._touched.popitem(last=False)
        try:
            await Registration.filter(
                Q(device_id=device_id)
                & (
                    Q(last_authenticated_at__isnull=True)
                    | Q(last_authenticated_at__lte=now - TOUCH_INTERVAL)
                )
            ).update(last_authenticated_at=now)
        except Exception:  # the device was verified; a lost timestamp must not refuse it
            log.warning("could not record the login of device %s", device_id, exc_info=True)
