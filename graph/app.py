"""The Starlette application: ``/graphql`` (HTTP, websockets, GraphiQL) and ``/health``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.types.unset import UnsetType
from tortoise.contrib.starlette import RegisterTortoise

from graph.auth import BasicAuthGate, new_request_id
from graph.context import Context
from graph.devicecontrol import credentials_endpoint
from graph.schema import build_schema
from graph.settings import Settings
from graph.shared_execution import SharedJson
from graph.websockets import TransportWSHandler, authenticate_websocket
from models.config import orm_config
from resolvers import live
from resolvers.auth import Authenticator
from resolvers.brokers import broker_for
from resolvers.health import database_reachable
from resolvers.live import EventHub

log = logging.getLogger("gatehouse")


class GatehouseGraphQL(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler

    def __init__(self, settings: Settings, authenticator: Authenticator) -> None:
        super().__init__(
            build_schema(settings),
            graphql_ide="graphiql" if settings.graphiql else None,
            keep_alive=True,
            keep_alive_interval=15,
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        )
        self.settings = settings
        self.authenticator = authenticator
        self.shared_json = SharedJson()

    def encode_json(self, data: object) -> str | bytes:
        # Websocket messages: a subscription result shared by many subscribers is
        # encoded once (graph/shared_execution.py); everything else as usual.
        return self.shared_json.next_message(data) or super().encode_json(data)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        state = request.scope.get("state", {})
        return Context(
            request=request,
            response=response,
            settings=self.settings,
            authenticator=self.authenticator,
            request_id=state.get("request_id") or new_request_id(),
            actor=state.get("actor"),
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        # graphql-transport-ws authenticated in its handler already; this serves legacy
        # graphql-ws, whose handler answers the raised rejection with connection_error.
        if context.actor is None:
            await authenticate_websocket(context, context.connection_params or {})
        return await super().on_ws_connect(context)


async def health(request: Request) -> JSONResponse:
    if await database_reachable():
        return JSONResponse({"status": "ok"})
    return JSONResponse({"status": "unavailable", "reason": "database unreachable"}, 503)


def create_app(settings: Settings, *, manage_orm: bool = True) -> Starlette:
    """The ASGI app. With ``manage_orm`` its lifespan opens and closes the database.

    Tests that set up the ORM themselves pass ``manage_orm=False``.
    """
    authenticator = Authenticator(ttl=settings.auth_cache_seconds)
    graphql = BasicAuthGate(GatehouseGraphQL(settings, authenticator), authenticator)
    hub = EventHub(
        broker_for(settings.broker_url),
        poll_interval=settings.event_poll_seconds,
        queue_size=settings.subscriber_queue_size,
        max_lag=settings.subscriber_max_lag_seconds,
    )
    live.install(hub)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if not manage_orm:
            await hub.start()
            yield
            await hub.close()
            return
        async with RegisterTortoise(app, config=orm_config(settings.database_url)):
            log.info("database ready (%s)", settings.database_url.split("://")[0])
            await hub.start()
            log.info("event broker: %s", settings.broker_url.split("://")[0])
            try:
                yield
            finally:
                await hub.close()

    app = Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/health", health, methods=["GET"]),
            Route(
                "/devicecontrol/deviceCredentials",
                credentials_endpoint(authenticator, settings.public_url),
                methods=["POST"],
            ),
        ],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.authenticator = authenticator
    app.state.hub = hub
    return app


def app_from_env() -> Any:
    """uvicorn factory (``graph.app:app_from_env``) for ``--workers`` and ``--reload``."""
    return create_app(Settings.from_env())
