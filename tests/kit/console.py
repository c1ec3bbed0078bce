"""The operator console in a real browser: Debian's Chromium driven by Playwright.

The browser is never downloaded (no ``playwright install``): tests use
``/usr/bin/chromium``. Without it, or when it cannot start, browser tests skip
with the reason, and fail instead under ``GATEHOUSE_TEST_REQUIRE_SERVICES=1``
(CI). Every request to a host other than the server under test is aborted and
recorded, so a page that needs the Internet fails its test.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, Route, async_playwright

from bench.console import CHROMIUM, CHROMIUM_ARGS, VIEWPORT
from tests.kit.clients import GraphQLClient

#: Where the screenshots of the README come from: ``GATEHOUSE_TEST_SCREENSHOTS=1`` writes
#: them into docs/screenshots/ (committed); otherwise they go to a temporary folder.
SCREENSHOTS = Path(__file__).parents[2] / "docs" / "screenshots"


def unavailable(reason: str) -> None:
    """Skip the test for ``reason``; fail it when CI requires every service."""
    if os.environ.get("GATEHOUSE_TEST_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (GATEHOUSE_TEST_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless."""
    if not Path(CHROMIUM).is_file():
        unavailable(f"{CHROMIUM} is missing: apt-get install -y chromium")
    async with async_playwright() as playwright:
        try:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
        except Exception as error:  # any failure to start means: no browser here
            unavailable(f"Chromium did not start: {error}")
        try:
            yield browser
        finally:
            await browser.close()


class OtherHosts:
    """Aborts and records every request of a context that leaves the server under test."""

    def __init__(self, base_url: str) -> None:
        self.origin = urlsplit(base_url).netloc
        self.blocked: list[str] = []

    async def route(self, route: Route) -> None:
        url = route.request.url
        if urlsplit(url).netloc == self.origin or url.startswith(("data:", "blob:")):
            await route.continue_()
        else:
            self.blocked.append(url)
            await route.abort()


@asynccontextmanager
async def console_context(
    browser: Browser, base_url: str, **options: object
) -> AsyncIterator[tuple[BrowserContext, OtherHosts]]:
    """A fresh browser profile (no storage shared with other tests), other hosts blocked."""
    context = await browser.new_context(base_url=base_url, viewport=VIEWPORT, **options)  # type: ignore[arg-type]
    others = OtherHosts(base_url)
    await context.route("**/*", others.route)
    try:
        yield context, others
    finally:
        await context.close()


async def log_in(page: Page, tenant: str, username: str, password: str) -> None:
    """Open the console and log in through its form; returns on the registration page."""
    await page.goto("/console/")
    await page.get_by_label("Tenant").fill(tenant)
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_role("heading", name="Device registration").wait_for()


def row(page: Page, device_id: str) -> Locator:
    """The registration table's row of ``device_id``."""
    return page.get_by_role("row").filter(has=page.get_by_role("cell", name=device_id, exact=True))


async def live(page: Page) -> None:
    """Wait until the page's live updates are connected."""
    await page.get_by_role("status").filter(has_text="Live").wait_for()


async def open_console(page: Page, client: GraphQLClient, *, mark_loaded: bool = False) -> None:
    """Log ``client``'s login in to the console and wait for its live updates.

    With ``mark_loaded`` the document is marked, so that a test can tell afterwards
    that the page was never reloaded (a reload loses the mark).
    """
    assert client.login is not None and client.password is not None
    tenant_id, username = client.login.split("/")
    await log_in(page, tenant_id, username, client.password)
    await live(page)
    if mark_loaded:
        await page.evaluate("() => { window.loadedOnce = true; }")


async def screenshot(page: Page, name: str, tmp_dir: Path) -> Path:
    """A screenshot of the page, for the README when asked (see ``SCREENSHOTS``)."""
    folder = SCREENSHOTS if os.environ.get("GATEHOUSE_TEST_SCREENSHOTS") == "1" else tmp_dir
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    await page.screenshot(path=str(path))
    return path
