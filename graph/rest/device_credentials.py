"""``POST /devicecontrol/deviceCredentials``: the device bootstrap (API.md §4).

A thin adapter over :func:`resolvers.credentials.request_credentials`, like its
GraphQL twin in ``graph/graphql/devices.py``. The gate admits the device
bootstrap login only. Every "not available" answer is the same 404, whatever
the reason, so polling reveals nothing about a registration's state. Request
bodies are never logged: they carry security tokens.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

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


def routes(services: Services) -> list[BaseRoute]:
    public_url = services.settings.public_url

    async def device_credentials(request: Request) -> Response:
        content_type = request.headers.get("content-type", "application/json")
        media_type = content_type.split(";")[0].strip().lower()
        if media_type not in ACCEPTED_MEDIA_TYPES:
            return _error(
                415,
                "general/Unsupported Media Type",
                f"send the body as application/json or {CREDENTIALS_MEDIA_TYPE}",
            )
        try:
            device_id, token = _parse_body(await request.body())
            issued = await request_credentials(
                request.state.actor,
                device_id,
                token,
                client_address=request.state.client_address,
                throttles=services.throttles,
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
            return JSONResponse(NOT_FOUND_BODY, status_code=404)
        base = public_url or str(request.base_url).rstrip("/")
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

    return [
        services.gate.route(
            "/devicecontrol/deviceCredentials",
            device_credentials,
            access=BootstrapLogin(),
            refusal=CUMULOCITY,
            methods=["POST"],
            max_body_bytes=MAX_BODY_BYTES,
        )
    ]
