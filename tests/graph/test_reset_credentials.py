"""``resetCredentials`` (API.md §6.5): the old password stops; the next poll collects a new one."""

from __future__ import annotations

import asyncio

import httpx

from tests.kit.accounts import ALL_PERMISSIONS, make_tenant, make_user
from tests.kit.clients import GraphQLClient, error_codes
from tests.kit.device_logins import issue, rabbitmq_user, reset
from tests.kit.devices import TOKEN, pending, poll
from tests.kit.documents import RESET_CREDENTIALS
from tests.kit.registrations import accept, event_kinds, state


async def test_reset_revokes_the_password_and_the_next_poll_collects_a_new_one_once(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    first = await issue(http, admin, "SN-1", token=TOKEN)
    assert await rabbitmq_user(http, "device_SN-1", first["password"]) == "allow"

    result = await reset(admin, "SN-1")
    assert result["__typename"] == "Registration"
    assert result["status"] == "ACCEPTED"
    assert result["credentialsDeliveredAt"] is None
    assert await rabbitmq_user(http, "device_SN-1", first["password"]) == "deny"

    again = await poll(http, "SN-1", token=TOKEN)
    assert again.status_code == 201
    second = again.json()
    assert second["username"] == "device_SN-1"
    assert second["password"] != first["password"]
    assert (await poll(http, "SN-1", token=TOKEN)).status_code == 404  # once
    assert await rabbitmq_user(http, "device_SN-1", second["password"]) == "allow"
    assert await rabbitmq_user(http, "device_SN-1", first["password"]) == "deny"
    assert (await state(admin, "SN-1"))["credentialsDeliveredAt"] is not None


async def test_after_a_reset_the_new_password_needs_the_token_of_first_contact(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await issue(http, admin, "SN-1", token=TOKEN)
    await reset(admin, "SN-1")
    assert (await poll(http, "SN-1", token="some-other-token")).status_code == 404
    assert (await poll(http, "SN-1")).status_code == 404
    assert (await poll(http, "SN-1", token=TOKEN)).status_code == 201


async def test_a_device_without_a_token_collects_again_with_or_without_one(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await issue(http, admin, "SN-1")
    await reset(admin, "SN-1")
    assert (await poll(http, "SN-1", token="anything")).status_code == 201


async def test_reset_writes_one_credentials_reset_event(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await issue(http, admin, "SN-1")
    await reset(admin, "SN-1")
    kinds = await event_kinds("SN-1")
    assert kinds == [
        "REGISTERED",
        "CONNECTED",
        "ACCEPTED",
        "CREDENTIALS_DELIVERED",
        "CREDENTIALS_RESET",
    ]
    events = await admin.data(
        '{ events(deviceId: "SN-1") { edges { node { kind status previousStatus actor } } } }'
    )
    last = events["events"]["edges"][-1]["node"]
    assert last == {
        "kind": "CREDENTIALS_RESET",
        "status": "ACCEPTED",
        "previousStatus": "ACCEPTED",
        "actor": "management/admin",
    }


async def test_only_a_delivered_accepted_registration_can_be_reset(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await pending(http, admin, "PENDING-1")
    result = await reset(admin, "PENDING-1")
    assert (result["__typename"], result["code"], result["status"]) == (
        "InvalidStatus",
        "INVALID_STATUS",
        "PENDING_ACCEPTANCE",
    )
    await pending(http, admin, "ACCEPTED-1")
    await accept(admin, "ACCEPTED-1")
    result = await reset(admin, "ACCEPTED-1")
    assert (result["__typename"], result["status"]) == ("InvalidStatus", "ACCEPTED")
    await issue(http, admin, "SN-1")
    assert (await reset(admin, "SN-1"))["__typename"] == "Registration"
    assert (await reset(admin, "SN-1"))["__typename"] == "InvalidStatus"  # nothing left to reset
    assert await event_kinds("ACCEPTED-1") == ["REGISTERED", "CONNECTED", "ACCEPTED"]


async def test_another_tenants_device_is_not_found_and_keeps_working(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    acme = await make_tenant(admin, "acme")
    issued = await issue(http, acme, "ACME-1")
    result = await reset(admin, "ACME-1")
    assert (result["__typename"], result["code"]) == ("NotFound", "NOT_FOUND")
    assert (await reset(admin, "NO-SUCH-DEVICE"))["__typename"] == "NotFound"
    assert await rabbitmq_user(http, "device_ACME-1", issued["password"]) == "allow"


async def test_reset_needs_device_control_admin(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    issued = await issue(http, admin, "SN-1")
    reader = await make_user(
        admin, "reader", [p for p in ALL_PERMISSIONS if p != "DEVICE_CONTROL_ADMIN"]
    )
    body = await reader(RESET_CREDENTIALS, id="SN-1")
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["data"] is None
    assert await rabbitmq_user(http, "device_SN-1", issued["password"]) == "allow"


async def test_concurrent_resets_reset_once(
    db: str, http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await issue(http, admin, "SN-1")
    results = await asyncio.gather(*(reset(admin, "SN-1") for _ in range(6)))
    kinds = sorted(r["__typename"] for r in results)
    assert kinds == ["InvalidStatus"] * 5 + ["Registration"]
    assert (await event_kinds("SN-1")).count("CREDENTIALS_RESET") == 1
    collected = await asyncio.gather(*(poll(http, "SN-1") for _ in range(6)))
    assert sorted(r.status_code for r in collected) == [201] + [404] * 5
