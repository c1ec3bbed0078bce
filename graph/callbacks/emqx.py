"""EMQX 5 HTTP authentication and authorization (API.md §6.2): ``/auth/emqx/*``.

``POST /auth/emqx/authenticate`` ``{"username", "password", "clientid"}`` and
``POST /auth/emqx/authorize`` ``{"username", "clientid", "topic", "action"}``
(JSON, or a form body when EMQX is configured to send one). Every well-formed
request is answered 200 with ``{"result": "allow"}`` or ``{"result": "deny"}``,
never ``ignore`` and never another status, because EMQX reads both as "ask the
next source", which may allow anything. A malformed body is 400.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from graph.callbacks.params import Malformed, fields, text
from graph.http.access import InternalNetwork
from graph.http.gate import Endpoint
from graph.http.refusals import EMQX
from graph.services import Services
from resolvers.device_auth import Action

ACTIONS = {"publish": Action.PUBLISH, "subscribe": Action.SUBSCRIBE}
DENY = {"result": "deny"}


def _malformed(error: Malformed) -> Response:
    return JSONResponse({"error": str(error)}, status_code=400)


def routes(services: Services) -> list[BaseRoute]:
    devices = services.device_logins

    async def authenticate(request: Request) -> Response:
        try:
            found = await fields(request)
            username = text(found, "username")
            password = text(found, "password")
            client_id = text(found, "clientid", required=False)
        except Malformed as error:
            return _malformed(error)
        assert username is not None and password is not None
        verdict = await devices.login("emqx", username, password, client_id)
        if not verdict.allowed:
            return JSONResponse(DENY)
        return JSONResponse({"result": "allow", "is_superuser": False})

    async def authorize(request: Request) -> Response:
        try:
            found = await fields(request)
            username = text(found, "username")
            client_id = text(found, "clientid", required=False)
            topic = text(found, "topic")
            action = text(found, "action")
        except Malformed as error:
            return _malformed(error)
        assert username is not None and topic is not None and action is not None
        wanted = ACTIONS.get(action)
        if wanted is None:  # EMQX sends only these two; deny rather than "ignore"
            return JSONResponse(DENY)
        verdict = await devices.mqtt("emqx", username, client_id, (wanted,), topic)
        return JSONResponse({"result": "allow"} if verdict.allowed else DENY)

    def route(path: str, endpoint: Endpoint) -> BaseRoute:
        return services.gate.route(
            path, endpoint, access=InternalNetwork(), refusal=EMQX, methods=["POST"]
        )

    return [
        route("/auth/emqx/authenticate", authenticate),
        route("/auth/emqx/authorize", authorize),
    ]
