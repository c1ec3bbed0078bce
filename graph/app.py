"""The Starlette application, assembled from every surface's own ``routes()``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.routing import BaseRoute
from tortoise.contrib.starlette import RegisterTortoise

from graph.graphql import view
from graph.http.access import Checks
from graph.http.addresses import ClientAddresses
from graph.http.gate import Gatekeeper
from graph.rest import device_credentials, health
from graph.services import Services
from graph.settings import Settings
from models.config import orm_config
from resolvers import live
from resolvers.auth import Authenticator
from resolvers.brokers import broker_for
from resolvers.live import EventHub

log = logging.getLogger("gatehouse")

#: Every surface of the app; each lists its own routes (see the README's map).
SURFACES: tuple[Callable[[Services], list[BaseRoute]], ...] = (
    view.routes,
    health.routes,
    device_credentials.routes,
)


def build_services(settings: Settings) -> Services:
    authenticator = Authenticator(ttl=settings.auth_cache_seconds)
    hub = EventHub(
        broker_for(settings.broker_url),
        poll_interval=settings.event_poll_seconds,
        queue_size=settings.subscriber_queue,
        max_lag=settings.subscriber_max_lag_seconds,
    )
    gate = Gatekeeper(
        Checks(authenticator, settings.internal_networks),
        ClientAddresses(settings.trusted_proxies),
        max_body_bytes=settings.max_body_bytes,
    )
    return Services(settings=settings, authenticator=authenticator, hub=hub, gate=gate)


def create_app(settings: Settings, *, manage_orm: bool = True) -> Starlette:
    """The ASGI app. With ``manage_orm`` its lifespan opens and closes the database.

    Tests that set up the ORM themselves pass ``manage_orm=False``.
    """
    services = build_services(settings)
    hub = services.hub
    live.install(hub)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not manage_orm:
            await hub.start()
            yield
            await hub.close()
            return
        config = orm_config(settings.database_url, timeout=settings.database_timeout_seconds)
        async with RegisterTortoise(app, config=config):
            log.info("database ready (%s)", settings.database_url.split("://")[0])
            await hub.start()
            log.info("event broker: %s", settings.broker_url.split("://")[0])
            try:
                yield
            finally:
                await hub.close()

    app = Starlette(
        routes=[route for surface in SURFACES for route in surface(services)], lifespan=lifespan
    )
    app.state.services = services
    return app


def app_from_env() -> Any:
    """uvicorn factory (``graph.app:app_from_env``) for ``--workers`` and ``--reload``."""
    return create_app(Settings.from_env())
