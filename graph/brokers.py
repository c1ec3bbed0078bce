"""This process's link to the brokers it keeps in step (API.md §10.2, §10.3), built from settings.

With ``GATEHOUSE_MOSQUITTO_URL``: one admin connection to Mosquitto's dynamic
security. With ``GATEHOUSE_RABBITMQ_MANAGEMENT_URL``: one HTTP client for
RabbitMQ's management API. Either way, the deliverer of the outbox of
revocations (``resolvers/broker_outbox.py``). ``create_app`` installs the
brokers for the service layer (``resolvers/broker_sync.py``) and starts and
stops all of it with the app.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from graph.settings import Settings
from models.broker_outbox import BrokerTarget
from resolvers import device_logins
from resolvers.broker_outbox import OutboxConfig, OutboxDeliverer, Revoker
from resolvers.broker_sync import Brokers
from resolvers.broker_urls import mosquitto_login, rabbitmq_management_login
from resolvers.device_auth import DeviceRules
from resolvers.live import EventHub
from resolvers.mosquitto_admin import MosquittoAdmin
from resolvers.rabbitmq_management import RabbitMQManagement
from resolvers.revokers import MosquittoRevoker, RabbitMQRevoker

log = logging.getLogger("gatehouse")

#: How long a starting server waits for Mosquitto before it serves anyway.
CONNECT_AT_START_SECONDS = 2.0


class BrokerSync:
    """Mosquitto's admin connection, RabbitMQ's management client, the outbox deliverer."""

    def __init__(self, settings: Settings, hub: EventHub, rules: DeviceRules) -> None:
        mosquitto = rabbitmq = None
        if settings.mosquitto_url is not None:
            mosquitto = MosquittoAdmin(mosquitto_login(settings.mosquitto_url))
        if settings.rabbitmq_management_url is not None:
            rabbitmq = RabbitMQManagement(
                rabbitmq_management_login(settings.rabbitmq_management_url)
            )
        self.mosquitto, self.rabbitmq = mosquitto, rabbitmq
        self.brokers = Brokers(mosquitto, rabbitmq, rules)
        revokers: list[Revoker] = []
        if mosquitto is not None:
            revokers.append(MosquittoRevoker(mosquitto))
        if rabbitmq is not None:
            window = timedelta(seconds=settings.rabbitmq_close_window_seconds)
            revokers.append(RabbitMQRevoker(rabbitmq, window=window))
        self.outbox = OutboxDeliverer(
            revokers,
            OutboxConfig(
                min_backoff=settings.broker_retry_min_ms / 1000,
                max_backoff=settings.broker_retry_max_seconds,
                poll_interval=settings.event_poll_seconds,
            ),
        )
        outbox = self.outbox
        if mosquitto is not None:
            # Back after an outage: what waited for Mosquitto is due at once, backoff or not.
            mosquitto.on_connect.append(lambda: outbox.wake(BrokerTarget.MOSQUITTO, due_now=True))
        # A reset or a removal committed, on this process or another: look at the outbox.
        hub.on_invalidate(device_logins.TOPIC, lambda _device: outbox.wake())

    async def start(self) -> None:
        mosquitto, rabbitmq = self.mosquitto, self.rabbitmq
        if mosquitto is not None:
            mosquitto.start()
            # A server that starts with Mosquitto up delivers from its first poll on.
            if not await mosquitto.wait_connected(CONNECT_AT_START_SECONDS):
                log.warning("Mosquitto is not reachable yet at %s", mosquitto.login.shown())
        if rabbitmq is not None:
            log.info("closing revoked devices' RabbitMQ connections via %s", rabbitmq.login.shown())
        self.outbox.start()

    async def stop(self) -> None:
        await self.outbox.stop()
        if self.mosquitto is not None:
            await self.mosquitto.stop()
        if self.rabbitmq is not None:
            await self.rabbitmq.close()
