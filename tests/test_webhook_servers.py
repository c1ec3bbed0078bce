"""Webhooks delivered by real ``gatehouse serve`` processes on PostgreSQL (API.md §10.1).

A restart in the middle of a backlog, two processes on one database and one
Redis (each event delivered by one of them, once), a process killed while it
delivers (the other takes over when its claim runs out), and the output of a
server at DEBUG scanned for the secrets. The receiver is a real HTTP server in
the test's process that verifies every signature with ``standardwebhooks``.
Needs GATEHOUSE_TEST_DATABASE_URL (and GATEHOUSE_TEST_REDIS_URL for two processes).
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from bench.scenarios import register_devices
from tests.kit.accounts import ADMIN_PASSWORD, BOOTSTRAP_PASSWORD
from tests.kit.clients import basic
from tests.kit.receivers import HANG, Receiver, running_receiver
from tests.kit.servers import Server, run_env, start_server
from tests.kit.services import REDIS_VARIABLE, scratch_database_fixture, service_url
from tests.kit.webhooks import CREATE_WEBHOOK, ROTATE_WEBHOOK_SECRET

ADMIN = basic("admin", ADMIN_PASSWORD)
EVENT_CURSORS = "query($after: String) { events(first: 1000, after: $after) { edges { cursor } } }"
LEASE_SECONDS = 3


database_url = scratch_database_fixture("webhooks")


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    """A server on ``database_url`` with small webhook timings (``extra`` overrides)."""
    settings = {
        "GATEHOUSE_DATABASE_URL": database_url,
        "GATEHOUSE_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "GATEHOUSE_BOOTSTRAP_PASSWORD": BOOTSTRAP_PASSWORD,
        "GATEHOUSE_WEBHOOKS_ALLOW_PRIVATE": "true",
        "GATEHOUSE_WEBHOOK_MIN_BACKOFF_MS": "50",
        "GATEHOUSE_WEBHOOK_MAX_BACKOFF_SECONDS": "1",
        "GATEHOUSE_WEBHOOK_TIMEOUT_MS": "1000",
        "GATEHOUSE_WEBHOOK_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    return run_env(**{**settings, **extra})


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as running:
        yield running


async def start(cwd: Path, env: dict[str, str], servers: list[Server]) -> Server:
    """A server process; started in a thread, so the receiver in this loop keeps answering."""
    server = await asyncio.to_thread(start_server, cwd, env)
    servers.append(server)
    return server


async def graphql(
    http: httpx.AsyncClient, server: Server, query: str, **variables: Any
) -> dict[str, Any]:
    response = await http.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": ADMIN},
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def new_webhook(http: httpx.AsyncClient, server: Server, receiver: Receiver) -> str:
    created = (await graphql(http, server, CREATE_WEBHOOK, url=receiver.url))["createWebhook"]
    secret: str = created["secret"]
    receiver.secrets = [secret]
    return secret


async def log_cursors(http: httpx.AsyncClient, server: Server) -> list[str]:
    """Every event cursor of the management tenant's log, oldest first."""
    edges = (await graphql(http, server, EVENT_CURSORS))["events"]["edges"]
    return [edge["cursor"] for edge in edges]


def assert_delivered_once_in_order(receiver: Receiver, cursors: list[str], spare: int) -> None:
    """Every event arrived, verified, in log order; at most ``spare`` deliveries twice."""
    unique = receiver.unique()
    assert [d.webhook_id for d in unique] == cursors
    assert all(d.verified_by is not None for d in receiver.deliveries)
    repeated = len(receiver.accepted()) - len(unique)
    assert 0 <= repeated <= spare, collections.Counter(d.webhook_id for d in receiver.accepted())


async def test_a_restart_in_the_middle_of_a_backlog_loses_nothing(
    tmp_path: Path,
    database_url: str,
    servers: list[Server],
    http: httpx.AsyncClient,
    receiver: Receiver,
) -> None:
    env = server_env(database_url)
    first = await start(tmp_path, env, servers)
    await new_webhook(http, first, receiver)
    receiver.delay = 0.05  # a backlog builds up: about 20 events a second
    ids = [f"restart-{n:03}" for n in range(100)]
    await register_devices(http, first, ADMIN, ids)
    await receiver.wait_accepted(10, timeout=20)
    await asyncio.to_thread(first.stop)  # SIGTERM, as an operator's restart
    assert len(receiver.unique()) < len(ids), "the backlog was gone before the restart"

    second = await start(tmp_path, env, servers)
    await receiver.wait_accepted(len(ids), timeout=30)
    assert_delivered_once_in_order(receiver, await log_cursors(http, second), spare=1)
    assert [d.data["id"] for d in receiver.unique()] == ids


async def lease_owner(database_url: str) -> str | None:
    connection = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        owner: str | None = await connection.fetchval("SELECT lease_owner FROM webhooks")
        return owner
    finally:
        await connection.close()


async def test_two_processes_deliver_each_event_once_and_take_over_from_a_dead_one(
    tmp_path: Path,
    database_url: str,
    servers: list[Server],
    http: httpx.AsyncClient,
    receiver: Receiver,
) -> None:
    # Notices travel through Redis; the periodic re-read is too slow to matter here.
    env = server_env(
        database_url,
        GATEHOUSE_BROKER_URL=service_url(REDIS_VARIABLE),
        GATEHOUSE_EVENT_POLL_MS="60000",
    )
    a = await start(tmp_path, env, servers)
    b = await start(tmp_path, env, servers)
    await new_webhook(http, a, receiver)

    # Changes on both processes at once: each process hears of all of them.
    batches = [[f"both-{n:02}-{k}" for k in range(3)] for n in range(20)]
    await asyncio.gather(
        *(register_devices(http, (a, b)[n % 2], ADMIN, ids) for n, ids in enumerate(batches))
    )
    cursors = await log_cursors(http, a)
    assert len(cursors) == 60
    await receiver.wait_accepted(60, timeout=20)
    assert_delivered_once_in_order(receiver, cursors, spare=0)
    assert len(receiver.deliveries) == 60  # the raw count: nothing twice, nothing failed
    assert receiver.most_in_flight == 1  # never two deliveries at once

    # Kill (no clean stop) whichever process holds the webhook while it delivers a backlog.
    receiver.delay = 0.05
    ids = [f"kill-{n:03}" for n in range(60)]
    await register_devices(http, b, ADMIN, ids)
    await receiver.wait_accepted(65, timeout=20)
    owner = await lease_owner(database_url)
    assert owner is not None, "no process was delivering"
    holder = next(s for s in (a, b) if f":{s.process.pid}:" in owner)
    survivor = b if holder is a else a
    os.kill(holder.process.pid, signal.SIGKILL)
    await asyncio.to_thread(holder.process.wait, 10)
    before = len(receiver.unique())
    assert before < 120, "the backlog was gone before the kill"

    try:
        await receiver.wait_accepted(120, timeout=LEASE_SECONDS + 20)
    except AssertionError:  # for diagnosis: what the survivor said about webhooks
        print("".join(line for line in survivor.log if "webhook" in line))
        raise
    assert_delivered_once_in_order(receiver, await log_cursors(http, survivor), spare=1)
    final_owner = await lease_owner(database_url)
    assert final_owner is None or f":{survivor.process.pid}:" in final_owner


async def test_no_webhook_secret_in_the_server_output_at_debug(
    tmp_path: Path,
    database_url: str,
    servers: list[Server],
    http: httpx.AsyncClient,
    receiver: Receiver,
) -> None:
    env = server_env(database_url, GATEHOUSE_LOG_LEVEL="DEBUG")
    server = await start(tmp_path, env, servers)
    startup = server.log
    server.log = collections.deque()  # keep every line from now on, not the last 200
    first = await new_webhook(http, server, receiver)
    receiver.plan = [500]
    await register_devices(http, server, ADMIN, ["debug-1"])
    await receiver.wait_accepted(1)
    webhook_id = "1"
    rotated = await graphql(http, server, ROTATE_WEBHOOK_SECRET, id=webhook_id)
    second = rotated["rotateWebhookSecret"]["secret"]
    receiver.secrets = [second]
    await register_devices(http, server, ADMIN, ["debug-2"])
    delivered = await receiver.wait_accepted(2)
    assert delivered[-1].verified_by == second
    await asyncio.to_thread(server.stop)

    output = "".join([*startup, *server.log])
    assert "created webhook 1" in output
    assert "parameters hidden]" in output, "the SQL log at DEBUG was not in the output"
    assert "attempt 1 failed (HTTP 500 Internal Server Error)" in output
    for secret in (first, second):
        assert secret.removeprefix("whsec_") not in output


async def test_a_server_stops_promptly_and_lets_go_while_a_receiver_hangs(
    tmp_path: Path,
    database_url: str,
    servers: list[Server],
    http: httpx.AsyncClient,
    receiver: Receiver,
) -> None:
    env = server_env(database_url, GATEHOUSE_WEBHOOK_TIMEOUT_MS="20000")
    server = await start(tmp_path, env, servers)
    await new_webhook(http, server, receiver)
    receiver.plan = [HANG]
    await register_devices(http, server, ADMIN, ["hang-1"])
    await receiver.wait_requests(1)
    assert await lease_owner(database_url) is not None  # delivering, and waiting for an answer

    loop = asyncio.get_running_loop()
    began = loop.time()
    await asyncio.to_thread(server.stop)
    assert loop.time() - began < 8  # not the 20 s of the attempt's timeout
    output = "".join(server.log)
    assert "Application shutdown complete" in output
    assert "Traceback" not in output
    assert await lease_owner(database_url) is None  # the next process need not wait

    receiver.plan = []
    again = await start(tmp_path, env, servers)
    delivered = await receiver.wait_accepted(1, timeout=10)
    assert [d.data["id"] for d in delivered] == ["hang-1"]
    assert again.process.poll() is None
