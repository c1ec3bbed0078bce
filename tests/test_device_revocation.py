"""Revocation reaches every server process within a second (API.md §6), on PostgreSQL and Redis.

Two ``gatehouse serve`` processes share one database and one Redis. A device
logs in through both (so both have its credentials cached); its registration
is then reset or removed through one, and the other must refuse the old
password within a second: only the broker's invalidation can make it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.kit.accounts import ADMIN_LOGIN, ADMIN_PASSWORD, BOOTSTRAP_PASSWORD
from tests.kit.clients import GraphQLClient
from tests.kit.device_logins import gateway, issue, rabbitmq_user, reset
from tests.kit.documents import REMOVE
from tests.kit.servers import Server, run_env, start_server
from tests.kit.services import REDIS_VARIABLE, drop_scratch_database, scratch_database, service_url


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    database_url = scratch_database("revocation")
    env = run_env(
        GATEHOUSE_DATABASE_URL=database_url,
        GATEHOUSE_BROKER_URL=service_url(REDIS_VARIABLE),
        GATEHOUSE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        GATEHOUSE_BOOTSTRAP_PASSWORD=BOOTSTRAP_PASSWORD,
        # A cache far longer than the test: only an invalidation can clear it in time.
        GATEHOUSE_DEVICE_AUTH_CACHE_SECONDS="600",
    )
    folder = tmp_path_factory.mktemp("revocation")
    first = start_server(Path(folder), env)
    try:
        second = start_server(Path(folder), env)
    except BaseException:
        first.stop()
        raise
    yield first, second
    first.stop()
    second.stop()
    drop_scratch_database(database_url)


@pytest.fixture
async def clients(
    two_servers: tuple[Server, Server],
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    a, b = two_servers
    async with (
        httpx.AsyncClient(base_url=a.url, timeout=10) as on_a,
        httpx.AsyncClient(base_url=b.url, timeout=10) as on_b,
    ):
        yield on_a, on_b


async def refused_within(seconds: float, check: object) -> float:
    """How long until ``check()`` (a coroutine function) says refused; fails past ``seconds``."""
    started = time.monotonic()
    while True:
        assert callable(check)
        if await check():
            return time.monotonic() - started
        elapsed = time.monotonic() - started
        assert elapsed < seconds, f"the old password still worked after {elapsed:.2f} s"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("change", ["reset", "remove"])
async def test_a_change_on_one_process_shuts_the_device_out_of_the_other_within_a_second(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient], change: str
) -> None:
    on_a, on_b = clients
    admin = GraphQLClient(on_a, ADMIN_LOGIN, ADMIN_PASSWORD)
    device_id = f"REVOKE-{change}"
    issued = await issue(on_a, admin, device_id)
    username, password = issued["username"], issued["password"]
    for http in (on_a, on_b):  # both processes now hold the device in their cache
        assert await rabbitmq_user(http, username, password) == "allow"
        assert (await gateway(http, username, password)).status_code == 200

    if change == "reset":
        assert (await reset(admin, device_id))["__typename"] == "Registration"
    else:
        removed = await admin.data(REMOVE, id=device_id)
        assert removed["removeRegistration"]["__typename"] == "Removed"

    async def refused_on_b() -> bool:
        denied = await rabbitmq_user(on_b, username, password) == "deny"
        return denied and (await gateway(on_b, username, password)).status_code == 401

    await refused_within(1.0, refused_on_b)
    assert await rabbitmq_user(on_a, username, password) == "deny"
