"""The ``/graphql`` surface: GraphQL over HTTP, its websocket protocols and GraphiQL (API.md §1)."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.types.unset import UnsetType

from graph.graphql.context import Context
from graph.graphql.graphiql import GraphiQLPage
from graph.graphql.schema import build_schema
from graph.graphql.shared_execution import SharedJson
from graph.graphql.websockets import TransportWSHandler, authenticate_websocket
from graph.http.access import UserLogin
from graph.http.gate import new_request_id
from graph.http.refusals import GRAPHQL
from graph.services import Services
from graph.settings import Settings
from resolvers.auth import Authenticator
from resolvers.throttling import Throttles


class GatehouseGraphQL(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler

    def __init__(
        self,
        settings: Settings,
        authenticator: Authenticator,
        graphiql: GraphiQLPage | None,
        throttles: Throttles | None = None,
    ) -> None:
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
        self.throttles = throttles or Throttles()
        self.shared_json = SharedJson()
        self.graphiql = graphiql

    async def render_graphql_ide(self, request: Request) -> Response:
        # Our own page, whose scripts and styles Gatehouse serves (no CDN).
        assert self.graphiql is not None
        return self.graphiql.response()

    def encode_json(self, data: object) -> str | bytes:
        # Websocket messages: a subscription result shared by many subscribers is
        # encoded once (graph/graphql/shared_execution.py); everything else as usual.
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
            throttles=self.throttles,
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        # graphql-transport-ws authenticated in its handler already; this serves legacy
        # graphql-ws, whose handler answers the raised rejection with connection_error.
        if context.actor is None:
            await authenticate_websocket(context, context.connection_params or {})
        return await super().on_ws_connect(context)


def routes(services: Services) -> list[BaseRoute]:
    """``/graphql``: any valid login over HTTP (each field checks its permission)."""
    graphiql = GraphiQLPage() if services.settings.graphiql else None
    view = GatehouseGraphQL(services.settings, services.authenticator, graphiql, services.throttles)
    routes = [
        services.gate.route(
            "/graphql", view, access=UserLogin(), refusal=GRAPHQL, methods=["GET", "POST"]
        ),
        services.gate.websocket_route("/graphql", view),
    ]
    if graphiql is not None:
        routes.append(graphiql.assets.route(services.gate))  # public: static files only
    return routes
