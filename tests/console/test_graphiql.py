"""GraphiQL at /graphql works with every other host blocked: its files come from Gatehouse."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.kit.accounts import ADMIN_PASSWORD
from tests.kit.console import console_context
from tests.kit.servers import Server


async def test_graphiql_loads_and_runs_a_query_with_external_hosts_blocked(
    browser: Browser, server: Server
) -> None:
    login = {"username": "management/admin", "password": ADMIN_PASSWORD}
    async with console_context(browser, server.url, http_credentials=login) as (context, others):
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        response = await page.goto("/graphql")
        assert response is not None and response.status == 200
        assert "unsafe-eval" not in response.headers["content-security-policy"]
        await page.get_by_role("button", name="Execute query").click()
        result = page.locator(".result-window")
        await expect(result).to_contain_text('"username": "admin"')
        await expect(result).to_contain_text('"tenantId": "management"')
        assert others.blocked == []
        assert errors == []
