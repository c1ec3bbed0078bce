"""``POST /devicecontrol/deviceCredentials``: the device bootstrap (API.md §4).

A thin adapter over :func:`resolvers.credentials.request_credentials`, like its
GraphQL twin in ``graph/graphql/devices.py``. The gate admits the device
bootstrap login only. Every "not available" answer is the same 404, whatever
the reason, so polling reveals nothing about a registration's state. Request
bodies are never logged: they carry security tokens.

This is the route a roll-out storms (every device polls every few seconds), so
it is a bare ASGI app rather than a Starlette request handler: it reads the
body the gate already read, and answers the 404, by far its most frequent
answer, from bytes rendered once (the same bytes and headers ``JSONResponse``
gives). Every other answer is a Starlette response as before.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send

from graph.http.access import BootstrapLogin
from graph.http.bodies import MalformedJson, parse_json
from graph.http.refusals import CUMULOCITY
from graph.services import Services
from resolvers.credentials import request_credentials
from resolvers.errors import InvalidInput, ServiceUnavailable, Throttled

CREDENTIALS_MEDIA_TYPE = "application/vnd.com.nsn.cumulocity.devicecredentials+json"
ACCEPTED_MEDIA_TYPES = {"application/json", CREDENTIALS_MEDIA_TYPE}
MAX_BODY_BYTES = 16 * 1024
NOT_FOUND_BODY = {
    "error": "devicecontrol/Not Found",
    "message": "No credentials are available for this device. "
    "Keep polling until its registration is accepted.",
}

UNAVAILABLE_BODY = {
    "error": "general/Service Unavailable",
    "message": "The device's credentials could not be confirmed with its broker. Poll again later.",
}
RETRY_AFTER_SECONDS = "5"

_NOT_FOUND = JSONResponse(NOT_FOUND_BODY, status_code=404)
#: The 404's headers and body, exactly as ``JSONResponse(NOT_FOUND_BODY, status_code=404)``.
NOT_FOUND_HEADERS: list[tuple[bytes, bytes]] = list(_NOT_FOUND.raw_headers)
NOT_FOUND_BYTES: bytes = bytes(_NOT_FOUND.body)


def _error(status: int, error: str, message: str) -> JSONResponse:
    return JSONResponse({"error": error, "message": message}, status_code=status)


def _parse_body(raw: bytes) -> tuple[str, str | None]:
    """The device id and token from a request body, or :class:`InvalidInput`."""
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidInput(f"the body must be at most {MAX_BODY_BYTES} bytes")
    try:
        body: Any = parse_json(raw)
    except MalformedJson as error:
        raise InvalidInput(str(error)) from None
    if not isinstance(body, dict):
        raise InvalidInput('the body must be a JSON object like {"id": "<device id>"}')
    device_id = body.get("id")
    if not isinstance(device_id, str) or not device_id:
        raise InvalidInput('the body must have "id", the device id, as a non-empty string')
    token = body.get("securityToken")
    if token is not None and not isinstance(token, str):
        raise InvalidInput('"securityToken" must be a string when given')
    return device_id, token


async def _read_body(receive: Receive) -> bytes:
    """The request body (the gate read it already: one message, unless called otherwise)."""
    message = await receive()
    body: bytes = message.get("body", b"")
    while message.get("more_body", False):
        message = await receive()
        body += message.get("body", b"")
    return body


async def _send_not_found(send: Send) -> None:
    await send({"type": "http.response.start", "status": 404, "headers": NOT_FOUND_HEADERS})
    await send({"type": "http.response.body", "body": NOT_FOUND_BYTES})


class DeviceCredentialsApp:
    """The endpoint, as an ASGI app behind the gate (``scope["state"]`` holds the actor)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.answer(scope, receive)
        if response is None:
            await _send_not_found(send)
        else:
            await response(scope, receive, send)

    async def answer(self, scope: Scope, receive: Receive) -> Response | None:
        """The answer to one poll; ``None`` for the 404 of API.md §4."""
        content_type = Headers(scope=scope).get("content-type", "application/json")
        media_type = content_type.split(";")[0].strip().lower()
        if media_type not in ACCEPTED_MEDIA_TYPES:
            return _error(
                415,
                "general/Unsupported Media Type",
                f"send the body as application/json or {CREDENTIALS_MEDIA_TYPE}",
            )
        state = scope["state"]
        try:
            device_id, token = _parse_body(await _read_body(receive))
            issued = await request_credentials(
                state["actor"],
                device_id,
                token,
                client_address=state["client_address"],
                throttles=self.services.throttles,
            )
        except InvalidInput as error:
            return _error(422, "devicecontrol/Unprocessable Entity", error.message)
        except Throttled as throttled:
            response = _error(429, "devicecontrol/Too Many Requests", throttled.message)
            response.headers["Retry-After"] = str(throttled.retry_after)
            return response
        except ServiceUnavailable:
            # Nothing was delivered (API.md §10.2): the device polls again, as it does anyway.
            return JSONResponse(
                UNAVAILABLE_BODY, status_code=503, headers={"Retry-After": RETRY_AFTER_SECONDS}
            )
        if issued is None:
            return None
        public_url = self.services.settings.public_url
        base = public_url or str(Request(scope).base_url).rstrip("/")
        return JSONResponse(
            {
                "id": issued.device_id,
                "tenantId": issued.tenant_id,
                "username": issued.username,
                "password": issued.password,
                "self": f"{base}/devicecontrol/deviceCredentials/{issued.device_id}",
            },
            status_code=201,
            media_type=media_type,
            headers={"Cache-Control": "no-store"},
        )


def routes(services: Services) -> list[BaseRoute]:
    return [
        services.gate.route(
            "/devicecontrol/deviceCredentials",
            DeviceCredentialsApp(services),
            access=BootstrapLogin(),
            refusal=CUMULOCITY,
            methods=["POST"],
            max_body_bytes=MAX_BODY_BYTES,
        )
    ]
