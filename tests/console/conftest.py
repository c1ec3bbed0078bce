"""Fixtures of the browser tests: one server and one Chromium for them all, a page per test.

Each test works in a tenant of its own (``tenant``) and a fresh browser profile,
so tests sharing the server do not see each other's registrations or logins.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page

from tests.kit.accounts import ADMIN_PASSWORD, BOOTSTRAP_PASSWORD, make_tenant
from tests.kit.clients import GraphQLClient
from tests.kit.console import OtherHosts, chromium, console_context
from tests.kit.servers import Server, run_env, start_server

_tenants = itertools.count(1)


@pytest.fixture(scope="package")
def server_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The server's working folder; its database is ``gatehouse.db`` there."""
    return tmp_path_factory.mktemp("console-server")


@pytest.fixture(scope="package")
def server(server_folder: Path) -> Iterator[Server]:
    """A real ``gatehouse serve`` on SQLite in a folder of its own."""
    env = run_env(
        GATEHOUSE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        GATEHOUSE_BOOTSTRAP_PASSWORD=BOOTSTRAP_PASSWORD,
        GATEHOUSE_EVENT_POLL_MS="500",
    )
    running = start_server(server_folder, env)
    yield running
    running.stop()


@pytest.fixture(scope="package")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as running:
        yield running


@pytest.fixture
async def browser_context(
    browser: Browser, server: Server
) -> AsyncIterator[tuple[BrowserContext, OtherHosts]]:
    async with console_context(browser, server.url) as opened:
        yield opened


@pytest.fixture
def other_hosts(browser_context: tuple[BrowserContext, OtherHosts]) -> Iterator[OtherHosts]:
    """What the page tried to fetch from other hosts: must stay empty."""
    others = browser_context[1]
    yield others
    assert others.blocked == [], f"the page asked other hosts: {others.blocked}"


@pytest.fixture
async def page(browser_context: tuple[BrowserContext, OtherHosts], other_hosts: OtherHosts) -> Page:
    return await browser_context[0].new_page()


@pytest.fixture
async def http(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        yield client


@pytest.fixture
async def tenant(admin: GraphQLClient) -> GraphQLClient:
    """A new subtenant for this test; the client is its ``<id>/admin``."""
    return await make_tenant(admin, f"console-{next(_tenants)}")
