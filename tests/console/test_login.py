"""Logging in and out of the console, and what its responses carry (API.md §7, §1)."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page, Response, expect

from tests.kit.clients import GraphQLClient
from tests.kit.console import log_in, screenshot


async def test_wrong_password_shows_the_page_alert_and_no_browser_prompt(
    page: Page, tenant: GraphQLClient, tmp_path: Path
) -> None:
    challenges: list[str] = []

    def record(response: Response) -> None:
        if response.url.endswith("/graphql") and response.status == 401:
            challenges.append(response.headers.get("www-authenticate", ""))

    page.on("response", record)
    tenant_id = tenant.login.split("/")[0]  # type: ignore[union-attr]
    await page.goto("/")
    await expect(page).to_have_url("/console/")
    await page.get_by_label("Tenant").fill(tenant_id)
    await page.get_by_label("Username").fill("admin")
    await page.get_by_label("Password").fill("not-the-password")
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("alert")).to_have_text("Wrong tenant, username or password.")
    await expect(page.get_by_role("button", name="Log in")).to_be_visible()
    await screenshot(page, "login-refused", tmp_path)
    # XBasic, not Basic: the browser shows no login prompt over the page's own form.
    assert challenges == ['XBasic realm="gatehouse"']


async def test_login_lives_in_the_tab_only_and_log_out_forgets_it(
    page: Page, tenant: GraphQLClient
) -> None:
    tenant_id = tenant.login.split("/")[0]  # type: ignore[union-attr]
    await log_in(page, tenant_id, "admin", tenant.password or "")
    await expect(page.get_by_text(f"{tenant_id}/admin")).to_be_visible()
    for name in ("Registration", "Audit log", "Settings"):
        await expect(page.get_by_role("link", name=name)).to_be_visible()
    storage = await page.evaluate(
        "() => ({session: sessionStorage.length, local: localStorage.length,"
        " cookies: document.cookie})"
    )
    assert storage == {"session": 1, "local": 0, "cookies": ""}
    assert await page.context.cookies() == []
    await page.reload()  # the tab keeps its login
    await expect(page.get_by_role("heading", name="Device registration")).to_be_visible()
    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert await page.evaluate("() => sessionStorage.length") == 0
    await page.reload()
    await expect(page.get_by_role("button", name="Log in")).to_be_visible()


async def test_an_empty_tenant_logs_in_to_the_management_tenant(
    page: Page, admin: GraphQLClient
) -> None:
    await log_in(page, "", "admin", admin.password or "")
    await expect(page.get_by_text("management/admin")).to_be_visible()


async def test_every_console_response_carries_the_content_security_policy(page: Page) -> None:
    responses: list[Response] = []
    page.on("response", lambda response: responses.append(response))
    await page.goto("/console/")
    await expect(page.get_by_role("button", name="Log in")).to_be_visible()
    console = [r for r in responses if "/console/" in r.url]
    assert {r.url.rsplit("/", 1)[-1] for r in console} >= {"", "main.js", "console.css"}
    for response in console:
        policy = response.headers["content-security-policy"]
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["default-src"] == "'self'", response.url
        assert directives["script-src"] == "'self'", response.url
        assert "unsafe" not in policy, response.url
        assert directives["frame-ancestors"] == "'none'", response.url
