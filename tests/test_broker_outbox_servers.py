"""The broker outbox across real server processes on PostgreSQL: once each, none lost.

Two ``gatehouse serve`` processes share one database and one Redis, with
``GATEHOUSE_RABBITMQ_MANAGEMENT_URL`` pointing at a stand-in management API
(``tests/kit/management.py``) that lists each device's connection slowly and
counts every DELETE. Revocations made on both processes, while the API is down
and after it is back, are each delivered exactly once; rows left when both
processes stop are delivered by the next process to start.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.kit.accounts import ADMIN_LOGIN, ADMIN_PASSWORD, BOOTSTRAP_PASSWORD
from tests.kit.clients import GraphQLClient
from tests.kit.device_logins import issue, reset
from tests.kit.documents import REMOVE
from tests.kit.management import FakeManagement
from tests.kit.receivers import running_receiver
from tests.kit.servers import Server, run_env, start_server
from tests.kit.services import REDIS_VARIABLE, scratch_database_fixture, service_url

DEVICES = 20


database_url = scratch_database_fixture("outbox", "module")


@pytest.fixture
async def management() -> AsyncIterator[FakeManagement]:
    fake = FakeManagement("gatehouse", "mgmt-pass-1")
    async with running_receiver(app=fake.app, port=fake.port):
        yield fake


def server_env(database_url: str, management: FakeManagement) -> dict[str, str]:
    return run_env(
        GATEHOUSE_DATABASE_URL=database_url,
        GATEHOUSE_BROKER_URL=service_url(REDIS_VARIABLE),
        GATEHOUSE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        GATEHOUSE_BOOTSTRAP_PASSWORD=BOOTSTRAP_PASSWORD,
        GATEHOUSE_RABBITMQ_MANAGEMENT_URL=management.url(),
        GATEHOUSE_RABBITMQ_CLOSE_WINDOW_SECONDS="0",
        GATEHOUSE_BROKER_RETRY_MIN_MS="100",
        GATEHOUSE_BROKER_RETRY_MAX_SECONDS="1",
        GATEHOUSE_EVENT_POLL_MS="200",
    )


async def until_closed(management: FakeManagement, names: set[str], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while names & set(management.connections):
        assert time.monotonic() < deadline, sorted(names & set(management.connections))
        await asyncio.sleep(0.1)


def confirmed(server: Server) -> int:
    """How many revocations the server's log says RabbitMQ confirmed."""
    total = 0
    for line in server.log:
        if "RabbitMQ confirmed" in line:
            total += int(line.split("RabbitMQ confirmed ")[1].split(" ")[0])
    return total


async def test_two_processes_deliver_each_revocation_once_through_an_outage(
    tmp_path: Path, database_url: str, management: FakeManagement
) -> None:
    env = server_env(database_url, management)
    first = start_server(tmp_path, env)
    second = start_server(tmp_path, env)
    try:
        async with (
            httpx.AsyncClient(base_url=first.url, timeout=20) as on_first,
            httpx.AsyncClient(base_url=second.url, timeout=20) as on_second,
        ):
            admin_first = GraphQLClient(on_first, ADMIN_LOGIN, ADMIN_PASSWORD)
            admin_second = GraphQLClient(on_second, ADMIN_LOGIN, ADMIN_PASSWORD)
            ids = [f"OUT-{n}" for n in range(DEVICES)]
            for device_id in ids:
                await issue(on_first, admin_first, device_id)
                management.connections[f"conn-{device_id}"] = f"device_{device_id}"
            management.connections["conn-service"] = "service-user"
            # Half while the API is down (retried by both), half once it is back.
            management.failing = True
            for n, device_id in enumerate(ids[: DEVICES // 2]):
                admin = admin_first if n % 2 else admin_second
                if n % 3:
                    assert (await reset(admin, device_id))["__typename"] == "Registration"
                else:
                    removed = await admin.data(REMOVE, id=device_id)
                    assert removed["removeRegistration"]["__typename"] == "Removed"
            await asyncio.sleep(1.5)
            failed_requests = management.requests
            management.failing = False
            for n, device_id in enumerate(ids[DEVICES // 2 :]):
                admin = admin_first if n % 2 else admin_second
                assert (await reset(admin, device_id))["__typename"] == "Registration"
            await until_closed(management, {f"conn-{i}" for i in ids}, 15)
            await asyncio.sleep(1.0)  # anything sent twice would arrive by now
    finally:
        first.stop()
        second.stop()
    assert failed_requests >= 2, "the outage was not retried"
    assert all(management.deletes[f"conn-{i}"] == 1 for i in ids), management.deletes
    assert "conn-service" in management.connections
    assert confirmed(first) + confirmed(second) == DEVICES
    print(f"confirmed by the first process {confirmed(first)}, the second {confirmed(second)}")
    for server in (first, second):
        assert "mgmt-pass-1" not in "".join(server.log)


async def test_revocations_left_by_stopped_processes_are_delivered_by_the_next(
    tmp_path: Path, database_url: str, management: FakeManagement
) -> None:
    env = server_env(database_url, management)
    server = start_server(tmp_path, env)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as http:
            admin = GraphQLClient(http, ADMIN_LOGIN, ADMIN_PASSWORD)
            await issue(http, admin, "LEFT-1")
            management.connections["conn-LEFT-1"] = "device_LEFT-1"
            management.failing = True
            assert (await reset(admin, "LEFT-1"))["__typename"] == "Registration"
            await asyncio.sleep(0.5)
    finally:
        server.stop()
    management.failing = False
    assert "conn-LEFT-1" in management.connections
    restarted = start_server(tmp_path, env)
    try:
        await until_closed(management, {"conn-LEFT-1"}, 10)
    finally:
        restarted.stop()
    assert management.deletes["conn-LEFT-1"] == 1
