"""``/metrics`` of a real ``gatehouse serve --workers 2`` on PostgreSQL adds up both workers
(API.md §9.4), refuses callers outside the internal networks, and the supervisor stops
within ``GATEHOUSE_SHUTDOWN_SECONDS``, closing websockets with 1012 and removing the
metrics directory.

Every request here opens a connection of its own, so the kernel hands them to
either worker; each worker's own share is read from its file in the metrics
directory, to show that the scraped total is the sum whichever worker answers.
"""

from __future__ import annotations

import asyncio
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from websockets.exceptions import ConnectionClosed

from tests.kit.accounts import ADMIN_PASSWORD, BOOTSTRAP_LOGIN, BOOTSTRAP_PASSWORD
from tests.kit.clients import basic
from tests.kit.metrics import Scrape, scrape
from tests.kit.servers import Server, Subscriber, run_env, start_server
from tests.kit.services import scratch_database_fixture

MIN_POLLS = 24
EVENTS = "subscription { registrationEvents { cursor kind id } }"
ADMIN = basic("admin", ADMIN_PASSWORD)
SHUTDOWN_SECONDS = 5.0
NOT_FOUND = "gatehouse_device_polls_total"


database_url = scratch_database_fixture("metrics")


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[Server]:
    env = run_env(
        GATEHOUSE_DATABASE_URL=database_url,
        GATEHOUSE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        GATEHOUSE_BOOTSTRAP_PASSWORD=BOOTSTRAP_PASSWORD,
        GATEHOUSE_INTERNAL_NETWORKS="127.0.0.1/32",
        GATEHOUSE_SHUTDOWN_SECONDS=str(SHUTDOWN_SECONDS),
        GATEHOUSE_POLL_LIMIT="0",
    )
    running = start_server(tmp_path, env, "--workers", "2")
    yield running
    if running.process.poll() is None:
        running.stop()


def per_worker(directory: Path) -> dict[str, float]:
    """Each worker's own count of polls answered ``not_found``, from its file."""
    shares: dict[str, float] = {}
    for path in sorted(directory.glob("counter_*.db")):
        for metric in MultiProcessCollector.merge([str(path)]):
            for sample in metric.samples:
                if sample.name == NOT_FOUND and sample.labels == {"result": "not_found"}:
                    shares[path.stem] = sample.value
    return shares


async def gauge_reaches(http: httpx.AsyncClient, url: str, name: str, wanted: float) -> Scrape:
    """Scrape until ``name`` is ``wanted`` (each scrape may be another worker's), 5 s at most."""
    deadline = time.monotonic() + 5
    while True:
        found = await scrape(http, url)
        if found.value(name) == wanted or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


async def test_two_workers_count_together_and_stop_in_time(server: Server) -> None:
    match = re.search(r"metrics of the 2 workers are kept in (\S+)", "".join(server.log))
    assert match, "".join(server.log)
    directory = Path(match.group(1))
    metrics_url = f"{server.url}/metrics"
    fresh = httpx.Limits(max_keepalive_connections=0)  # a new connection for every request
    async with httpx.AsyncClient(limits=fresh, timeout=10) as http:
        before = await scrape(http, metrics_url)
        device = {"Authorization": basic(BOOTSTRAP_LOGIN, BOOTSTRAP_PASSWORD)}
        polls = 0
        # One connection each, one after the other, until both workers have served some
        # (the kernel hands each new connection to whichever worker accepts first).
        while polls < MIN_POLLS or (min(per_worker(directory).values()) == 0 and polls < 400):
            answer = await http.post(
                f"{server.url}/devicecontrol/deviceCredentials",
                json={"id": f"unknown-{polls}"},
                headers=device,
            )
            assert answer.status_code == 404
            polls += 1
        register = 'mutation { register(devices: [{id: "m-1"}, {id: "m-2"}]) { __typename } }'
        registered = await http.post(
            f"{server.url}/graphql", json={"query": register}, headers={"Authorization": ADMIN}
        )
        assert registered.json()["data"]["register"]["__typename"] == "RegisterSuccess"

        scrapes = [await scrape(http, metrics_url) for _ in range(4)]
        for after in scrapes:
            assert after.since(before, NOT_FOUND, result="not_found") == polls
            assert after.value("gatehouse_registrations", status="WAITING_FOR_CONNECTION") == 2
        shares = per_worker(directory)
        print("polls answered by each worker:", shares)
        assert len(shares) == 2 and min(shares.values()) > 0, shares
        assert sum(shares.values()) == scrapes[-1].value(NOT_FOUND, result="not_found")
        route = "/devicecontrol/deviceCredentials"
        timed = scrapes[-1].value(
            "gatehouse_http_request_duration_seconds_count",
            route=route,
            method="POST",
            status="404",
        )
        assert timed == polls

        outside = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
        async with httpx.AsyncClient(transport=outside, timeout=10) as stranger:
            refused = await stranger.get(metrics_url)
        assert refused.status_code == 403
        assert "gatehouse_" not in refused.text

        subscribers = [await Subscriber.open(server.ws_url, ADMIN, EVENTS) for _ in range(2)]
        found = await gauge_reaches(http, metrics_url, "gatehouse_subscribers", 2)
        assert found.value("gatehouse_subscribers") == 2
        await subscribers[0].close()
        found = await gauge_reaches(http, metrics_url, "gatehouse_subscribers", 1)
        assert found.value("gatehouse_subscribers") == 1

    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    with pytest.raises(ConnectionClosed) as closed:
        await subscribers[1].message(timeout=SHUTDOWN_SECONDS)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
    server.process.wait(timeout=SHUTDOWN_SECONDS + 5)
    elapsed = time.monotonic() - started
    print(f"supervisor and workers exited {elapsed:.2f} s after SIGTERM")
    assert elapsed < SHUTDOWN_SECONDS, f"exited after {elapsed:.1f} s"
    assert server.process.returncode == 0, server.output()
    assert not directory.exists()
