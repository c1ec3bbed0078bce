"""SIGTERM drains a real ``gatehouse serve`` on PostgreSQL (API.md §9.5).

The slow request is an ``accept`` waiting for the tenant's row lock, which the
test holds in a transaction of its own: no test-only code in the server. On
SIGTERM the server stops accepting connections, closes every websocket with
1012, lets the ``accept`` finish once the lock is released (its answer arrives
and its change commits, after the subscribers were closed), and exits within
``GATEHOUSE_SHUTDOWN_SECONDS``. While it is down a second process registers a
device. A subscription resumed with ``after`` on the restarted server replays
both changes, in commit order, and nothing it had already seen.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.kit.accounts import ADMIN_PASSWORD, BOOTSTRAP_LOGIN, BOOTSTRAP_PASSWORD
from tests.kit.clients import basic
from tests.kit.metrics import scrape
from tests.kit.offline import register_in_another_process
from tests.kit.servers import Server, Subscriber, run_env, start_server
from tests.kit.services import scratch_database_fixture

SHUTDOWN_SECONDS = 6.0
ADMIN = basic("admin", ADMIN_PASSWORD)
EVENTS = """subscription($after: String) {
  registrationEvents(after: $after) { cursor kind id }
}"""
ACCEPT = 'mutation { accept(id: "slow-1") { __typename ... on Registration { id status } } }'


database_url = scratch_database_fixture("sigterm")


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


async def graphql(http: httpx.AsyncClient, server: Server, query: str) -> dict[str, Any]:
    response = await http.post(
        f"{server.url}/graphql", json={"query": query}, headers={"Authorization": ADMIN}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


async def register(http: httpx.AsyncClient, server: Server, device_id: str) -> None:
    body = await graphql(
        http, server, f'mutation {{ register(devices: [{{id: "{device_id}"}}]) {{ __typename }} }}'
    )
    assert body["data"]["register"]["__typename"] == "RegisterSuccess", body


async def joined(http: httpx.AsyncClient, server: Server, count: int) -> None:
    """Wait until ``count`` subscriptions have joined the live stream (the server says so)."""
    for _ in range(100):
        if (await scrape(http, f"{server.url}/metrics")).value("gatehouse_subscribers") == count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} subscriptions never joined")


async def waiting_for_a_lock(connection: asyncpg.Connection) -> bool:
    """Whether some session of this database waits for a row lock (the slow request)."""
    waiting = await connection.fetchval(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    return bool(waiting)


async def refused(url: str) -> bool:
    """Whether a new connection to the server is refused."""
    try:
        async with httpx.AsyncClient(timeout=1) as client:
            await client.get(url)
    except httpx.ConnectError:
        return True
    except httpx.TransportError:
        return False
    return False


async def test_sigterm_drains_and_a_resumed_subscription_misses_nothing(
    tmp_path: Path, database_url: str, servers: list[Server], http: httpx.AsyncClient
) -> None:
    env = run_env(
        GATEHOUSE_DATABASE_URL=database_url,
        GATEHOUSE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        GATEHOUSE_BOOTSTRAP_PASSWORD=BOOTSTRAP_PASSWORD,
        GATEHOUSE_SHUTDOWN_SECONDS=str(SHUTDOWN_SECONDS),
    )
    first = start_server(tmp_path, env)
    servers.append(first)
    await register(http, first, "slow-1")
    polled = await http.post(
        f"{first.url}/devicecontrol/deviceCredentials",
        json={"id": "slow-1"},
        headers={"Authorization": basic(BOOTSTRAP_LOGIN, BOOTSTRAP_PASSWORD)},
    )
    assert polled.status_code == 404  # first contact: PENDING_ACCEPTANCE
    subscribers = [await Subscriber.open(first.ws_url, ADMIN, EVENTS) for _ in range(2)]
    await joined(http, first, 2)
    await register(http, first, "seen-1")
    seen = [(await s.events(1))[0] for s in subscribers]
    assert [(e["kind"], e["id"]) for e in seen] == [("REGISTERED", "seen-1")] * 2
    cursor = seen[0]["cursor"]

    holder = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        lock = holder.transaction()
        await lock.start()
        await holder.execute("SELECT id FROM tenants WHERE id = 'management' FOR UPDATE")
        slow = asyncio.create_task(
            http.post(
                f"{first.url}/graphql", json={"query": ACCEPT}, headers={"Authorization": ADMIN}
            )
        )
        for _ in range(100):
            if await waiting_for_a_lock(holder):
                break
            await asyncio.sleep(0.02)
        assert await waiting_for_a_lock(holder), "the accept never reached the lock"

        started = time.monotonic()
        first.process.send_signal(signal.SIGTERM)
        for subscriber in subscribers:
            with pytest.raises(ConnectionClosed) as closed:
                await subscriber.message(timeout=3)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
        deadline = time.monotonic() + 2
        while not await refused(f"{first.url}/health") and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert await refused(f"{first.url}/health"), "still accepting connections"
        await asyncio.sleep(0.5)
        assert not slow.done() and first.process.poll() is None  # draining, not dropping
        await lock.rollback()
    finally:
        await holder.close()

    answer = await slow
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["accept"] == {
        "__typename": "Registration",
        "id": "slow-1",
        "status": "ACCEPTED",
    }
    first.process.wait(timeout=SHUTDOWN_SECONDS + 5)
    elapsed = time.monotonic() - started
    print(f"exited {elapsed:.2f} s after SIGTERM (the slow request held it ~0.6 s)")
    assert elapsed < SHUTDOWN_SECONDS, f"exited after {elapsed:.1f} s"
    # uvicorn re-raises the signal once it has shut down cleanly, as a process killed
    # by SIGTERM's default action would end (a supervisor sees 143 or -15, not a crash).
    assert first.process.returncode in (0, -signal.SIGTERM), first.output()
    assert "Application shutdown complete" in first.output()

    register_in_another_process(database_url, "offline-1")  # while no server runs

    restarted = start_server(tmp_path, env)
    servers.append(restarted)
    resumed = await Subscriber.open(restarted.ws_url, ADMIN, EVENTS, {"after": cursor})
    replayed = await resumed.events(2)
    assert [(e["kind"], e["id"]) for e in replayed] == [
        ("ACCEPTED", "slow-1"),
        ("REGISTERED", "offline-1"),
    ]
    assert await resumed.nothing_within(0.5)  # nothing twice, nothing before the cursor
    await resumed.close()
