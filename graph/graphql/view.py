"""The ``/graphql`` surface: GraphQL over HTTP, its websocket protocols and GraphiQL (API.md §1)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, cast

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.http.async_base_view import AsyncHTTPRequestAdapter
from strawberry.http.parse_content_type import parse_content_type
from strawberry.types import ExecutionResult
from strawberry.types.unset import UnsetType

from graph.graphql.context import Context
from graph.graphql.direct_delivery import passes_results_through
from graph.graphql.graphiql import GraphiQLPage
from graph.graphql.json_text import json_text
from graph.graphql.schema import build_schema
from graph.graphql.shared_execution import SharedJson
from graph.graphql.websockets import LegacyWSHandler, TransportWSHandler, authenticate_websocket
from graph.http.access import UserLogin
from graph.http.bodies import MalformedJson, TooManyJsonValues, parse_json
from graph.http.gate import new_request_id
from graph.http.refusals import GRAPHQL
from graph.services import Services
from graph.settings import Settings
from resolvers import availability
from resolvers.auth import Authenticator
from resolvers.throttling import Throttles

#: The media types of a GraphQL request body (GraphQL over HTTP), matched exactly.
JSON_MEDIA_TYPES = frozenset({"application/json", "application/graphql-response+json"})


class _WithContentType:
    """A request adapter that reports another content type; everything else as it is."""

    def __init__(self, request: AsyncHTTPRequestAdapter, content_type: str) -> None:
        self._request = request
        self.content_type = content_type

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)


class GatehouseGraphQL(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

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
        #: Whether the event feed may send subscription results itself (direct_delivery.py).
        self.direct_delivery = passes_results_through(self.schema)
        self.graphiql = graphiql

    async def render_graphql_ide(self, request: Request) -> Response:
        # Our own page, whose scripts and styles Gatehouse serves (no CDN).
        assert self.graphiql is not None
        return self.graphiql.response()

    def encode_json(self, data: object) -> str | bytes:
        # HTTP answers and websocket messages. A subscription result shared by many
        # subscribers is encoded once (graph/graphql/shared_execution.py).
        return self.shared_json.next_message(data) or json_text(data)

    def decode_json(self, data: str | bytes) -> object:
        # Websocket messages: strawberry closes the socket with 4400 on a JSONDecodeError.
        try:
            return parse_json(data)
        except MalformedJson as error:
            raise json.JSONDecodeError(str(error), "", 0) from None

    def parse_json(self, data: str | bytes) -> object:
        # Request bodies and query parameters: 400 with the reason.
        try:
            return parse_json(data)
        except TooManyJsonValues as error:
            raise HTTPException(413, str(error)) from None
        except MalformedJson as error:
            raise HTTPException(400, str(error)) from None

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "POST":
            media_type, _ = parse_content_type(request.content_type or "")
            if media_type.strip().lower() not in JSON_MEDIA_TYPES:
                raise HTTPException(
                    415, "send the GraphQL request as application/json (Content-Type)"
                )
            # strawberry looks for "application/json" in the header as written; media
            # types are case-insensitive, so it is shown the type alone, in lower case.
            request = cast(AsyncHTTPRequestAdapter, _WithContentType(request, "application/json"))
        return await super().parse_http_body(request)

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        result = await super().execute_single(*args, **kwargs)
        if any(
            (error.extensions or {}).get("code") == "SERVICE_UNAVAILABLE"
            for error in result.errors or ()
        ):
            # The database did not answer: 503 (with the GraphQL body), so that clients
            # and load balancers that look at the status retry instead of giving up.
            sub_response = kwargs["sub_response"]
            sub_response.status_code = 503
            sub_response.headers["Retry-After"] = str(availability.RETRY_AFTER_SECONDS)
        return result

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
