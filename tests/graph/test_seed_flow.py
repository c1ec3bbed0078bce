"""The seed scenario end to end, through the real HTTP app (API.md §4, §5)."""

from __future__ import annotations

import httpx

from tests.kit.clients import GraphQLClient
from tests.kit.devices import poll
from tests.kit.documents import ACCEPT, REGISTRATION
from tests.kit.registrations import register


async def test_register_poll_accept_collect_once(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    registered = await register(admin, {"id": "IMEI-0001"})
    assert registered["__typename"] == "RegisterSuccess"
    assert registered["registrations"][0]["status"] == "WAITING_FOR_CONNECTION"
    assert registered["registrations"][0]["owner"] == "management/admin"

    first = await poll(http, "IMEI-0001")
    assert first.status_code == 404
    assert first.json()["error"] == "devicecontrol/Not Found"
    state = (await admin.data(REGISTRATION, id="IMEI-0001"))["registration"]
    assert state["status"] == "PENDING_ACCEPTANCE"
    assert state["connectedAt"] is not None
    assert state["usesSecurityToken"] is False

    assert (await poll(http, "IMEI-0001")).status_code == 404

    accepted = (await admin.data(ACCEPT, id="IMEI-0001"))["accept"]
    assert accepted["__typename"] == "Registration"
    assert accepted["status"] == "ACCEPTED"
    assert accepted["acceptedBy"] == "management/admin"

    issued = await poll(http, "IMEI-0001")
    assert issued.status_code == 201
    body = issued.json()
    assert body["id"] == "IMEI-0001"
    assert body["tenantId"] == "management"
    assert body["username"] == "device_IMEI-0001"
    assert len(body["password"]) >= 22
    assert body["self"] == "http://gatehouse.test/devicecontrol/deviceCredentials/IMEI-0001"

    again = await poll(http, "IMEI-0001")
    assert again.status_code == 404
    assert again.json() == first.json()
    state = (await admin.data(REGISTRATION, id="IMEI-0001"))["registration"]
    assert state["credentialsDeliveredAt"] is not None


async def test_device_with_token_needs_matching_token(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await register(admin, {"id": "SN-7"})
    assert (await poll(http, "SN-7", token="s3cret-token")).status_code == 404
    wrong = (await admin.data(ACCEPT, id="SN-7", token="guess"))["accept"]
    assert wrong["__typename"] == "SecurityTokenMismatch"
    assert wrong["code"] == "SECURITY_TOKEN_MISMATCH"
    assert "SN-7" in wrong["message"]
    assert wrong["failedAttempts"] == 1
    assert wrong["attemptsLeft"] == 4
    right = (await admin.data(ACCEPT, id="SN-7", token="s3cret-token"))["accept"]
    assert right["__typename"] == "Registration"
    assert (await poll(http, "SN-7", token="other-token")).status_code == 404
    assert (await poll(http, "SN-7")).status_code == 404
    issued = await poll(
        http,
        "SN-7",
        token="s3cret-token",
        content_type="application/vnd.com.nsn.cumulocity.devicecredentials+json",
    )
    assert issued.status_code == 201
    assert issued.headers["content-type"].startswith(
        "application/vnd.com.nsn.cumulocity.devicecredentials+json"
    )
