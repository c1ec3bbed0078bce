"""Throttling across real server processes (API.md §9.2): counts shared through Redis.

Two ``gatehouse serve`` processes on one PostgreSQL and one Redis count failed
logins per client address and polls per device id together, so spreading an
attack over the processes behind a load balancer gains nothing; and a
throttled address is refused over the websocket too (close code 4429). Each
test speaks from a loopback address of its own (``127.0.0.x``), so the counts of
one test never touch another's.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
import websockets

from resolvers.throttling import KEY_PREFIX
from tests.kit.accounts import ADMIN_PASSWORD, BOOTSTRAP_PASSWORD
from tests.kit.clients import basic
from tests.kit.servers import Server, run_env, start_server
from tests.kit.services import REDIS_VARIABLE, drop_scratch_database, scratch_database, service_url

MAX_FAILURES = 4
POLL_LIMIT = 3
ADMIN = basic("admin", ADMIN_PASSWORD)
BOOTSTRAP = basic("devicebootstrap", BOOTSTRAP_PASSWORD)


async def forget_counts(redis_url: str) -> None:
    """Drop every throttle count an earlier run left in this Redis database."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        keys = [key async for key in client.scan_iter(f"{KEY_PREFIX}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    redis_url = service_url(REDIS_VARIABLE)
    database_url = scratch_database("throttling")
    asyncio.run(forget_counts(redis_url))
    env = run_env(
        GATEHOUSE_DATABASE_URL=database_url,
        GATEHOUSE_BROKER_URL=redis_url,
        GATEHOUSE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        GATEHOUSE_BOOTSTRAP_PASSWORD=BOOTSTRAP_PASSWORD,
        GATEHOUSE_LOGIN_MAX_FAILURES=str(MAX_FAILURES),
        GATEHOUSE_LOGIN_REFUSAL_DELAY_MS="0",
        GATEHOUSE_POLL_LIMIT=str(POLL_LIMIT),
    )
    cwd = Path(tmp_path_factory.mktemp("throttling"))
    first = start_server(cwd, env)
    try:
        second = start_server(cwd, env)
    except BaseException:
        first.stop()
        raise
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()
        drop_scratch_database(database_url)


def client_from(address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(local_address=address), timeout=10)


@pytest.fixture
async def attacker() -> AsyncIterator[httpx.AsyncClient]:
    async with client_from("127.0.0.2") as client:
        yield client


async def me(client: httpx.AsyncClient, server: Server, authorization: str) -> httpx.Response:
    return await client.post(
        f"{server.url}/graphql",
        json={"query": "{ me { username } }"},
        headers={"Authorization": authorization},
    )


async def test_failed_logins_on_two_processes_add_up_to_one_count(
    servers: tuple[Server, Server], attacker: httpx.AsyncClient
) -> None:
    first, second = servers
    for n in range(MAX_FAILURES):  # half on each process
        server = (first, second)[n % 2]
        assert (await me(attacker, server, basic("admin", f"wrong-{n}"))).status_code == 401
    for server in (first, second):
        refused = await me(attacker, server, basic("admin", "one-more"))
        assert refused.status_code == 429, server.url
        assert int(refused.headers["retry-after"]) >= 1
    async with client_from("127.0.0.1") as operator:
        assert (await me(operator, second, ADMIN)).status_code == 200


async def test_polls_of_one_device_on_two_processes_add_up_to_one_limit(
    servers: tuple[Server, Server],
) -> None:
    first, second = servers
    async with client_from("127.0.0.4") as device:

        async def poll(server: Server) -> int:
            answer = await device.post(
                f"{server.url}/devicecontrol/deviceCredentials",
                json={"id": "SHARED-POLLS"},
                headers={"Authorization": BOOTSTRAP},
            )
            return answer.status_code

        assert [await poll((first, second)[n % 2]) for n in range(POLL_LIMIT)] == [404] * 3
        assert [await poll(first), await poll(second)] == [429, 429]


async def test_a_throttled_address_is_refused_on_the_websocket_with_4429(
    servers: tuple[Server, Server],
) -> None:
    first, second = servers
    async with client_from("127.0.0.3") as attacker:
        for n in range(MAX_FAILURES):
            assert (await me(attacker, first, basic("admin", f"wrong-{n}"))).status_code == 401

    async def init(authorization: str, address: str) -> tuple[int | None, str]:
        async with websockets.connect(
            second.ws_url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            local_addr=(address, 0),
        ) as socket:
            init = {"type": "connection_init", "payload": {"Authorization": authorization}}
            await socket.send(json.dumps(init))
            try:
                answer = await asyncio.wait_for(socket.recv(), 5)
            except websockets.ConnectionClosed:
                pass
            else:
                return None, json.loads(answer)["type"]
            assert socket.close_code is not None
            return socket.close_code, socket.close_reason or ""

    code, reason = await init(basic("admin", "a-guess"), "127.0.0.3")
    assert code == 4429
    assert "retry after" in reason.lower()
    assert await init(ADMIN, "127.0.0.1") == (None, "connection_ack")
