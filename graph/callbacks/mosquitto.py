"""Mosquitto with mosquitto-go-auth's HTTP backend (API.md §6.3): ``/auth/mosquitto/*``.

For ``auth_opt_http_params_mode json`` (or ``form``) and
``auth_opt_http_response_mode status`` (or ``json``): ``getuser``
``{"username", "password", "clientid"}``, ``superuser`` ``{"username"}`` (devices
never are), ``aclcheck`` ``{"username", "clientid", "topic", "acc"}`` with
Mosquitto's access bits (1 read, 2 write, 3 both, 4 subscribe). Allow is 200
``{"ok": true, "error": ""}``; deny is 403 ``{"ok": false, "error": "<reason>"}``,
so that both response modes read it right: a 2xx never means deny here. A
malformed body is 400, which go-auth reads as deny too.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from graph.callbacks.params import Malformed, fields, text
from graph.http.access import InternalNetwork
from graph.http.gate import Endpoint
from graph.http.refusals import MOSQUITTO
from graph.services import Services
from resolvers.device_auth import MOSQUITTO_ACCESS, Verdict

ALLOW = {"ok": True, "error": ""}
#: go-auth's ``auth_opt_http_method`` may be POST, GET or PUT.
METHODS = ["POST", "GET", "PUT"]


def _deny(reason: str, status: int = 403) -> Response:
    return JSONResponse({"ok": False, "error": reason}, status_code=status)


def _answer(verdict: Verdict) -> Response:
    if verdict.allowed:
        return JSONResponse(ALLOW)
    return _deny(verdict.refusal.value if verdict.refusal else "denied")


def _access(found: dict[str, Any]) -> int:
    """``acc``: an integer in JSON mode, digits in form mode."""
    value = found.get("acc")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise Malformed('"acc" must be an integer (1 read, 2 write, 3 read and write, 4 subscribe)')


def routes(services: Services) -> list[BaseRoute]:
    devices = services.device_logins

    async def getuser(request: Request) -> Response:
        try:
            found = await fields(request)
            username = text(found, "username")
            password = text(found, "password")
            client_id = text(found, "clientid", required=False)
        except Malformed as error:
            return _deny(str(error), 400)
        assert username is not None and password is not None
        return _answer(await devices.login("mosquitto", username, password, client_id))

    async def superuser(request: Request) -> Response:
        try:
            username = text(await fields(request), "username")
        except Malformed as error:
            return _deny(str(error), 400)
        assert username is not None
        return _answer(devices.superuser("mosquitto", username))

    async def aclcheck(request: Request) -> Response:
        try:
            found = await fields(request)
            username = text(found, "username")
            client_id = text(found, "clientid", required=False)
            topic = text(found, "topic")
            access = _access(found)
        except Malformed as error:
            return _deny(str(error), 400)
        assert username is not None and topic is not None
        actions = MOSQUITTO_ACCESS.get(access)
        if actions is None:
            return _deny(f"unknown access {access}: expected 1, 2, 3 or 4")
        return _answer(await devices.mqtt("mosquitto", username, client_id, actions, topic))

    def route(path: str, endpoint: Endpoint) -> BaseRoute:
        return services.gate.route(
            path, endpoint, access=InternalNetwork(), refusal=MOSQUITTO, methods=METHODS
        )

    return [
        route("/auth/mosquitto/getuser", getuser),
        route("/auth/mosquitto/superuser", superuser),
        route("/auth/mosquitto/aclcheck", aclcheck),
    ]
