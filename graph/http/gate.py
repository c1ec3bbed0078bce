"""The one way into the app: every route is a :class:`Gate` around its endpoint.

For each request the gate gives a request id, computes the client address once
(``graph/http/addresses.py``), runs the route's access check
(``graph/http/access.py``) and either answers the route's refusal
(``graph/http/refusals.py``) or hands the request on with ``request.state``
holding ``request_id``, ``client_address`` and ``actor`` (or ``device``, for
routes that admit a device's own credentials).

Websocket connections pass the gate with their request id and client address
only: the GraphQL websocket protocols authenticate in ``connection_init`` and
answer with close codes (API.md §1), which only the protocol handler can send
(``graph/graphql/websockets.py``).
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable, Sequence

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute, request_response
from starlette.types import ASGIApp, Receive, Scope, Send

from graph import logs
from graph.http.access import Access, Caller, Checks, Denied
from graph.http.addresses import ClientAddresses
from graph.http.refusals import Refusal
from resolvers.device_auth import DeviceLogin

Endpoint = Callable[[Request], Awaitable[Response]]


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


class Gate:
    """ASGI app: one route's access check and refusal in front of its endpoint.

    ``access`` and ``refusal`` are ``None`` for websockets (see the module docstring).
    """

    def __init__(
        self,
        app: ASGIApp,
        keeper: Gatekeeper,
        access: Access | None = None,
        refusal: Refusal | None = None,
    ) -> None:
        self.app = app
        self.keeper = keeper
        self.access = access
        self.refusal = refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.setdefault("state", {})
        state.setdefault("request_id", new_request_id())
        logs.request_id.set(state["request_id"])
        client_address = state["client_address"] = self.keeper.addresses.of(scope)
        if scope["type"] == "http" and self.access is not None and self.refusal is not None:
            caller = Caller(Headers(scope=scope), client_address)
            try:
                admitted = await self.access.admit(caller, self.keeper.checks)
            except Denied as denied:
                await self.refusal.response(denied, caller)(scope, receive, send)
                return
            state["device" if isinstance(admitted, DeviceLogin) else "actor"] = admitted
        await self.app(scope, receive, send)


class Gatekeeper:
    """Builds gated routes; one per app, holding what every gate checks against."""

    def __init__(self, checks: Checks, addresses: ClientAddresses) -> None:
        self.checks = checks
        self.addresses = addresses

    def route(
        self,
        path: str,
        endpoint: Endpoint | ASGIApp,
        *,
        access: Access,
        refusal: Refusal,
        methods: Sequence[str],
    ) -> Route:
        """An HTTP route; ``endpoint`` is a Starlette request handler or an ASGI app."""
        if inspect.isfunction(endpoint) or inspect.ismethod(endpoint):
            app: ASGIApp = request_response(endpoint)
        else:
            app = endpoint  # type: ignore[assignment]
        return Route(path, Gate(app, self, access, refusal), methods=list(methods))

    def websocket_route(self, path: str, app: ASGIApp) -> BaseRoute:
        """A websocket route: request id and client address here, the login in the protocol."""
        return WebSocketRoute(path, Gate(app, self))
