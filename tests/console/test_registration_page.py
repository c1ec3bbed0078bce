"""The "Device registration" page in a browser: the user guide's flow, live (API.md §7).

Devices poll the real server over HTTP while the page is open; every change must
reach the page through its subscription, without a reload.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.async_api import Page, expect

from tests.kit.accounts import make_user
from tests.kit.clients import GraphQLClient
from tests.kit.console import open_console, row, screenshot
from tests.kit.devices import poll
from tests.kit.options import set_max_failed_attempts, set_token_policy
from tests.kit.registrations import register, state

TOKEN = "printed-on-the-device"


def tenant_of(client: GraphQLClient) -> str:
    assert client.login is not None
    return client.login.split("/")[0]


async def not_reloaded(page: Page) -> None:
    assert await page.evaluate("() => window.loadedOnce === true")


async def test_seed_flow_from_login_to_accepted_with_the_devices_polling_meanwhile(
    page: Page, http: httpx.AsyncClient, tenant: GraphQLClient, tmp_path: Path
) -> None:
    await open_console(page, tenant, mark_loaded=True)
    await page.get_by_role("button", name="Register device").click()
    await page.get_by_role("menuitem", name="Single registration").click()
    dialog = page.get_by_role("dialog", name="Register devices")
    await dialog.get_by_label("Device ID").fill("IMEI-356938035643809")
    await dialog.get_by_role("button", name="Add device").click()
    await dialog.get_by_label("Device ID").nth(1).fill("SN-0042")
    await screenshot(page, "register-dialog", tmp_path)
    await dialog.get_by_role("button", name="Next").click()
    await expect(dialog).to_be_hidden()
    for device in ("IMEI-356938035643809", "SN-0042"):
        await expect(row(page, device)).to_contain_text("Waiting for connection")

    # The devices are switched on: first contact, one with its security token.
    assert (await poll(http, "IMEI-356938035643809", token=TOKEN)).status_code == 404
    assert (await poll(http, "SN-0042")).status_code == 404
    imei, sn = row(page, "IMEI-356938035643809"), row(page, "SN-0042")
    await expect(imei).to_contain_text("Pending acceptance", timeout=2000)
    await expect(sn).to_contain_text("Pending acceptance", timeout=2000)
    await expect(imei.get_by_role("cell", name="Used", exact=True)).to_be_visible()
    await expect(sn.get_by_role("cell", name="Not used", exact=True)).to_be_visible()
    await screenshot(page, "registration-pending", tmp_path)

    await imei.get_by_label("Security token").fill(TOKEN)
    await imei.get_by_role("button", name="Accept").click()
    await expect(imei).to_contain_text("Accepted")
    await expect(imei.get_by_role("button", name="Accept")).to_have_count(0)
    await page.get_by_role("button", name="Accept all").click()
    await expect(sn).to_contain_text("Accepted")
    await expect(
        page.get_by_role("status").filter(has_text="Accepted 1 registration")
    ).to_be_visible()

    # The devices collect their credentials; the rows stay "Accepted".
    assert (await poll(http, "IMEI-356938035643809", token=TOKEN)).status_code == 201
    assert (await poll(http, "SN-0042")).status_code == 201
    assert (await state(tenant, "SN-0042"))["status"] == "ACCEPTED"
    await not_reloaded(page)


async def test_wrong_token_shows_the_mismatch_with_the_attempts_left_at_its_row(
    page: Page, http: httpx.AsyncClient, tenant: GraphQLClient
) -> None:
    await register(tenant, {"id": "wrong-1"}, {"id": "other-1"})
    assert (await poll(http, "wrong-1", token=TOKEN)).status_code == 404
    assert (await poll(http, "other-1", token=TOKEN)).status_code == 404
    await open_console(page, tenant, mark_loaded=True)
    wrong = row(page, "wrong-1")
    await wrong.get_by_label("Security token").fill("not-the-token")
    await wrong.get_by_role("button", name="Accept").click()
    message = wrong.get_by_role("alert")
    await expect(message).to_contain_text("wrong-1")
    await expect(message).to_contain_text("4 attempts left")
    await expect(row(page, "other-1").get_by_role("alert")).to_be_hidden()
    await expect(wrong).to_contain_text("Pending acceptance")
    assert (await state(tenant, "wrong-1"))["failedAttempts"] == 1


async def test_blocking_shows_the_reason_and_remove_asks_first(
    page: Page, http: httpx.AsyncClient, tenant: GraphQLClient
) -> None:
    await set_max_failed_attempts(tenant, 2)
    await register(tenant, {"id": "block-1"})
    assert (await poll(http, "block-1", token=TOKEN)).status_code == 404
    await open_console(page, tenant, mark_loaded=True)
    target = row(page, "block-1")
    for attempt, said in (("guess-1", "1 attempt left"), ("guess-2", "Remove the registration")):
        await target.get_by_label("Security token").fill(attempt)
        await target.get_by_role("button", name="Accept").click()
        await expect(target.get_by_role("alert")).to_contain_text(said)
    await expect(target).to_contain_text("Blocked")
    await expect(target).to_contain_text("blocked after 2 failed security token attempts")
    await expect(target.get_by_role("button", name="Accept")).to_have_count(0)

    await target.get_by_role("button", name="Remove").click()
    confirm = page.get_by_role("dialog", name="Remove registration")
    await expect(confirm).to_contain_text("block-1")
    await confirm.get_by_role("button", name="Cancel").click()
    await expect(target).to_be_visible()
    assert await state(tenant, "block-1") is not None
    await target.get_by_role("button", name="Remove").click()
    await confirm.get_by_role("button", name="Remove").click()
    await expect(target).to_have_count(0)
    assert await state(tenant, "block-1") is None
    await not_reloaded(page)


async def test_accept_all_warns_and_lists_the_devices_that_need_their_token(
    page: Page, http: httpx.AsyncClient, tenant: GraphQLClient
) -> None:
    await register(tenant, {"id": "plain-1"}, {"id": "token-1"})
    assert (await poll(http, "plain-1")).status_code == 404
    assert (await poll(http, "token-1", token=TOKEN)).status_code == 404
    await open_console(page, tenant, mark_loaded=True)
    await page.get_by_role("button", name="Accept all").click()
    warning = page.get_by_role("alert").filter(has_text="need a security token")
    await expect(warning).to_contain_text("token-1")
    await expect(
        warning.get_by_role("list", name="Not accepted").get_by_role("listitem")
    ).to_have_text(["device token-1 used a security token: accept it with its token"])
    await expect(row(page, "plain-1")).to_contain_text("Accepted")
    await expect(row(page, "token-1")).to_contain_text("Pending acceptance")


async def test_the_policy_set_in_settings_decides_which_rows_ask_for_a_token(
    page: Page, http: httpx.AsyncClient, tenant: GraphQLClient, tmp_path: Path
) -> None:
    await register(tenant, {"id": "policy-1"})
    assert (await poll(http, "policy-1", token=TOKEN)).status_code == 404
    await open_console(page, tenant, mark_loaded=True)
    pending = row(page, "policy-1")
    await expect(pending.get_by_label("Security token")).to_be_visible()  # OPTIONAL

    await page.get_by_role("link", name="Settings").click()
    await expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    await expect(page.get_by_label("Optional")).to_be_checked()
    await expect(page.get_by_label("Maximum failed attempts")).to_have_value("5")
    await page.get_by_label("Ignored").check()
    await page.get_by_label("Maximum failed attempts").fill("7")
    await screenshot(page, "settings", tmp_path)
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status").filter(has_text="Settings saved.")).to_be_visible()

    await page.get_by_role("link", name="Registration").click()
    await expect(pending.get_by_role("button", name="Accept")).to_be_visible()
    await expect(pending.get_by_label("Security token")).to_have_count(0)  # IGNORED

    await set_token_policy(tenant, "REQUIRED")
    await page.get_by_role("link", name="Settings").click()
    await expect(page.get_by_label("Required")).to_be_checked()
    await expect(page.get_by_label("Maximum failed attempts")).to_have_value("7")
    await page.get_by_role("link", name="Registration").click()
    await expect(pending.get_by_label("Security token")).to_be_visible()


async def test_audit_log_lists_the_events_newest_first_and_filters_by_device(
    page: Page, http: httpx.AsyncClient, tenant: GraphQLClient, tmp_path: Path
) -> None:
    await register(tenant, {"id": "audit-a"}, {"id": "audit-b"})
    assert (await poll(http, "audit-a")).status_code == 404
    await open_console(page, tenant, mark_loaded=True)
    await page.get_by_role("link", name="Audit log").click()
    await expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    body = page.locator("tbody").get_by_role("row")
    await expect(body).to_have_count(3)
    await expect(body.nth(0)).to_contain_text("audit-a")
    await expect(body.nth(0)).to_contain_text("Connected")
    await expect(body.nth(0)).to_contain_text("Pending acceptance")
    await expect(body.nth(0)).to_contain_text("device_audit-a")
    await expect(body.nth(2)).to_contain_text(f"{tenant_of(tenant)}/admin")
    await screenshot(page, "audit-log", tmp_path)
    await page.get_by_label("Device ID").fill("audit-b")
    await page.get_by_role("button", name="Show").click()
    await expect(body).to_have_count(1)
    await expect(body.nth(0)).to_contain_text("Registered")


async def test_a_reader_sees_the_registrations_but_no_action(
    page: Page, http: httpx.AsyncClient, tenant: GraphQLClient
) -> None:
    await register(tenant, {"id": "read-1"})
    assert (await poll(http, "read-1")).status_code == 404
    reader = await make_user(tenant, "reader", ["DEVICE_CONTROL_READ", "OPTION_MANAGEMENT_READ"])
    await open_console(page, reader, mark_loaded=True)
    pending = row(page, "read-1")
    await expect(pending).to_contain_text("Pending acceptance")
    await expect(page.get_by_role("button", name="Accept")).to_have_count(0)
    await expect(page.get_by_role("button", name="Accept all")).to_have_count(0)
    await expect(page.get_by_role("button", name="Remove")).to_have_count(0)
    await expect(page.get_by_role("button", name="Register device")).to_have_count(0)
    await expect(pending.get_by_label("Security token")).to_have_count(0)
    # The settings, read-only: the choice is shown, nothing can be saved.
    await page.get_by_role("link", name="Settings").click()
    await expect(page.get_by_label("Optional")).to_be_checked()
    await expect(page.get_by_label("Required")).to_be_disabled()
    await expect(page.get_by_role("button", name="Save")).to_have_count(0)
    # The change still arrives live.
    assert (await poll(http, "read-1")).status_code == 404
    await page.get_by_role("link", name="Registration").click()
    await set_token_policy(tenant, "IGNORED")
    await tenant.data("mutation { acceptAll { warning } }")
    await expect(pending).to_contain_text("Accepted", timeout=2000)


async def test_without_option_management_read_there_is_no_settings_form(
    page: Page, tenant: GraphQLClient
) -> None:
    operator = await make_user(tenant, "operator", ["DEVICE_CONTROL_READ", "DEVICE_CONTROL_ADMIN"])
    await open_console(page, operator, mark_loaded=True)
    await page.get_by_role("link", name="Settings").click()
    await expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    await expect(page.get_by_text("needs the OPTION_MANAGEMENT_READ permission")).to_be_visible()
    await expect(page.get_by_label("Optional")).to_have_count(0)
    await expect(page.get_by_role("button", name="Save")).to_have_count(0)
