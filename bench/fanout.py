"""Subscription fan-out: N websocket subscribers, one status change, delivery latency.

Latency is measured from the event's ``at`` (stamped inside the transaction,
just before commit) to its receipt by each subscriber, on one machine's clock.
The baseline is the floor for the same job: a minimal Starlette websocket
endpoint (``bench/baseline.py``) that stamps a message and sends it to the
same number of sockets, measured in the same run with the same clients.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

from bench.processes import Server, free_port, run_env, start_process, start_server
from bench.scenarios import register_devices

SUBSCRIPTION = """subscription { registrationEvents(status: [PENDING_ACCEPTANCE]) { id at } }"""


@dataclass
class Result:
    name: str
    subscribers: int
    rounds: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    delivered: int
    expected: int
    rss_before_mib: float
    rss_after_mib: float

    @classmethod
    def of(
        cls,
        name: str,
        subscribers: int,
        rounds: int,
        latencies: list[float],
        rss_before: float,
        rss_after: float,
    ) -> Result:
        return cls(
            name,
            subscribers,
            rounds,
            percentile(latencies, 0.5),
            percentile(latencies, 0.99),
            max(latencies, default=float("nan")),
            len(latencies),
            subscribers * rounds,
            rss_before,
            rss_after,
        )

    def row(self) -> dict[str, Any]:
        return self.__dict__.copy()


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


async def _open_subscriber(url: str, auth: str) -> ClientConnection:
    connection = await websockets.connect(
        url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        open_timeout=30,
        ping_interval=None,
    )
    await connection.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": auth}})
    )
    ack = json.loads(await asyncio.wait_for(connection.recv(), 30))
    assert ack["type"] == "connection_ack", ack
    await connection.send(
        json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
    )
    return connection


async def _receive(connection: ClientConnection, count: int, sink: list[float]) -> None:
    for _ in range(count):
        message = json.loads(await connection.recv())
        received = time.time()
        event = message["payload"]["data"]["registrationEvents"]
        sent = datetime.fromisoformat(event["at"]).timestamp()
        sink.append((received - sent) * 1000)


async def open_many(urls: Sequence[str], auth: str, count: int) -> list[ClientConnection]:
    """``count`` subscribers spread round-robin over ``urls``, opened 50 at a time."""
    connections: list[ClientConnection] = []
    for start in range(0, count, 50):
        batch = [
            _open_subscriber(urls[n % len(urls)], auth)
            for n in range(start, min(count, start + 50))
        ]
        connections.extend(await asyncio.gather(*batch))
    return connections


async def gatehouse_fanout(
    name: str,
    servers: Sequence[Server],
    admin_auth: str,
    bootstrap_auth: str,
    subscribers: int,
    rounds: int,
) -> Result:
    async with httpx.AsyncClient(timeout=60) as http:
        slug = "".join(c if c.isalnum() else "-" for c in name)
        ids = [f"fanout-{slug}-{n}" for n in range(rounds)]
        await register_devices(http, servers[0], admin_auth, ids)
        rss_before = sum(s.rss_mib() for s in servers)
        connections = await open_many([s.ws_url for s in servers], admin_auth, subscribers)
        await asyncio.sleep(2)  # let every subscription join its feed
        rss_after = sum(s.rss_mib() for s in servers)
        latencies: list[float] = []
        receivers = [asyncio.create_task(_receive(c, rounds, latencies)) for c in connections]
        for device_id in ids:
            # One status change: the device's first contact (WAITING -> PENDING_ACCEPTANCE).
            poll = await http.post(
                f"{servers[-1].url}/devicecontrol/deviceCredentials",
                json={"id": device_id},
                headers={"Authorization": bootstrap_auth},
            )
            assert poll.status_code == 404
            await asyncio.sleep(1.0)
        await _finish(receivers, connections)
    return Result.of(name, subscribers, rounds, latencies, rss_before, rss_after)


async def baseline_fanout(server: Server, subscribers: int, rounds: int) -> Result:
    async def open_plain() -> ClientConnection:
        return await websockets.connect(
            f"ws://127.0.0.1:{server.port}/ws", open_timeout=30, ping_interval=None
        )

    rss_before = server.rss_mib()
    connections: list[ClientConnection] = []
    for start in range(0, subscribers, 50):
        connections.extend(
            await asyncio.gather(*(open_plain() for _ in range(min(50, subscribers - start))))
        )
    await asyncio.sleep(2)
    rss_after = server.rss_mib()
    latencies: list[float] = []

    async def receive(connection: ClientConnection) -> None:
        for _ in range(rounds):
            message = json.loads(await connection.recv())
            latencies.append((time.time() - message["at"]) * 1000)

    receivers = [asyncio.create_task(receive(c)) for c in connections]
    async with httpx.AsyncClient(timeout=60) as http:
        for _ in range(rounds):
            await http.post(f"{server.url}/broadcast")
            await asyncio.sleep(1.0)
    await _finish(receivers, connections)
    return Result.of(
        "baseline: bare Starlette broadcast", subscribers, rounds, latencies, rss_before, rss_after
    )


async def _finish(receivers: list[asyncio.Task[None]], connections: list[ClientConnection]) -> None:
    """Wait (bounded) for every expected message, then close every socket."""
    _, pending = await asyncio.wait(receivers, timeout=30)
    for task in pending:
        task.cancel()
    await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)


def start_baseline(cwd: Path, database_url: str | None = None) -> Server:
    """The baseline app (``bench/baseline.py``) under uvicorn, as Gatehouse is served."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.baseline:app",
        "--port",
        str(port),
        "--log-level",
        "warning",
        # As configured for `gatehouse serve`: no per-message compression.
        "--ws-per-message-deflate",
        "false",
    ]
    env = run_env(PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    if database_url:
        env["BENCH_DATABASE_URL"] = database_url
    # uvicorn at warning level prints no startup line; start_process waits for /health.
    return start_process(command, cwd, env, port, startup_line=None)


async def run(
    cwd: Path,
    database_url: str,
    redis_url: str,
    subscribers: int,
    rounds: int,
    admin_auth: str,
    bootstrap_auth: str,
    env: dict[str, str],
) -> list[Result]:
    results: list[Result] = []
    baseline = start_baseline(cwd)
    try:
        results.append(await baseline_fanout(baseline, subscribers, rounds))
    finally:
        baseline.stop()
    one = start_server(cwd, env | {"GATEHOUSE_DATABASE_URL": database_url})
    try:
        results.append(
            await gatehouse_fanout(
                "one process", [one], admin_auth, bootstrap_auth, subscribers, rounds
            )
        )
    finally:
        one.stop()
    cluster_env = env | {"GATEHOUSE_DATABASE_URL": database_url, "GATEHOUSE_BROKER_URL": redis_url}
    a = start_server(cwd, cluster_env)
    b = start_server(cwd, cluster_env)
    try:
        results.append(
            await gatehouse_fanout(
                "two processes + Redis", [a, b], admin_auth, bootstrap_auth, subscribers, rounds
            )
        )
    finally:
        a.stop()
        b.stop()
    return results
