"""The "Users" page and "Change my password" (API.md §7, §9.1).

Every change made in the page is proven outside it: the new logins, permissions and
passwords are tried over HTTP Basic on the real server.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
from playwright.async_api import Page, expect

from tests.kit.accounts import can_log_in, make_user
from tests.kit.clients import GraphQLClient
from tests.kit.console import live, open_console, row, screenshot
from tests.kit.documents import ME

HOSTILE = "<img src=x onerror=alert(1)>"


def tenant_of(client: GraphQLClient) -> str:
    assert client.login is not None
    return client.login.split("/")[0]


async def test_create_change_permissions_set_password_and_delete_a_user(
    page: Page, http: httpx.AsyncClient, tenant: GraphQLClient, tmp_path: Path
) -> None:
    tenant_id = tenant_of(tenant)
    await open_console(page, tenant)
    await page.get_by_role("link", name="Users").click()
    await expect(page.get_by_role("heading", name="Users")).to_be_visible()
    own = row(page, "admin")
    await expect(own).to_contain_text("USER_MANAGEMENT_ADMIN")
    await expect(own).to_contain_text("This is you")
    await expect(own.get_by_role("button")).to_have_count(0)  # no update or delete of oneself

    # Create: a refusal of the server is shown in the dialog, which stays open.
    await page.get_by_role("button", name="Create user").click()
    dialog = page.get_by_role("dialog", name="Create user")
    await dialog.get_by_label("Username").fill("operator")
    await dialog.get_by_label("Password", exact=True).fill("short")
    await dialog.get_by_label("Repeat password").fill("short")
    await dialog.get_by_label("DEVICE_CONTROL_READ").check()
    await dialog.get_by_role("button", name="Create").click()
    await expect(dialog.get_by_role("alert")).to_have_text(
        "the password must have at least 8 characters"
    )
    # Management-only permissions are not offered in a subtenant.
    await expect(dialog.get_by_label("DEVICE_BOOTSTRAP")).to_have_count(0)
    await dialog.get_by_label("Password", exact=True).fill("operator-password-1")
    await dialog.get_by_label("Repeat password").fill("operator-password-1")
    await screenshot(page, "create-user", tmp_path)
    await dialog.get_by_role("button", name="Create").click()
    await expect(dialog).to_be_hidden()
    operator = row(page, "operator")
    await expect(operator.get_by_role("listitem")).to_have_text(["DEVICE_CONTROL_READ"])
    login = f"{tenant_id}/operator"
    assert await can_log_in(http, login, "operator-password-1")

    # The same username again: the server's ALREADY_EXISTS message.
    await page.get_by_role("button", name="Create user").click()
    await dialog.get_by_label("Username").fill("operator")
    await dialog.get_by_label("Password", exact=True).fill("another-password")
    await dialog.get_by_label("Repeat password").fill("another-password")
    await dialog.get_by_role("button", name="Create").click()
    await expect(dialog.get_by_role("alert")).to_contain_text("already exists")
    await dialog.get_by_role("button", name="Cancel").click()

    # Change permissions: in effect at once for the user's own requests.
    await operator.get_by_role("button", name="Change permissions").click()
    permissions = page.get_by_role("dialog", name="Change permissions")
    await expect(permissions.get_by_label("DEVICE_CONTROL_READ")).to_be_checked()
    await permissions.get_by_label("DEVICE_CONTROL_ADMIN").check()
    await permissions.get_by_label("INVENTORY_READ").check()
    await permissions.get_by_role("button", name="Save").click()
    await expect(permissions).to_be_hidden()
    await expect(operator.get_by_role("listitem")).to_have_text(
        ["DEVICE_CONTROL_ADMIN", "DEVICE_CONTROL_READ", "INVENTORY_READ"]
    )
    await expect(operator.get_by_role("status")).to_have_text("Permissions saved.")
    as_operator = tenant.as_user(login, "operator-password-1")
    me = (await as_operator.data(ME))["me"]
    assert sorted(me["permissions"]) == [
        "DEVICE_CONTROL_ADMIN",
        "DEVICE_CONTROL_READ",
        "INVENTORY_READ",
    ]
    await screenshot(page, "users", tmp_path)

    # Set password: the mismatch is caught in the page; then the old one stops working.
    await operator.get_by_role("button", name="Set password").click()
    password = page.get_by_role("dialog", name="Set password")
    await password.get_by_label("New password", exact=True).fill("operator-password-2")
    await password.get_by_label("Repeat new password").fill("operator-password-3")
    await password.get_by_role("button", name="Save").click()
    await expect(password.get_by_role("alert")).to_have_text("The passwords do not match.")
    await password.get_by_label("Repeat new password").fill("operator-password-2")
    await password.get_by_role("button", name="Save").click()
    await expect(password).to_be_hidden()
    await expect(operator.get_by_role("status")).to_have_text("Password set.")
    assert await can_log_in(http, login, "operator-password-2")
    assert not await can_log_in(http, login, "operator-password-1")

    # Delete asks first; then the user and their login are gone.
    await operator.get_by_role("button", name="Delete").click()
    confirm = page.get_by_role("dialog", name="Delete user")
    await expect(confirm).to_contain_text(login)
    await confirm.get_by_role("button", name="Cancel").click()
    assert await can_log_in(http, login, "operator-password-2")
    await operator.get_by_role("button", name="Delete").click()
    await confirm.get_by_role("button", name="Delete").click()
    await expect(operator).to_have_count(0)
    await expect(
        page.get_by_role("status").filter(has_text="Deleted user operator.")
    ).to_be_visible()
    assert not await can_log_in(http, login, "operator-password-2")


async def test_a_delete_the_server_refuses_shows_its_message_at_the_row(
    page: Page, tenant: GraphQLClient
) -> None:
    await make_user(tenant, "gone-soon", ["DEVICE_CONTROL_READ"])
    await make_user(tenant, "stays", ["DEVICE_CONTROL_READ"])
    await open_console(page, tenant)
    await page.get_by_role("link", name="Users").click()
    target = row(page, "gone-soon")
    await target.get_by_role("button", name="Delete").click()
    # Another administrator deletes the user first.
    await tenant.data("mutation($u: String!) { deleteUser(username: $u) }", u="gone-soon")
    await (
        page.get_by_role("dialog", name="Delete user").get_by_role("button", name="Delete").click()
    )
    await expect(target.get_by_role("alert")).to_contain_text("no user")
    await expect(row(page, "stays").get_by_role("alert")).to_be_hidden()


async def test_the_users_are_paged_and_a_username_is_shown_as_text(
    page: Page, tenant: GraphQLClient, server_folder: Path
) -> None:
    """50 more users, written straight into the server's database: 50 argon2 hashes through
    the API would cost seconds. The last one's name is markup no username the API accepts
    can hold, as an attacker with a foothold in the database could write it."""
    tenant_id = tenant_of(tenant)
    names = [f"user-{n:02}" for n in range(49)] + [HOSTILE]
    database = sqlite3.connect(server_folder / "gatehouse.db", timeout=10)
    with database:
        database.executemany(
            "INSERT INTO users (tenant_id, username, password_hash, permissions, created_at)"
            " SELECT tenant_id, ?, password_hash, '[]', created_at FROM users"
            " WHERE tenant_id = ? AND username = 'admin'",
            [(name, tenant_id) for name in names],
        )
    database.close()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    await open_console(page, tenant)
    await page.get_by_role("link", name="Users").click()
    body = page.locator("tbody").get_by_role("row")
    await expect(body).to_have_count(50)
    await expect(page.get_by_text("Page 1 · 51 users")).to_be_visible()
    await expect(row(page, "admin")).to_be_visible()
    await expect(row(page, "user-48")).to_contain_text("No permissions")
    await page.get_by_role("button", name="Next page").click()
    await expect(page.get_by_text("Page 2 · 51 users")).to_be_visible()
    await expect(body).to_have_count(1)
    await expect(page.get_by_role("cell", name=HOSTILE, exact=True)).to_be_visible()
    assert await page.locator("main img, main script").count() == 0
    await expect(page.get_by_role("button", name="Next page")).to_be_disabled()
    await page.get_by_role("button", name="Previous page").click()
    await expect(body).to_have_count(50)
    await expect(row(page, "admin")).to_be_visible()
    assert dialogs == []


async def test_without_user_management_admin_there_is_no_users_page(
    page: Page, tenant: GraphQLClient
) -> None:
    reader = await make_user(tenant, "reader", ["DEVICE_CONTROL_READ"])
    await open_console(page, reader)
    for name in ("Registration", "Audit log", "Settings"):
        await expect(page.get_by_role("link", name=name)).to_be_visible()
    await expect(page.get_by_role("link", name="Users")).to_have_count(0)
    await page.goto("/console/#/users")  # typed by hand: the registration page instead
    await expect(page.get_by_role("heading", name="Device registration")).to_be_visible()
    await expect(page.get_by_role("heading", name="Users")).to_have_count(0)


async def test_change_my_password_is_there_for_every_user_and_keeps_the_tab_logged_in(
    page: Page, http: httpx.AsyncClient, tenant: GraphQLClient
) -> None:
    reader = await make_user(tenant, "watcher", ["DEVICE_CONTROL_READ"])
    assert reader.login is not None and reader.password is not None
    old = reader.password
    await open_console(page, reader)
    await page.get_by_role("button", name="Change my password").click()
    dialog = page.get_by_role("dialog", name="Change my password")
    await dialog.get_by_label("Current password").fill("not-my-password")
    await dialog.get_by_label("New password", exact=True).fill("watcher-password-2")
    await dialog.get_by_label("Repeat new password").fill("watcher-password-2")
    await dialog.get_by_role("button", name="Change password").click()
    await expect(dialog.get_by_role("alert")).to_have_text("the current password is wrong")
    assert await can_log_in(http, reader.login, old)

    await dialog.get_by_label("Current password").fill(old)
    await dialog.get_by_role("button", name="Change password").click()
    await expect(dialog).to_be_hidden()
    await expect(
        page.get_by_role("status").filter(has_text="Your password was changed.")
    ).to_be_visible()
    assert not await can_log_in(http, reader.login, old)
    assert await can_log_in(http, reader.login, "watcher-password-2")

    # The tab goes on with the new password, after a reload too (it is in sessionStorage).
    await page.get_by_role("link", name="Audit log").click()
    await expect(page.get_by_role("heading", name="Audit log")).to_be_visible()
    await expect(page.get_by_text("No events.")).to_be_visible()
    await page.reload()
    await expect(page.get_by_text("No events.")).to_be_visible()
    await expect(page.get_by_role("button", name="Log in")).to_have_count(0)
    await page.get_by_role("link", name="Registration").click()
    await live(page)
