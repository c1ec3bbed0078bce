"""The Starlette application, assembled from every surface's own ``routes()``."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute
from tortoise.contrib.starlette import RegisterTortoise

from graph import log_filters
from graph.brokers import BrokerSync
from graph.callbacks import emqx, gateway, mosquitto, rabbitmq
from graph.console import surface as console
from graph.graphql import view
from graph.http.access import Checks
from graph.http.access_log import hide_callback_queries
from graph.http.addresses import ClientAddresses
from graph.http.gate import Gatekeeper
from graph.logs import configure_logging
from graph.rest import (
    bulk_registration,
    device_credentials,
    health,
    metrics,
    new_device_requests,
    tenant_options,
)
from graph.services import Services
from graph.settings import Settings
from graph.shutdown import ShutdownBudget, stop_within
from models.config import orm_config
from resolvers import device_logins, live
from resolvers.auth import Authenticator
from resolvers.broker_sync import install as install_brokers
from resolvers.brokers import broker_for
from resolvers.device_auth import DeviceRules
from resolvers.device_logins import DeviceLogins
from resolvers.live import EventHub
from resolvers.throttling import Throttles
from resolvers.users import LOGIN_TOPIC
from resolvers.webhook_delivery import DeliveryConfig, WebhookDeliverer

log = logging.getLogger("gatehouse")

#: Every surface of the app; each lists its own routes (see the README's map).
SURFACES: tuple[Callable[[Services], list[BaseRoute]], ...] = (
    view.routes,
    health.routes,
    device_credentials.routes,
    console.routes,
    new_device_requests.routes,
    tenant_options.routes,
    bulk_registration.routes,
    rabbitmq.routes,
    emqx.routes,
    mosquitto.routes,
    gateway.routes,
    metrics.routes,
)


def build_services(settings: Settings) -> Services:
    throttles = Throttles(
        settings.broker_url,
        login_max_failures=settings.login_max_failures,
        login_window_seconds=settings.login_window_seconds,
        poll_limit=settings.poll_limit,
        refusal_delay=settings.login_refusal_delay_ms / 1000,
    )
    authenticator = Authenticator(ttl=settings.auth_cache_seconds, throttles=throttles)
    hub = EventHub(
        broker_for(settings.broker_url),
        poll_interval=settings.event_poll_seconds,
        queue_size=settings.subscriber_queue,
        max_lag=settings.subscriber_max_lag_seconds,
    )
    hub.on_invalidate(LOGIN_TOPIC, authenticator.forget)
    devices = DeviceLogins(
        DeviceRules(
            topic_prefix=settings.device_topic_prefix,
            client_id=settings.mqtt_client_id,
            vhost=settings.rabbitmq_vhost,
            exchange=settings.rabbitmq_exchange,
        ),
        ttl=settings.device_auth_cache_seconds,
    )
    hub.on_invalidate(device_logins.TOPIC, devices.forget)
    gate = Gatekeeper(
        Checks(authenticator, settings.internal_networks, devices),
        ClientAddresses(settings.trusted_proxies),
        max_body_bytes=settings.max_body_bytes,
    )
    return Services(
        settings=settings,
        authenticator=authenticator,
        hub=hub,
        gate=gate,
        device_logins=devices,
        throttles=throttles,
    )


def build_deliverer(settings: Settings, hub: EventHub) -> WebhookDeliverer:
    """This process's webhook deliverer (API.md §10.1), woken by the hub's event notices."""
    deliverer = WebhookDeliverer(
        DeliveryConfig(
            allow_private=settings.webhooks_allow_private,
            timeout=settings.webhook_timeout_ms / 1000,
            min_backoff=settings.webhook_min_backoff_ms / 1000,
            max_backoff=settings.webhook_max_backoff_seconds,
            poll_interval=settings.event_poll_seconds,
            lease_seconds=settings.webhook_lease_seconds,
        )
    )
    hub.watch_events(deliverer.notice)
    return deliverer


def _freeze_startup_objects() -> None:
    """Keep what startup built (schema, ORM, routes: about 100,000 objects) out of every
    later garbage collection.

    They live as long as the process, yet each full collection walked them again:
    a request that builds a large answer (``acceptAll`` of 10,000, a 500-row page)
    makes enough objects to trigger one, and with the startup objects in it that
    collection cost 70-130 ms; with them frozen, 30-45 ms (``bench/``, issue 16).
    The garbage of startup is collected first, so nothing freed is kept forever.
    Only a serving process does this (tests build apps with ``manage_orm=False``).
    """
    gc.collect()
    gc.freeze()


def create_app(settings: Settings, *, manage_orm: bool = True) -> Starlette:
    """The ASGI app. With ``manage_orm`` its lifespan opens and closes the database.

    Tests that set up the ORM themselves pass ``manage_orm=False``.
    """
    log_filters.install()  # before the ORM or a websocket logs anything
    services = build_services(settings)
    hide_callback_queries()
    hub = services.hub
    live.install(hub)
    deliverer = build_deliverer(settings, hub)
    sync = BrokerSync(settings, hub, services.device_logins.rules)
    install_brokers(sync.brokers)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Everything started here stops within the shutdown budget's teardown (graph/shutdown.py).
        async with AsyncExitStack() as orm:
            if manage_orm:
                config = orm_config(
                    settings.database_url, timeout=settings.database_timeout_seconds
                )
                await orm.enter_async_context(RegisterTortoise(app, config=config))
                log.info("database ready (%s)", settings.database_url.split("://")[0])
                _freeze_startup_objects()
            await hub.start()
            log.info("event broker: %s", settings.broker_url.split("://")[0])
            deliverer.start()
            await sync.start()
            try:
                yield
            finally:
                await stop_within(
                    ShutdownBudget(settings.shutdown_seconds).teardown,
                    ("broker links", sync.stop),
                    ("webhook deliverer", deliverer.stop),
                    ("event hub", hub.close),
                    ("database connections", orm.aclose),
                )

    app = Starlette(
        routes=[route for surface in SURFACES for route in surface(services)], lifespan=lifespan
    )
    app.state.services = services
    app.state.webhook_deliverer = deliverer
    app.state.broker_sync = sync
    return app


def app_from_env() -> Any:
    """uvicorn factory (``graph.app:app_from_env``) for ``--workers`` and ``--reload``.

    Each worker process starts afresh, so it configures its own logging here.
    """
    settings = Settings.from_env()
    configure_logging(settings)
    return create_app(settings)
