"""What the operator sees of a possible takeover (API.md §7, §9.6): where a pending device
connected from, and "Credentials requested again" once a poll comes after delivery."""

from __future__ import annotations

import httpx
from playwright.async_api import Page, expect

from tests.kit.clients import GraphQLClient
from tests.kit.console import live, open_console, row
from tests.kit.device_logins import issue
from tests.kit.devices import poll
from tests.kit.registrations import register

CONNECTED_FROM = "query($id: ID!) { registration(id: $id) { connectedFrom } }"


async def test_a_pending_row_shows_where_the_device_connected_from(
    page: Page, http: httpx.AsyncClient, tenant: GraphQLClient
) -> None:
    await register(tenant, {"id": "TRACE-1"})
    await open_console(page, tenant)
    target = row(page, "TRACE-1")
    await expect(target).to_contain_text("Waiting for connection")
    await expect(target).not_to_contain_text("Connected from")
    assert (await poll(http, "TRACE-1")).status_code == 404  # first contact, from 127.0.0.1
    await expect(target).to_contain_text("Pending acceptance")
    await expect(target).to_contain_text("Connected from 127.0.0.1")
    seen = await tenant.data(CONNECTED_FROM, id="TRACE-1")
    assert seen == {"registration": {"connectedFrom": "127.0.0.1"}}


async def test_a_poll_after_delivery_flags_the_row_live_and_after_a_reload(
    page: Page, http: httpx.AsyncClient, tenant: GraphQLClient
) -> None:
    await issue(http, tenant, "TRACE-2")
    await open_console(page, tenant)
    target = row(page, "TRACE-2")
    await expect(target).to_contain_text("Credentials delivered")
    await expect(target).not_to_contain_text("Credentials requested again")
    # Somebody (the device, or whoever took its credentials) asks again: the same 404.
    assert (await poll(http, "TRACE-2")).status_code == 404
    await expect(target.get_by_role("note")).to_contain_text("Credentials requested again")
    await page.reload()
    await live(page)
    await expect(row(page, "TRACE-2")).to_contain_text("Credentials requested again")
