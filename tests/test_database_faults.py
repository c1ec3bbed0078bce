"""Databases that blink (API.md §9.5, §9.6), against real server processes on PostgreSQL.

The database is black-holed through a TCP proxy the test controls (the
machine's PostgreSQL is never stopped): connections stay open and nothing
answers. Requests and ``/health`` answer 503 within 10 seconds; when the
proxy forwards again everything works without a restart, and subscribers get
what was committed meanwhile. A request whose client disconnects while its
transaction waits is rolled back, never committed later.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from tests.kit.accounts import ADMIN_LOGIN, ADMIN_PASSWORD, BOOTSTRAP_LOGIN, BOOTSTRAP_PASSWORD
from tests.kit.clients import basic
from tests.kit.devices import CREDENTIALS_URL
from tests.kit.documents import REGISTER
from tests.kit.proxy import Proxy, proxy_to
from tests.kit.raw_http import request_head
from tests.kit.servers import Server, Subscriber, run_env, start_server
from tests.kit.services import scratch_database_fixture

ADMIN = {"Authorization": basic(ADMIN_LOGIN, ADMIN_PASSWORD)}
BOOTSTRAP = {"Authorization": basic(BOOTSTRAP_LOGIN, BOOTSTRAP_PASSWORD)}
EVENTS = "subscription($after: String) { registrationEvents(after: $after) { cursor kind id } }"
COUNT = "{ registrations { totalCount } }"


database = scratch_database_fixture("faults")


def through(url: str, proxy: Proxy) -> str:
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{proxy.port}"))


def serve(cwd: Path, database_url: str) -> Server:
    env = run_env(
        GATEHOUSE_DATABASE_URL=database_url,
        GATEHOUSE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        GATEHOUSE_BOOTSTRAP_PASSWORD=BOOTSTRAP_PASSWORD,
        GATEHOUSE_EVENT_POLL_MS="300",
    )
    return start_server(cwd, env)


def register(server: Server, *ids: str) -> dict[str, Any]:
    response = httpx.post(
        server.url + "/graphql",
        json={"query": REGISTER, "variables": {"devices": [{"id": i} for i in ids]}},
        headers=ADMIN,
        timeout=20,
    )
    body: dict[str, Any] = response.json()
    return body


def timed(request: httpx.Request) -> tuple[float, httpx.Response | Exception]:
    started = time.monotonic()
    try:
        with httpx.Client(timeout=30) as client:
            answer: httpx.Response | Exception = client.send(request)
    except httpx.HTTPError as error:
        answer = error
    return time.monotonic() - started, answer


def at_once(*requests: httpx.Request) -> list[tuple[float, httpx.Response | Exception]]:
    results: list[tuple[float, httpx.Response | Exception]] = [(0.0, Exception())] * len(requests)

    def run(n: int) -> None:
        results[n] = timed(requests[n])

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(40)
    return results


async def test_a_black_holed_database_answers_503_within_10_s_and_then_recovers(
    tmp_path: Path, database: str, servers: list[Server]
) -> None:
    target = urlsplit(database)
    with proxy_to(target.hostname or "127.0.0.1", target.port or 5432) as proxy:
        blinking = serve(tmp_path, through(database, proxy))
        servers.append(blinking)
        direct = serve(tmp_path, database)  # the same database, not through the proxy
        servers.append(direct)
        live = await Subscriber.open(blinking.ws_url, ADMIN["Authorization"], EVENTS)
        await asyncio.sleep(0.3)
        assert register(blinking, "before")["data"]["register"]["__typename"] == "RegisterSuccess"
        (seen,) = await live.events(1)
        cursor = seen["cursor"]

        proxy.pause()
        url = blinking.url
        answers = await asyncio.to_thread(
            at_once,
            httpx.Request("GET", url + "/health"),
            httpx.Request("POST", url + "/graphql", json={"query": COUNT}, headers=ADMIN),
            httpx.Request("POST", url + CREDENTIALS_URL, json={"id": "before"}, headers=BOOTSTRAP),
            httpx.Request(
                "POST",
                url + "/graphql",
                json={"query": REGISTER, "variables": {"devices": [{"id": "lost"}]}},
                headers=ADMIN,
            ),
        )
        for took, answer in answers:
            print(f"black hole: {answer!r} after {took:.1f} s")
            assert isinstance(answer, httpx.Response), answer
            assert answer.status_code == 503, answer.text
            assert took < 10
        query, poll = answers[1][1], answers[2][1]
        assert isinstance(query, httpx.Response) and isinstance(poll, httpx.Response)
        assert query.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert poll.json()["error"] == "general/Service Unavailable"
        # Committed meanwhile, by another process that still reaches the database.
        assert register(direct, "during-1", "during-2")["data"]["register"]["registrations"]

        proxy.resume()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if httpx.get(url + "/health", timeout=10).status_code == 200:
                break
            await asyncio.sleep(0.2)
        recovered = httpx.post(url + "/graphql", json={"query": COUNT}, headers=ADMIN, timeout=10)
        assert recovered.json() == {"data": {"registrations": {"totalCount": 3}}}
        # The registration whose request answered 503 was not made behind the client's back.
        ids = [e["id"] for e in await live.events(2, timeout=15)]
        assert ids == ["during-1", "during-2"]
        resumed = await Subscriber.open(
            blinking.ws_url, ADMIN["Authorization"], EVENTS, {"after": cursor}
        )
        assert [e["id"] for e in await resumed.events(2, timeout=10)] == ["during-1", "during-2"]
        await live.close()
        await resumed.close()


def send_and_hang_up(server: Server, body: bytes, after: float) -> None:
    """Send a whole request, then close the connection after ``after`` seconds unanswered."""
    head = request_head(
        "POST",
        "/graphql",
        {**ADMIN, "Content-Type": "application/json", "Content-Length": str(len(body))},
    )
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(head + body)
        sock.settimeout(after)
        with contextlib.suppress(TimeoutError):
            assert not sock.recv(1024), "answered while the tenant was locked"


@pytest.mark.parametrize("hang_up", [True, False], ids=["client gone", "client waits"])
async def test_a_request_whose_client_disconnects_mid_transaction_is_rolled_back(
    tmp_path: Path, database: str, servers: list[Server], hang_up: bool
) -> None:
    server = serve(tmp_path, database)
    servers.append(server)
    device = "abandoned" if hang_up else "awaited"
    body = json.dumps({"query": REGISTER, "variables": {"devices": [{"id": device}]}}).encode()
    holder = await asyncpg.connect(database.replace("postgres://", "postgresql://", 1))
    try:
        # Hold the tenant's log lock: the register waits for it inside its transaction.
        locked = holder.transaction()
        await locked.start()
        await holder.execute("SELECT id FROM tenants WHERE id = 'management' FOR UPDATE")
        if hang_up:
            await asyncio.to_thread(send_and_hang_up, server, body, 1.5)
        else:
            waiting = asyncio.create_task(
                asyncio.to_thread(
                    httpx.post,
                    server.url + "/graphql",
                    content=body,
                    headers={**ADMIN, "Content-Type": "application/json"},
                    timeout=20,
                )
            )
            await asyncio.sleep(1.5)
        await locked.rollback()  # the lock is free: a surviving register would commit now
        if not hang_up:
            assert (await waiting).json()["data"]["register"]["__typename"] == "RegisterSuccess"
        await asyncio.sleep(2)
        stored = await holder.fetchval(
            "SELECT count(*) FROM registrations WHERE device_id = $1", device
        )
        logged = await holder.fetchval(
            "SELECT count(*) FROM registration_events WHERE device_id = $1", device
        )
    finally:
        await holder.close()
    assert (stored, logged) == ((0, 0) if hang_up else (1, 1))
