"""A device's side of registration: polling for credentials and making first contact."""

from __future__ import annotations

from typing import Any

import httpx

from models.events import RegistrationEvent
from models.registrations import Registration
from tests.kit.accounts import BOOTSTRAP_LOGIN, BOOTSTRAP_PASSWORD
from tests.kit.clients import GraphQLClient, basic
from tests.kit.registrations import accept, register

#: The security token the tests' devices present.
TOKEN = "t0ken-of-the-device"
#: The REST endpoint where devices ask for their credentials.
CREDENTIALS_URL = "/devicecontrol/deviceCredentials"


async def poll(
    http: httpx.AsyncClient,
    device_id: str,
    token: str | None = None,
    content_type: str = "application/json",
) -> httpx.Response:
    """One device request for credentials, as the bootstrap user, with ``token`` if given."""
    body: dict[str, Any] = {"id": device_id}
    if token is not None:
        body["securityToken"] = token
    return await http.post(
        CREDENTIALS_URL,
        json=body,
        headers={
            "Authorization": basic(BOOTSTRAP_LOGIN, BOOTSTRAP_PASSWORD),
            "Content-Type": content_type,
        },
    )


async def post_raw(
    http: httpx.AsyncClient,
    content: bytes,
    content_type: str | None = "application/json",
    authorization: str | None = basic(BOOTSTRAP_LOGIN, BOOTSTRAP_PASSWORD),
) -> httpx.Response:
    """A request to the device endpoint with exactly this body and these headers."""
    headers: dict[str, str] = {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if authorization is not None:
        headers["Authorization"] = authorization
    return await http.post(CREDENTIALS_URL, content=content, headers=headers)


async def pending(
    http: httpx.AsyncClient, client: GraphQLClient, device_id: str, token: str | None = None
) -> None:
    """Register ``device_id`` and let it make first contact (with ``token`` if given)."""
    registered = await register(client, {"id": device_id})
    assert registered["__typename"] == "RegisterSuccess", registered
    assert (await poll(http, device_id, token=token)).status_code == 404


async def accepted(
    http: httpx.AsyncClient, client: GraphQLClient, device_id: str, token: str | None = None
) -> None:
    """Register ``device_id``, let it make first contact (with ``token``) and accept it."""
    await pending(http, client, device_id, token=token)
    result = await accept(client, device_id, token)
    assert result["__typename"] == "Registration", result


async def stored_state(device_id: str) -> tuple[list[dict[str, Any]], int]:
    """The registration's whole row and the number of events on the platform."""
    row = await Registration.filter(device_id=device_id).values()
    return row, await RegistrationEvent.all().count()
