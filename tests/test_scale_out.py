"""Several server processes on one PostgreSQL and one Redis behave as one server.

Needs GATEHOUSE_TEST_DATABASE_URL and GATEHOUSE_TEST_REDIS_URL. The servers poll
the log only once a minute here, so every prompt delivery below went through
Redis (or through the catch-up a process does when it reconnects to Redis).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from bench.scenarios import register_devices
from tests.kit.accounts import ADMIN_PASSWORD, BOOTSTRAP_PASSWORD
from tests.kit.clients import basic
from tests.kit.servers import Server, Subscriber, run_env, start_server
from tests.kit.services import REDIS_VARIABLE, scratch_database_fixture, service_url

EVENTS = "subscription { registrationEvents { cursor kind id } }"
ADMIN = basic("admin", ADMIN_PASSWORD)


database_url = scratch_database_fixture("scale_out")


@pytest.fixture
def cluster_env(database_url: str) -> dict[str, str]:
    return run_env(
        GATEHOUSE_DATABASE_URL=database_url,
        GATEHOUSE_BROKER_URL=service_url(REDIS_VARIABLE),
        GATEHOUSE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        GATEHOUSE_BOOTSTRAP_PASSWORD=BOOTSTRAP_PASSWORD,
        GATEHOUSE_EVENT_POLL_MS="60000",
    )


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


def start_two(cwd: Path, env: dict[str, str], servers: list[Server]) -> tuple[Server, Server]:
    """Two server processes on the same database and Redis (stopped by the ``servers`` fixture)."""
    for _ in range(2):
        servers.append(start_server(cwd, env))
    return servers[-2], servers[-1]


async def register_on(http: httpx.AsyncClient, server: Server, *ids: str) -> None:
    """Register ``ids`` on the real ``server`` as the management admin."""
    await register_devices(http, server, ADMIN, list(ids))


async def test_mutation_on_one_process_reaches_subscribers_on_both(
    tmp_path: Path, cluster_env: dict[str, str], servers: list[Server], http: httpx.AsyncClient
) -> None:
    a, b = start_two(tmp_path, cluster_env, servers)
    on_a = await Subscriber.open(a.ws_url, ADMIN, EVENTS)
    on_b = await Subscriber.open(b.ws_url, ADMIN, EVENTS)
    await asyncio.sleep(0.3)

    await register_on(http, a, "from-a-1", "from-a-2")
    await register_on(http, b, "from-b-1")
    seen_on_a = await on_a.events(3, timeout=5)
    seen_on_b = await on_b.events(3, timeout=5)
    assert seen_on_a == seen_on_b
    assert [e["id"] for e in seen_on_b] == ["from-a-1", "from-a-2", "from-b-1"]
    await on_a.close()
    await on_b.close()


async def test_no_event_lost_when_redis_connections_drop(
    tmp_path: Path, cluster_env: dict[str, str], servers: list[Server], http: httpx.AsyncClient
) -> None:
    a, b = start_two(tmp_path, cluster_env, servers)
    subscriber = await Subscriber.open(b.ws_url, ADMIN, EVENTS)
    await asyncio.sleep(0.3)
    await register_on(http, a, "before-drop")
    assert [e["id"] for e in await subscriber.events(1, timeout=5)] == ["before-drop"]

    redis = aioredis.Redis.from_url(service_url(REDIS_VARIABLE))
    try:
        expected = []
        for round_ in range(3):
            # Cut every pub/sub connection (both servers' listeners) and change
            # things at once, so the notices are published while B is not listening.
            assert await drop_subscriber_connections(redis) >= 2
            ids = [f"drop{round_}-{n}" for n in range(3)]
            await register_on(http, a, *ids)
            expected.extend(ids)
            await asyncio.sleep(0.2)
    finally:
        await redis.aclose()
    received = await subscriber.events(len(expected), timeout=10)
    assert [e["id"] for e in received] == expected
    assert await subscriber.nothing_within(0.5)
    await subscriber.close()


async def drop_subscriber_connections(redis: aioredis.Redis) -> int:
    """Kill every connection subscribed to a channel (the servers' listeners)."""
    clients = await redis.client_list()
    listeners = [c["id"] for c in clients if int(c.get("sub", 0)) > 0]
    for client_id in listeners:
        await redis.client_kill_filter(_id=client_id)
    return len(listeners)


async def test_workers_share_one_event_stream(
    tmp_path: Path, cluster_env: dict[str, str], servers: list[Server]
) -> None:
    server = start_server(tmp_path, cluster_env, "--workers", "2")
    servers.append(server)
    subscriber = await Subscriber.open(server.ws_url, ADMIN, EVENTS)
    await asyncio.sleep(0.3)
    ids = [f"worker-{n}" for n in range(12)]
    for device_id in ids:
        # A new connection each time, so the kernel spreads them over the workers.
        async with httpx.AsyncClient(timeout=10) as http:
            await register_on(http, server, device_id)
    received = await subscriber.events(len(ids), timeout=10)
    assert [e["id"] for e in received] == ids
    await subscriber.close()


async def _status(http: httpx.AsyncClient, server: Server, login: str, password: str) -> int:
    response = await http.post(
        f"{server.url}/graphql",
        json={"query": "{ me { permissions } }"},
        headers={"Authorization": basic(login, password)},
    )
    return response.status_code


async def _within_a_second(check: Callable[[], Awaitable[bool]]) -> float:
    """Seconds until ``check`` holds; fails if it does not within one second."""
    start = asyncio.get_running_loop().time()
    while True:
        if await check():
            return asyncio.get_running_loop().time() - start
        assert asyncio.get_running_loop().time() - start < 1.0, "not within 1 s"
        await asyncio.sleep(0.02)


async def test_user_changes_on_one_process_take_effect_on_the_other_within_a_second(
    tmp_path: Path, cluster_env: dict[str, str], servers: list[Server], http: httpx.AsyncClient
) -> None:
    # A long login cache, so only the invalidation can explain a change within a second.
    a, b = start_two(tmp_path, cluster_env | {"GATEHOUSE_AUTH_CACHE_SECONDS": "3600"}, servers)

    async def gql(server: Server, query: str, **variables: object) -> dict[str, Any]:
        response = await http.post(
            f"{server.url}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": ADMIN},
        )
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        return body

    create = """mutation($u: String!, $p: String!, $perms: [Permission!]!) {
      createUser(username: $u, password: $p, permissions: $perms) { username } }"""
    await gql(a, create, u="bob", p="bob-password", perms=["INVENTORY_READ"])
    assert await _status(http, b, "management/bob", "bob-password") == 200  # cached on b

    await gql(
        a,
        'mutation { setUserPassword(username: "bob", password: "bob-second") { username } }',
    )

    async def old_refused_on_b() -> bool:
        return await _status(http, b, "management/bob", "bob-password") == 401

    await _within_a_second(old_refused_on_b)
    assert await _status(http, b, "management/bob", "bob-second") == 200  # cached again

    await gql(
        a,
        'mutation { updateUser(username: "bob", permissions: [DEVICE_CONTROL_READ]) { username } }',
    )

    async def new_permissions_on_b() -> bool:
        response = await http.post(
            f"{b.url}/graphql",
            json={"query": "{ me { permissions } }"},
            headers={"Authorization": basic("management/bob", "bob-second")},
        )
        permissions: list[str] = response.json()["data"]["me"]["permissions"]
        return permissions == ["DEVICE_CONTROL_READ"]

    await _within_a_second(new_permissions_on_b)

    await gql(a, 'mutation { deleteUser(username: "bob") }')

    async def deleted_on_b() -> bool:
        return await _status(http, b, "management/bob", "bob-second") == 401

    await _within_a_second(deleted_on_b)
