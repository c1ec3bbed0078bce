"""The ``events`` query: the tenant's audit trail, oldest first (API.md §3)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.kit.accounts import make_tenant, make_user
from tests.kit.clients import GraphQLClient, error_codes
from tests.kit.devices import pending
from tests.kit.registrations import accept

EVENTS = """
query($deviceId: ID, $after: String, $first: Int) {
  events(deviceId: $deviceId, after: $after, first: $first) {
    edges { cursor node { cursor kind id status previousStatus actor at registration { status } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def events(client: GraphQLClient, **variables: Any) -> dict[str, Any]:
    result: dict[str, Any] = (await client.data(EVENTS, **variables))["events"]
    return result


async def test_audit_trail_shows_who_accepted_and_the_wrong_tokens(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await pending(http, admin, "audit-1", token="right-token")
    await accept(admin, "audit-1", token="wrong-1")
    await accept(admin, "audit-1", token="wrong-2")
    await accept(admin, "audit-1", token="right-token")
    trail = await events(admin, deviceId="audit-1")
    nodes = [edge["node"] for edge in trail["edges"]]
    assert [n["kind"] for n in nodes] == [
        "REGISTERED",
        "CONNECTED",
        "TOKEN_REJECTED",
        "TOKEN_REJECTED",
        "ACCEPTED",
    ]
    assert nodes[1]["actor"] == "device_audit-1"
    assert nodes[-1]["actor"] == "management/admin"
    assert nodes[-1]["previousStatus"] == "PENDING_ACCEPTANCE"
    assert all(n["registration"] == {"status": "ACCEPTED"} for n in nodes)
    assert trail["pageInfo"] == {"hasNextPage": False, "endCursor": trail["edges"][-1]["cursor"]}
    assert all(edge["cursor"] == edge["node"]["cursor"] for edge in trail["edges"])


async def test_pages_walk_the_log_in_order_without_gaps(admin: GraphQLClient) -> None:
    ids = [f"page-{n}" for n in range(7)]
    for device_id in ids:
        await admin.data(
            "mutation($id: String!) { register(devices: [{id: $id}]) { __typename } }",
            id=device_id,
        )
    seen: list[str] = []
    after = None
    for _ in range(10):
        page = await events(admin, first=3, after=after)
        seen.extend(edge["node"]["id"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ids


async def test_removed_registration_has_null_status_and_state(admin: GraphQLClient) -> None:
    await admin.data('mutation { register(devices: [{id: "gone-1"}]) { __typename } }')
    await admin.data('mutation { removeRegistration(id: "gone-1") { __typename } }')
    nodes = [edge["node"] for edge in (await events(admin, deviceId="gone-1"))["edges"]]
    assert [n["kind"] for n in nodes] == ["REGISTERED", "REMOVED"]
    assert nodes[1]["status"] is None
    assert nodes[1]["registration"] is None
    assert nodes[1]["previousStatus"] == "WAITING_FOR_CONNECTION"


async def test_tenants_see_only_their_own_log_and_cursors(admin: GraphQLClient) -> None:
    acme = await make_tenant(admin, "acme")
    await admin.data('mutation { register(devices: [{id: "mgmt-1"}]) { __typename } }')
    await acme.data('mutation { register(devices: [{id: "acme-1"}]) { __typename } }')
    mine = await events(acme)
    assert [edge["node"]["id"] for edge in mine["edges"]] == ["acme-1"]
    assert (await events(acme, deviceId="mgmt-1"))["edges"] == []
    foreign_cursor = (await events(admin))["edges"][0]["cursor"]
    body = await acme(EVENTS, after=foreign_cursor)
    assert error_codes(body) == ["INVALID_INPUT"]
    assert "another tenant" in body["errors"][0]["message"]
    assert error_codes(await acme(EVENTS, after="garbage")) == ["INVALID_INPUT"]


async def test_reading_the_log_needs_device_control_read(admin: GraphQLClient) -> None:
    inventory_only = await make_user(admin, "clerk", ["INVENTORY_READ"])
    body = await inventory_only(EVENTS)
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["data"] is None


NEWEST_FIRST = """
query($deviceId: ID, $after: String, $first: Int) {
  events(deviceId: $deviceId, after: $after, first: $first, newestFirst: true) {
    edges { cursor node { kind id } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_newest_first_pages_back_through_the_log_for_the_audit_view(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await pending(http, admin, "new-1")
    await pending(http, admin, "new-2")
    await accept(admin, "new-1")
    oldest_first = [(e["node"]["kind"], e["node"]["id"]) for e in (await events(admin))["edges"]]
    seen: list[tuple[str, str]] = []
    after = None
    while True:
        page = (await admin.data(NEWEST_FIRST, after=after, first=2))["events"]
        seen += [(e["node"]["kind"], e["node"]["id"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == oldest_first[::-1]
    assert seen[0] == ("ACCEPTED", "new-1")
    one = (await admin.data(NEWEST_FIRST, deviceId="new-2"))["events"]
    assert [e["node"]["kind"] for e in one["edges"]] == ["CONNECTED", "REGISTERED"]
