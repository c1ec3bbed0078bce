"""Tenant isolation of every registration operation (API.md §2): B learns nothing of A's."""

from __future__ import annotations

from typing import Any

import httpx

from tests.kit.accounts import make_tenant
from tests.kit.clients import GraphQLClient, error_codes
from tests.kit.devices import TOKEN, pending
from tests.kit.documents import ACCEPT_NOT_FOUND, REGISTRATION, REGISTRATIONS, REMOVE
from tests.kit.groups import create_group
from tests.kit.registrations import accept_all, ids, listing, register

STATE = """
query($id: ID!) { registration(id: $id) { status failedAttempts acceptedBy updatedAt } }"""


async def tenants(admin: GraphQLClient) -> tuple[GraphQLClient, GraphQLClient]:
    return await make_tenant(admin, "tenant-a"), await make_tenant(admin, "tenant-b")


async def snapshot(client: GraphQLClient, *device_ids: str) -> list[dict[str, Any]]:
    return [(await client.data(STATE, id=i))["registration"] for i in device_ids]


async def test_b_cannot_read_as_registrations(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    a, b = await tenants(admin)
    group = await create_group(a, "A's group")
    await register(a, {"id": "a-grouped", "groupId": group}, {"id": "a-loose"})
    await register(b, {"id": "b-own"})

    assert (await b.data(REGISTRATION, id="a-loose"))["registration"] is None
    everything = await listing(b)
    assert (ids(everything), everything["totalCount"]) == (["b-own"], 1)
    assert ids(await listing(b, status=["WAITING_FOR_CONNECTION"])) == ["b-own"]
    assert error_codes(await b(REGISTRATIONS, groupId=group)) == ["NOT_FOUND"]
    assert (await b.data("query($id: ID!) { group(id: $id) { id } }", id=group))["group"] is None


async def test_b_cannot_accept_or_remove_as_registrations(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    a, b = await tenants(admin)
    await register(a, {"id": "a-waiting"})
    await pending(http, a, "a-plain")
    await pending(http, a, "a-token", TOKEN)
    watched = ("a-waiting", "a-plain", "a-token")
    before = await snapshot(a, *watched)

    for device_id in watched:
        # NotFound, never InvalidStatus or SecurityTokenMismatch: B learns nothing.
        for token in (None, "guess", TOKEN):
            result = (await b.data(ACCEPT_NOT_FOUND, id=device_id, token=token))["accept"]
            assert result["__typename"] == "NotFound", (device_id, token, result)
        removed = (await b.data(REMOVE, id=device_id))["removeRegistration"]
        assert removed["__typename"] == "NotFound"
        assert "tenant-a" not in removed["message"]
    assert await snapshot(a, *watched) == before

    # The answers read exactly as for an id nobody registered.
    foreign = (await b.data(ACCEPT_NOT_FOUND, id="a-plain"))["accept"]
    unknown = (await b.data(ACCEPT_NOT_FOUND, id="nobody"))["accept"]
    assert foreign["message"].replace("a-plain", "X") == unknown["message"].replace("nobody", "X")
    foreign = (await b.data(REMOVE, id="a-plain"))["removeRegistration"]
    unknown = (await b.data(REMOVE, id="nobody"))["removeRegistration"]
    assert foreign["message"].replace("a-plain", "X") == unknown["message"].replace("nobody", "X")


async def test_b_accept_all_leaves_as_pending_registrations(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    a, b = await tenants(admin)
    await pending(http, a, "a-plain")
    await pending(http, a, "a-token", TOKEN)
    await pending(http, b, "b-plain")
    result = await accept_all(b)
    assert [r["id"] for r in result["accepted"]] == ["b-plain"]
    assert (result["notAccepted"], result["warning"]) == ([], None)
    assert [s["status"] for s in await snapshot(a, "a-plain", "a-token")] == [
        "PENDING_ACCEPTANCE",
        "PENDING_ACCEPTANCE",
    ]


async def test_b_cannot_register_into_as_group(admin: GraphQLClient) -> None:
    a, b = await tenants(admin)
    group = await create_group(a, "A's group")
    result = await register(b, {"id": "b-dev", "groupId": group})
    assert result["code"] == "NOT_FOUND"
    assert [p["id"] for p in result["problems"]] == ["b-dev"]
    assert ids(await listing(b)) == []
    assert ids(await listing(a, groupId=group)) == []


async def test_management_sees_no_subtenant_registrations(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    a, _ = await tenants(admin)
    await pending(http, a, "a-plain")
    assert (await admin.data(REGISTRATION, id="a-plain"))["registration"] is None
    assert ids(await listing(admin)) == []
    assert (await accept_all(admin))["accepted"] == []
    accepted = (await admin.data(ACCEPT_NOT_FOUND, id="a-plain"))["accept"]
    assert accepted["__typename"] == "NotFound"
    assert (await admin.data(REMOVE, id="a-plain"))["removeRegistration"]["__typename"] == (
        "NotFound"
    )
    assert [s["status"] for s in await snapshot(a, "a-plain")] == ["PENDING_ACCEPTANCE"]
