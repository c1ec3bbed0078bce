"""``RegistrationConnection.eventCursor``: subscribe from exactly where a page was read (§7)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.kit.accounts import make_tenant
from tests.kit.clients import GraphQLClient
from tests.kit.devices import poll
from tests.kit.registrations import register

PAGE = """
query($first: Int, $status: [RegistrationStatus!]) {
  registrations(first: $first, status: $status) {
    totalCount eventCursor edges { node { id status } }
  }
}"""
GROUP_PAGE = """
query($id: ID!) { group(id: $id) { registrations { eventCursor edges { node { id } } } } }"""
LOG = """
query($after: String) {
  events(after: $after, first: 1000) { edges { cursor node { kind id status } } }
}"""


async def log_after(client: GraphQLClient, after: str | None) -> list[dict[str, Any]]:
    edges = (await client.data(LOG, after=after))["events"]["edges"]
    return [{"cursor": e["cursor"], **e["node"]} for e in edges]


async def test_event_cursor_is_null_while_the_tenant_log_is_empty(admin: GraphQLClient) -> None:
    acme = await make_tenant(admin, "acme")
    await register(admin, {"id": "management-device"})  # another tenant's log
    page = (await acme.data(PAGE))["registrations"]
    assert page["eventCursor"] is None
    assert page["edges"] == []


async def test_event_cursor_is_the_newest_event_and_nothing_after_it_is_known(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await register(admin, {"id": "cur-1"}, {"id": "cur-2"})
    assert (await poll(http, "cur-1")).status_code == 404
    page = (await admin.data(PAGE, first=1, status=["WAITING_FOR_CONNECTION"]))["registrations"]
    everything = await log_after(admin, None)
    # Whatever the page's filter or size, the cursor is the tenant's newest event.
    assert page["eventCursor"] == everything[-1]["cursor"]
    assert await log_after(admin, page["eventCursor"]) == []
    await register(admin, {"id": "cur-3"})
    assert [e["id"] for e in await log_after(admin, page["eventCursor"])] == ["cur-3"]


async def test_group_registrations_carry_the_event_cursor_too(admin: GraphQLClient) -> None:
    group = (await admin.data('mutation { createGroup(name: "Hall") { id } }'))["createGroup"]
    await register(admin, {"id": "hall-1", "groupId": group["id"]})
    connection = (await admin.data(GROUP_PAGE, id=group["id"]))["group"]["registrations"]
    assert connection["eventCursor"] == (await log_after(admin, None))[-1]["cursor"]


async def test_page_plus_events_after_its_cursor_misses_no_registration_made_meanwhile(
    admin: GraphQLClient,
) -> None:
    """Registrations keep arriving while pages are read: every device that exists at the end
    is in the page or registered after the page's cursor, whatever the interleaving."""
    stop = asyncio.Event()

    async def keep_registering() -> None:
        n = 0
        while not stop.is_set() and n < 400:
            await register(admin, *({"id": f"race-{n + k:04}"} for k in range(5)))
            n += 5

    writer = asyncio.create_task(keep_registering())
    try:
        for _ in range(8):
            page = (await admin.data(PAGE, first=1000))["registrations"]
            listed = {e["node"]["id"] for e in page["edges"]}
            everything = {e["id"] for e in await log_after(admin, None)}
            later = {e["id"] for e in await log_after(admin, page["eventCursor"])}
            # Anything registered by now was either read by the page or comes after the cursor.
            assert everything <= listed | later
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        await writer
