"""The "Register devices" dialog: one register call, all or nothing (API.md §7, §5.1)."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.kit.accounts import make_tenant
from tests.kit.clients import GraphQLClient
from tests.kit.console import live, log_in, row
from tests.kit.groups import create_group
from tests.kit.registrations import register, state

GROUP_OF = "query($id: ID!) { registration(id: $id) { status group { name } } }"


async def open_dialog(page: Page, client: GraphQLClient) -> None:
    assert client.login is not None and client.password is not None
    tenant_id, username = client.login.split("/")
    await log_in(page, "" if tenant_id == "management" else tenant_id, username, client.password)
    await live(page)
    await page.get_by_role("button", name="Register device").click()
    await page.get_by_role("menuitem", name="Single registration").click()


async def test_bad_and_taken_ids_are_shown_beside_their_devices_and_nothing_is_registered(
    page: Page, tenant: GraphQLClient, admin: GraphQLClient
) -> None:
    other = await make_tenant(admin, "elsewhere")
    await register(other, {"id": "TAKEN-1"})  # another tenant's: still taken
    await open_dialog(page, tenant)
    dialog = page.get_by_role("dialog", name="Register devices")
    for n, device in enumerate(("good-1", "bad id", "TAKEN-1")):
        if n:
            await dialog.get_by_role("button", name="Add device").click()
        await dialog.get_by_label("Device ID").nth(n).fill(device)
    await dialog.get_by_role("button", name="Next").click()
    rows = dialog.get_by_role("group")
    await expect(rows.nth(1)).to_contain_text("white space")
    await expect(rows.nth(2)).to_contain_text("TAKEN-1 is already registered")
    await expect(rows.nth(0)).not_to_contain_text("registered")
    await expect(dialog.get_by_role("alert")).to_have_text(
        "Nothing was registered. Correct the devices marked below."
    )
    await expect(dialog).to_be_visible()
    assert await state(tenant, "good-1") is None
    assert (await tenant.data("{ registrations { totalCount } }"))["registrations"] == {
        "totalCount": 0
    }
    # Corrected, the same dialog registers them all.
    await dialog.get_by_label("Device ID").nth(1).fill("good-2")
    await dialog.get_by_label("Device ID").nth(2).fill("good-3")
    await dialog.get_by_role("button", name="Next").click()
    await expect(dialog).to_be_hidden()
    for device in ("good-1", "good-2", "good-3"):
        await expect(row(page, device)).to_contain_text("Waiting for connection")


async def test_a_group_chosen_in_the_dialog_shows_in_the_row(
    page: Page, tenant: GraphQLClient
) -> None:
    await create_group(tenant, "Building 7")
    await open_dialog(page, tenant)
    dialog = page.get_by_role("dialog", name="Register devices")
    await dialog.get_by_label("Device ID").fill("grouped-1")
    await dialog.get_by_label("Group").select_option(label="Building 7")
    await expect(dialog.get_by_label("Tenant")).to_have_count(0)  # a subtenant names none
    await dialog.get_by_role("button", name="Next").click()
    await expect(row(page, "grouped-1")).to_contain_text("Building 7")
    found = (await tenant.data(GROUP_OF, id="grouped-1"))["registration"]
    assert found == {"status": "WAITING_FOR_CONNECTION", "group": {"name": "Building 7"}}


async def test_management_administrator_registers_into_a_subtenant_without_a_group(
    page: Page, admin: GraphQLClient
) -> None:
    acme = await make_tenant(admin, "acme")
    await create_group(admin, "Management hall")
    await open_dialog(page, admin)
    dialog = page.get_by_role("dialog", name="Register devices")
    await dialog.get_by_label("Device ID").fill("sub-device-1")
    group, tenant = dialog.get_by_label("Group"), dialog.get_by_label("Tenant")
    await group.select_option(label="Management hall")
    await tenant.select_option("acme")
    await expect(group).to_be_disabled()
    await expect(group).to_have_value("")
    await dialog.get_by_role("button", name="Add device").click()
    await dialog.get_by_label("Device ID").nth(1).fill("own-device-1")
    await expect(group.nth(0)).to_be_disabled()
    await expect(dialog.get_by_label("Group").nth(1)).to_be_enabled()
    await dialog.get_by_role("button", name="Next").click()
    await expect(dialog).to_be_hidden()
    await expect(page.get_by_role("status").filter(has_text="into another tenant")).to_be_visible()
    await expect(row(page, "own-device-1")).to_contain_text("Waiting for connection")
    await expect(row(page, "sub-device-1")).to_have_count(0)  # not the management's
    registered = (await acme.data(GROUP_OF, id="sub-device-1"))["registration"]
    assert registered == {"status": "WAITING_FOR_CONNECTION", "group": None}
    assert await state(admin, "sub-device-1") is None
