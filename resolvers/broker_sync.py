"""Keeping the brokers' own account lists in step with the registrations (API.md §10.2, §10.3).

Two moments, both inside the change's own transaction:

- **Delivery** (:func:`provision_brokers`, from ``resolvers/credentials.py``): with
  ``GATEHOUSE_MOSQUITTO_URL`` set, the device's client is created on Mosquitto
  with the new password before the poll is answered. If Mosquitto does not
  confirm within 5 seconds this raises :class:`ServiceUnavailable`, the
  delivering transaction rolls back (nothing delivered, no event) and the
  device gets 503 and polls again. The call is made after the conditional
  update that claims the delivery, under the tenant's lock, so concurrent
  polls cannot both create a client: the client Mosquitto keeps always has the
  password that was delivered, and that password rests nowhere. While the
  connection to Mosquitto is down the answer is 503 at once, so an outage
  costs the device a retry, not a held lock.
- **Revocation** (:func:`queue_revocation`, from ``resetCredentials`` and
  ``removeRegistration``): one outbox row per configured broker, in the same
  transaction, delivered in the background (``resolvers/broker_outbox.py``).

A delivery also takes over the device's Mosquitto deletions still waiting in
the outbox: creating the client starts by deleting whatever the device had,
so those rows are done by it. One being sent right now by a deliverer makes
the poll answer 503 instead, so that deletion cannot land after the new client.

Module state, like the event hub (``resolvers/live.py``): ``create_app``
installs this process's brokers; without any, both functions do nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from models.broker_outbox import BrokerTarget, BrokerTask
from resolvers import dynsec
from resolvers.changes import utcnow
from resolvers.device_auth import DeviceRules
from resolvers.errors import ServiceUnavailable
from resolvers.mosquitto_admin import MosquittoUnavailable
from resolvers.rabbitmq_management import RabbitMQManagement

log = logging.getLogger(__name__)

UNAVAILABLE = "the device's broker did not confirm its credentials"


class DynsecClient(Protocol):
    """What a delivery needs of Mosquitto's admin connection (``MosquittoAdmin``)."""

    @property
    def connected(self) -> bool: ...

    async def run(
        self, commands: Sequence[dynsec.Command], seconds: float | None = None
    ) -> list[Any]: ...


@dataclass(frozen=True)
class Brokers:
    """The brokers this process keeps in step (none by default)."""

    mosquitto: DynsecClient | None = None
    rabbitmq: RabbitMQManagement | None = None
    rules: DeviceRules = field(default_factory=DeviceRules)

    @property
    def targets(self) -> tuple[BrokerTarget, ...]:
        return tuple(
            target
            for target, client in (
                (BrokerTarget.MOSQUITTO, self.mosquitto),
                (BrokerTarget.RABBITMQ, self.rabbitmq),
            )
            if client is not None
        )


_brokers = Brokers()


def install(brokers: Brokers) -> None:
    """Make ``brokers`` this process's (the app does this when it is built)."""
    global _brokers
    _brokers = brokers


def current() -> Brokers:
    return _brokers


async def provision_brokers(device_id: str, password: str) -> None:
    """Create the device's client with ``password`` on Mosquitto, inside the delivery's
    transaction; :class:`ServiceUnavailable` when Mosquitto does not confirm."""
    brokers = _brokers
    admin = brokers.mosquitto
    if admin is None:
        return
    if not admin.connected:
        # The connection's own log says Mosquitto is gone; one line per poll would flood it.
        log.debug("device %s: not delivered, Mosquitto is not connected", device_id)
        raise ServiceUnavailable(UNAVAILABLE)
    now = utcnow()
    pending = await BrokerTask.filter(
        target=BrokerTarget.MOSQUITTO, device_id=device_id
    ).select_for_update()
    if any(t.lease_until is not None and t.lease_until > now for t in pending):
        log.info(
            "device %s: not delivered yet, its old Mosquitto client is being deleted", device_id
        )
        raise ServiceUnavailable(UNAVAILABLE)
    rules = brokers.rules
    commands = dynsec.create_device(device_id, password, rules.topic_prefix, rules.client_id)
    try:
        responses = await admin.run(commands)
    except MosquittoUnavailable as error:
        log.warning("device %s: not delivered: %s", device_id, error)
        raise ServiceUnavailable(UNAVAILABLE) from None
    problems = dynsec.failures(commands, responses)
    if problems:
        log.error(
            "device %s: not delivered, Mosquitto refused: %s",
            device_id,
            "; ".join(str(p) for p in problems),
        )
        raise ServiceUnavailable(UNAVAILABLE)
    if pending:
        await BrokerTask.filter(id__in=[t.id for t in pending]).delete()


async def queue_revocation(
    tenant_id: str, device_id: str, reason: str, *, had_credentials: bool
) -> None:
    """Queue the device's revocation on every configured broker (in the caller's transaction).

    RabbitMQ can only have connections of a device whose credentials were
    delivered; Mosquitto may hold a client from a delivery that did not commit,
    so its deletion is queued whatever the registration's state.
    """
    now = utcnow()
    rows = [
        BrokerTask(
            target=target,
            tenant_id=tenant_id,
            device_id=device_id,
            reason=reason,
            queued_at=now,
            next_attempt_at=now,
        )
        for target in _brokers.targets
        if had_credentials or target is BrokerTarget.MOSQUITTO
    ]
    if len(rows) == 1:
        await rows[0].save()
    elif rows:
        await BrokerTask.bulk_create(rows)
