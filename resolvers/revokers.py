"""What a queued revocation does on each broker (the :class:`Revoker` of each target).

- **Mosquitto** (§10.2): delete the device's client and its role
  (``resolvers/dynsec.py``); deleting the client ends its sessions. A whole
  batch is one request; "not found" counts as done.
- **RabbitMQ** (§10.3): close every connection of the device's login. RabbitMQ
  lists a new MQTT connection only some seconds after it opened (about five in
  3.10), so a connection opened just before the revocation may not be listed
  yet: the row is kept, and the list looked at again every ``sweep_interval``,
  until ``window`` after the revocation. Logins are refused from the moment
  the change commits (§6), so no connection can start after that window.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from models.broker_outbox import BrokerTarget, BrokerTask
from resolvers import dynsec
from resolvers.broker_outbox import DONE, Outcome
from resolvers.mosquitto_admin import MosquittoAdmin, MosquittoUnavailable
from resolvers.rabbitmq_management import ManagementError, RabbitMQManagement

log = logging.getLogger(__name__)

CLOSE_REASON = "Gatehouse: the device's credentials were revoked"


class MosquittoRevoker:
    target = BrokerTarget.MOSQUITTO
    name = "Mosquitto"

    def __init__(self, admin: MosquittoAdmin) -> None:
        self.admin = admin

    def ready(self) -> bool:
        return self.admin.connected

    async def revoke(self, tasks: Sequence[BrokerTask], now: datetime) -> dict[int, Outcome]:
        devices = list(dict.fromkeys(task.device_id for task in tasks))
        per_device = {device: dynsec.delete_device(device) for device in devices}
        commands = [command for device in devices for command in per_device[device]]
        try:
            responses = await self.admin.run(commands)
        except MosquittoUnavailable as error:
            return {task.id: Outcome(error=str(error)) for task in tasks}
        outcome: dict[str, Outcome] = {}
        offset = 0
        for device in devices:
            mine = per_device[device]
            problems = dynsec.failures(mine, responses[offset : offset + len(mine)])
            offset += len(mine)
            outcome[device] = (
                DONE if not problems else Outcome(error="; ".join(str(p) for p in problems))
            )
        return {task.id: outcome[task.device_id] for task in tasks}


class RabbitMQRevoker:
    target = BrokerTarget.RABBITMQ
    name = "RabbitMQ"

    def __init__(
        self,
        management: RabbitMQManagement,
        *,
        window: timedelta = timedelta(seconds=10),
        sweep_interval: timedelta = timedelta(seconds=1),
    ) -> None:
        self.management = management
        self.window = window
        self.sweep_interval = sweep_interval

    def ready(self) -> bool:
        return True  # plain HTTP: each attempt finds out

    async def revoke(self, tasks: Sequence[BrokerTask], now: datetime) -> dict[int, Outcome]:
        try:
            closed = await self.management.close_devices(
                {task.device_id for task in tasks}, CLOSE_REASON
            )
        except ManagementError as error:
            return {task.id: Outcome(error=str(error)) for task in tasks}
        outcomes: dict[int, Outcome] = {}
        for task in tasks:
            result = closed.get(task.device_id, 0)
            if isinstance(result, ManagementError):
                outcomes[task.id] = Outcome(error=str(result))
                continue
            if result:
                log.info(
                    "RabbitMQ: closed %s connection(s) of device %s (%s)",
                    result,
                    task.device_id,
                    task.reason,
                )
            ends = task.queued_at + self.window
            outcomes[task.id] = (
                DONE if now >= ends else Outcome(again_at=min(now + self.sweep_interval, ends))
            )
        return outcomes
