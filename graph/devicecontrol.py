"""The device side (API.md §4): ``POST /devicecontrol/deviceCredentials`` and its GraphQL twin.

Both are thin adapters over :func:`resolvers.credentials.request_credentials`.
Every "not available" answer is the same 404, whatever the reason, so polling
reveals nothing about a registration's state. Request bodies are never logged:
they carry security tokens.
"""

from __future__ import annotations

import json
from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from graph.arguments import given
from graph.auth import REALM, authenticate_header
from graph.context import Info
from graph.permissions import can
from resolvers.auth import Authenticator
from resolvers.credentials import IssuedCredentials, may_request, request_credentials
from resolvers.errors import InvalidInput
from resolvers.permissions import Permission

CREDENTIALS_MEDIA_TYPE = "application/vnd.com.nsn.cumulocity.devicecredentials+json"
ACCEPTED_MEDIA_TYPES = {"application/json", CREDENTIALS_MEDIA_TYPE}
MAX_BODY_BYTES = 16 * 1024
NOT_FOUND_BODY = {
    "error": "devicecontrol/Not Found",
    "message": "No credentials are available for this device. "
    "Keep polling until its registration is accepted.",
}


def _error(status: int, error: str, message: str) -> JSONResponse:
    return JSONResponse({"error": error, "message": message}, status_code=status)


def _parse_body(raw: bytes) -> tuple[str, str | None]:
    """The device id and token from a request body, or :class:`InvalidInput`."""
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidInput(f"the body must be at most {MAX_BODY_BYTES} bytes")
    try:
        body: Any = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise InvalidInput('the body must be a JSON object like {"id": "<device id>"}')
    device_id = body.get("id")
    if not isinstance(device_id, str) or not device_id:
        raise InvalidInput('the body must have "id", the device id, as a non-empty string')
    token = body.get("securityToken")
    if token is not None and not isinstance(token, str):
        raise InvalidInput('"securityToken" must be a string when given')
    return device_id, token or None


def credentials_endpoint(authenticator: Authenticator, public_url: str | None) -> Any:
    async def device_credentials(request: Request) -> Response:
        actor = await authenticate_header(authenticator, request.headers.get("authorization"))
        if actor is None or not may_request(actor):
            response = _error(
                401, "security/Unauthorized", "log in with the device bootstrap credentials"
            )
            response.headers["WWW-Authenticate"] = REALM
            return response
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
            issued = await request_credentials(actor, device_id, token)
        except InvalidInput as error:
            return _error(422, "devicecontrol/Unprocessable Entity", error.message)
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

    return device_credentials


@strawberry.type
class DeviceCredentials:
    id: strawberry.ID
    tenant_id: str
    username: str
    password: str

    @classmethod
    def from_issued(cls, issued: IssuedCredentials) -> DeviceCredentials:
        return cls(
            id=strawberry.ID(issued.device_id),
            tenant_id=issued.tenant_id,
            username=issued.username,
            password=issued.password,
        )


@strawberry.type
class DeviceMutations:
    @strawberry.mutation(
        permission_classes=[can(Permission.DEVICE_BOOTSTRAP)],
        description="DEVICE_BOOTSTRAP callers only: the GraphQL twin of "
        "POST /devicecontrol/deviceCredentials (§4); null while not available.",
    )
    async def request_device_credentials(
        self, info: Info, id: strawberry.ID, security_token: str | None = strawberry.UNSET
    ) -> DeviceCredentials | None:
        issued = await request_credentials(info.context.caller, id, given(security_token))
        return DeviceCredentials.from_issued(issued) if issued else None
