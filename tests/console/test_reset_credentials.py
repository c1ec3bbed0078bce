""" "Reset credentials" on accepted rows whose device collected its credentials (API.md §7, §6.5).

The device speaks to the real server over HTTP (its credential request and the
gateway callback ``/auth/http``) while the page is open.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from playwright.async_api import Page, expect

from tests.kit.clients import GraphQLClient
from tests.kit.console import open_console, row, screenshot
from tests.kit.device_logins import gateway, issue, reset
from tests.kit.devices import poll
from tests.kit.registrations import register, state

TOKEN = "printed-on-the-device"


async def refused_within(http: httpx.AsyncClient, username: str, password: str) -> bool:
    """Whether the gateway refuses the login within a second (revocation is immediate)."""
    for _ in range(20):
        if (await gateway(http, username, password)).status_code == 401:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_reset_asks_first_then_the_old_password_is_refused_and_the_next_poll_gets_one(
    page: Page, http: httpx.AsyncClient, tenant: GraphQLClient, tmp_path: Path
) -> None:
    issued = await issue(http, tenant, "RESET-1", token=TOKEN)
    username, old = issued["username"], issued["password"]
    assert (await gateway(http, username, old)).status_code == 200
    await register(tenant, {"id": "RESET-2"})  # accepted rows only: this one is waiting
    await open_console(page, tenant)
    target = row(page, "RESET-1")
    await expect(target).to_contain_text("Credentials delivered · last authenticated")
    await expect(
        row(page, "RESET-2").get_by_role("button", name="Reset credentials")
    ).to_have_count(0)

    await target.get_by_role("button", name="Reset credentials").click()
    confirm = page.get_by_role("dialog", name="Reset credentials")
    await expect(confirm).to_contain_text("RESET-1")
    await screenshot(page, "reset-credentials", tmp_path)
    await confirm.get_by_role("button", name="Cancel").click()
    assert (await state(tenant, "RESET-1"))["credentialsDeliveredAt"] is not None
    await target.get_by_role("button", name="Reset credentials").click()
    await confirm.get_by_role("button", name="Reset credentials").click()

    # The row shows the server's answer: accepted, credentials not delivered, nothing to reset.
    await expect(target).to_contain_text("Credentials not delivered")
    await expect(target).to_contain_text("Accepted")
    await expect(target.get_by_role("button", name="Reset credentials")).to_have_count(0)
    assert (await state(tenant, "RESET-1"))["credentialsDeliveredAt"] is None
    assert await refused_within(http, username, old)

    # The device's next poll, with its token, collects a new password; the old stays refused.
    collected = await poll(http, "RESET-1", token=TOKEN)
    assert collected.status_code == 201, collected.text
    new = collected.json()["password"]
    assert new != old
    assert (await gateway(http, username, new)).status_code == 200
    assert (await gateway(http, username, old)).status_code == 401
    # ... and the row learns it live: delivered again, so it can be reset again.
    await expect(target).to_contain_text("Credentials delivered", timeout=3000)
    await expect(target.get_by_role("button", name="Reset credentials")).to_be_visible()


async def test_a_reset_the_server_refuses_shows_its_message_at_the_row(
    page: Page, http: httpx.AsyncClient, tenant: GraphQLClient
) -> None:
    await issue(http, tenant, "RACE-1")
    await issue(http, tenant, "RACE-2")
    await open_console(page, tenant)
    target = row(page, "RACE-1")
    await target.get_by_role("button", name="Reset credentials").click()
    # Another operator resets it while this one reads the question.
    assert (await reset(tenant, "RACE-1"))["__typename"] == "Registration"
    await (
        page.get_by_role("dialog", name="Reset credentials")
        .get_by_role("button", name="Reset credentials")
        .click()
    )
    alert = target.get_by_role("alert")
    await expect(alert).to_contain_text("RACE-1")
    await expect(alert).to_contain_text("has no delivered credentials to reset")
    await expect(target).to_contain_text("Credentials not delivered")
    await expect(row(page, "RACE-2").get_by_role("alert")).to_be_hidden()
