"""The "Bulk registration" dialog: a CSV file, registerCsv, the per-line report (API.md §7, §8.3).

The file is chosen in the page's file field as an operator would; the registered
devices must reach the table through the page's live events, without a reload.
"""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page, expect

from tests.kit.clients import GraphQLClient
from tests.kit.console import live, log_in, row, screenshot
from tests.kit.registrations import register, registered_ids, state

GROUP_OF = "query($id: ID!) { registration(id: $id) { status group { name } } }"

FILE = (
    "ID;CREDENTIALS;TYPE;NAME;PATH\n"  # line 1
    "IMEI-490154203237518;;c8y_Device;Pump 1;Building 7/Floor 2\n"  # 2: created, with its group
    "bad id;;c8y_Device;Pump 2;\n"  # 3: white space in the id
    "\n"  # 4: blank, skipped
    'SN-4242;;c8y_Device;"Valve 42; north wing";\n'  # 5: created (a quoted separator)
    "BULK-TAKEN-7;;c8y_Device;Valve 7;\n"  # 6: registered before the upload
    "IMEI-490154203237518;;c8y_Device;Pump 1 again;\n"  # 7: repeats line 2
    "SN-4243;secret;c8y_Device;Valve 43;\n"  # 8: CREDENTIALS must be empty
)


async def open_bulk_dialog(page: Page, client: GraphQLClient) -> None:
    assert client.login is not None and client.password is not None
    tenant_id, username = client.login.split("/")
    await log_in(page, tenant_id, username, client.password)
    await live(page)
    await page.get_by_role("button", name="Register device").click()
    await page.get_by_role("menuitem", name="Bulk registration").click()


async def test_upload_reports_every_line_and_the_good_devices_appear_in_the_table(
    page: Page, tenant: GraphQLClient, tmp_path: Path
) -> None:
    await register(tenant, {"id": "BULK-TAKEN-7"})
    csv = tmp_path / "devices.csv"
    csv.write_text(FILE, encoding="utf-8")
    await open_bulk_dialog(page, tenant)
    await page.evaluate("() => { window.loadedOnce = true; }")
    dialog = page.get_by_role("dialog", name="Bulk registration")
    await dialog.get_by_label("CSV file").set_input_files(csv)
    await dialog.get_by_role("button", name="Upload").click()

    await expect(dialog.get_by_role("status")).to_have_text("2 devices created, 4 lines failed.")
    report = dialog.get_by_role("table", name="Report").locator("tbody").get_by_role("row")
    await expect(report).to_have_count(6)
    lines = [
        ["2", "IMEI-490154203237518", "Created"],
        ["3", "bad id", "white space"],
        ["5", "SN-4242", "Created"],
        ["6", "BULK-TAKEN-7", "device id BULK-TAKEN-7 is already registered"],
        ["7", "IMEI-490154203237518", "device id IMEI-490154203237518 repeats line 2"],
        ["8", "SN-4243", "CREDENTIALS must be empty"],
    ]
    for n, (line, device, result) in enumerate(lines):
        cells = report.nth(n).get_by_role("cell")
        await expect(cells.nth(0)).to_have_text(line)
        await expect(cells.nth(1)).to_have_text(device)
        await expect(cells.nth(2)).to_contain_text(result)
    await screenshot(page, "bulk-registration", tmp_path)

    # The registered devices arrive in the table as live events, behind the dialog.
    await dialog.get_by_role("button", name="Close").click()
    await expect(dialog).to_be_hidden()
    for device in ("IMEI-490154203237518", "SN-4242"):
        await expect(row(page, device)).to_contain_text("Waiting for connection", timeout=3000)
    await expect(row(page, "IMEI-490154203237518")).to_contain_text("Floor 2")
    await expect(row(page, "SN-4243")).to_have_count(0)
    assert await page.evaluate("() => window.loadedOnce === true")  # no reload
    assert sorted(await registered_ids(tenant)) == [
        "BULK-TAKEN-7",
        "IMEI-490154203237518",
        "SN-4242",
    ]
    grouped = (await tenant.data(GROUP_OF, id="IMEI-490154203237518"))["registration"]
    assert grouped["group"]["name"] == "Floor 2"


async def test_a_file_that_is_not_a_device_list_shows_why_and_registers_nothing(
    page: Page, tenant: GraphQLClient, tmp_path: Path
) -> None:
    await open_bulk_dialog(page, tenant)
    dialog = page.get_by_role("dialog", name="Bulk registration")
    alert = dialog.get_by_role("alert")
    await dialog.get_by_role("button", name="Upload").click()
    await expect(alert).to_have_text("Choose a CSV file.")

    # Text, but not a device list: the server's INVALID_INPUT message.
    notes = tmp_path / "notes.txt"
    notes.write_text("Pump 1, Pump 2\nValve 42\n", encoding="utf-8")
    await dialog.get_by_label("CSV file").set_input_files(notes)
    await dialog.get_by_role("button", name="Upload").click()
    await expect(alert).to_contain_text("the header has no ID column")
    await expect(dialog.get_by_role("table", name="Report")).to_be_hidden()

    # Not UTF-8 (an "ANSI" export): refused as a whole, not read with replaced letters.
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("ID;PATH\nSN-1;Gebäude 7\n".encode("latin-1"))
    await dialog.get_by_label("CSV file").set_input_files(latin1)
    await dialog.get_by_role("button", name="Upload").click()
    await expect(alert).to_contain_text("latin1.csv is not UTF-8 text")

    # A good file after them still works in the same dialog, and clears the alert.
    good = tmp_path / "good.csv"
    good.write_text("id\nBULK-OK-1\n", encoding="utf-8")
    await dialog.get_by_label("CSV file").set_input_files(good)
    await dialog.get_by_role("button", name="Upload").click()
    await expect(dialog.get_by_role("status")).to_have_text("1 device created, 0 lines failed.")
    await expect(alert).to_be_hidden()
    assert await registered_ids(tenant) == ["BULK-OK-1"]
    assert await state(tenant, "SN-1") is None
