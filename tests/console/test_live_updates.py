"""The page's live updates: resume after a cut websocket, and server data kept as text."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Dialog, Page, WebSocketRoute, expect

from tests.kit.clients import GraphQLClient
from tests.kit.console import live, open_console, row
from tests.kit.devices import poll
from tests.kit.registrations import accept, register

XSS = "<img src=x onerror=alert(1)>"
XSS_ACTOR = "<script>alert(2)</script>"


class SocketSwitch:
    """Routes the page's websockets to the server until cut; records what passes."""

    def __init__(self) -> None:
        self.up = True
        self.open: list[WebSocketRoute] = []
        self.subscribe_payloads: list[dict[str, Any]] = []
        self.cursors: list[str] = []  # of every event the page received, in order
        self.refused = 0

    async def handle(self, ws: WebSocketRoute) -> None:
        if not self.up:
            self.refused += 1
            await ws.close(code=4000, reason="test: network cut")
            return
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            data = json.loads(message)
            if data.get("type") == "subscribe":
                self.subscribe_payloads.append(data["payload"])
            server.send(message)

        def from_server(message: str | bytes) -> None:
            data = json.loads(message)
            if data.get("type") == "next":
                self.cursors.append(data["payload"]["data"]["registrationEvents"]["cursor"])
            ws.send(message)

        ws.on_message(from_page)
        server.on_message(from_server)
        self.open.append(ws)

    async def cut(self) -> None:
        self.up = False
        for ws in self.open:
            await ws.close(code=4000, reason="test: network cut")
        self.open.clear()


async def wait_for(condition: Callable[[], bool], seconds: float = 5) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def applied(page: Page, device_id: str) -> list[str]:
    """The kinds of the events the page applied for ``device_id``, in order."""
    kinds: list[str] = await page.evaluate(
        """(id) => performance.getEntriesByName("gatehouse:event-applied")
              .filter((entry) => entry.detail.id === id).map((entry) => entry.detail.kind)""",
        device_id,
    )
    return kinds


async def test_a_cut_websocket_resumes_after_its_last_event_and_misses_nothing(
    page: Page, http: httpx.AsyncClient, tenant: GraphQLClient
) -> None:
    await register(tenant, {"id": "ws-1"}, {"id": "ws-2"})
    assert (await poll(http, "ws-1")).status_code == 404
    switch = SocketSwitch()
    await page.route_web_socket("**/graphql", switch.handle)
    await open_console(page, tenant, mark_loaded=True)
    await wait_for(lambda: bool(switch.subscribe_payloads))
    first_cursor = switch.subscribe_payloads[0]["variables"]["after"]
    assert first_cursor  # the page's eventCursor
    await register(tenant, {"id": "ws-0"})  # one event while connected
    await expect(row(page, "ws-0")).to_contain_text("Waiting for connection")
    assert len(switch.cursors) == 1

    await switch.cut()
    await expect(page.get_by_role("status").filter(has_text="Live")).to_have_count(0)
    # Meanwhile, elsewhere: a device connects, an operator accepts, another registers.
    assert (await poll(http, "ws-2")).status_code == 404
    assert (await accept(tenant, "ws-1"))["__typename"] == "Registration"
    await register(tenant, {"id": "ws-3"})
    await page.wait_for_timeout(600)
    await expect(row(page, "ws-1")).to_contain_text("Pending acceptance")  # really cut
    assert switch.refused >= 1

    switch.up = True
    await expect(row(page, "ws-1")).to_contain_text("Accepted", timeout=8000)
    await expect(row(page, "ws-2")).to_contain_text("Pending acceptance")
    await expect(row(page, "ws-3")).to_contain_text("Waiting for connection")
    await live(page)
    # It resumed after the last event it had, so each missed event arrived exactly once.
    assert switch.subscribe_payloads[-1]["variables"]["after"] == switch.cursors[0]
    assert await applied(page, "ws-3") == ["REGISTERED"]
    assert await applied(page, "ws-1") == ["ACCEPTED"]
    assert await applied(page, "ws-0") == ["REGISTERED"]
    assert await page.evaluate("() => window.loadedOnce === true")
    await expect(page.get_by_text("Page 1 · 4 registrations")).to_be_visible()


async def test_markup_in_a_device_id_and_an_actor_is_shown_as_text(
    page: Page, tenant: GraphQLClient, server_folder: Path
) -> None:
    """No id the API accepts holds a space, so the hostile one is written into the database,
    as an attacker with a foothold there (or a future bug) could."""
    await register(tenant, {"id": "xss-placeholder"})
    database = sqlite3.connect(server_folder / "gatehouse.db", timeout=10)
    with database:
        database.execute(
            "UPDATE registrations SET device_id = ? WHERE device_id = 'xss-placeholder'", (XSS,)
        )
        database.execute(
            "UPDATE registration_events SET device_id = ?, actor = ?"
            " WHERE device_id = 'xss-placeholder'",
            (XSS, XSS_ACTOR),
        )
    dialogs: list[str] = []

    async def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", dismiss)
    await open_console(page, tenant, mark_loaded=True)
    hostile = row(page, XSS)
    await expect(hostile).to_contain_text("Waiting for connection")
    # A live event about it: the feed reads it from the log like any other.
    with database:
        database.execute(
            "UPDATE registrations SET status = 'PENDING_ACCEPTANCE' WHERE device_id = ?", (XSS,)
        )
        database.execute(
            "INSERT INTO registration_events"
            " (device_id, kind, status, previous_status, actor, at, tenant_id)"
            " SELECT device_id, 'CONNECTED', 'PENDING_ACCEPTANCE', 'WAITING_FOR_CONNECTION',"
            " ?, at, tenant_id FROM registration_events WHERE device_id = ?",
            (XSS_ACTOR, XSS),
        )
    database.close()
    await expect(hostile).to_contain_text("Pending acceptance", timeout=3000)
    await expect(page.get_by_role("cell", name=XSS, exact=True)).to_be_visible()

    await page.get_by_role("link", name="Audit log").click()
    await expect(page.get_by_role("cell", name=XSS, exact=True)).to_have_count(2)
    await expect(page.get_by_role("cell", name=XSS_ACTOR, exact=True)).to_have_count(2)
    assert await page.locator("main img, main script").count() == 0
    await page.wait_for_timeout(300)
    assert dialogs == []
