"""Subscription fan-out: N websocket subscribers, one status change, delivery latency.

Latency is measured from *sending the change* to its receipt by each
subscriber, on one machine's clock: for Gatehouse the clock starts just before
the device's first poll (``POST /devicecontrol/deviceCredentials``, which moves
it from WAITING to PENDING_ACCEPTANCE) is sent; for the baseline just before
its ``POST /broadcast`` is sent. So both figures include the request that
causes the messages; Gatehouse's also its commit, the feed's read of the log
and the GraphQL execution. The baseline (``bench/baseline.py``) is the floor
for the same job: a minimal Starlette websocket endpoint that sends one
message to every socket, measured in the same run with the same clients.

The clients are a fleet of lean client processes (``bench/fleet.py``) on the
load CPU, the same code for both sides; the coordinator waits for every
subscriber to have each round's message before sending the next change. The
first round after everyone subscribed is a warm-up, reported apart
(:data:`WARMUP_ROUNDS`); Gatehouse's bootstrap login is verified and cached
before anyone subscribes, as it is for every device poll after the first.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.processes import Server, free_port, run_env, start_process, start_server
from bench.scenarios import register_devices

#: Client processes of the fleet (all on the load CPU; several so that none is a queue).
FLEET_PROCESSES = 4
#: How long a round may take before the coordinator goes on without the stragglers.
ROUND_TIMEOUT = 30.0
#: Rounds sent once every subscriber is connected, and not measured: the first change
#: after thousands of subscriptions were set up meets their leftovers (the garbage
#: collector's work on the objects they made, cold paths). Their p99 is reported apart.
WARMUP_ROUNDS = 1
#: Pause between one round's last receipt and the next change.
ROUND_GAP = 0.5
#: Where ``python -m bench.fleet`` is found.
ROOT = Path(__file__).resolve().parents[1]


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
    problems: list[str] = field(default_factory=list)
    #: Each measured round's p99 (a slow first round, or one slow round, shows here).
    round_p99_ms: list[float] = field(default_factory=list)
    #: The p99 of the unmeasured first round (see :data:`WARMUP_ROUNDS`).
    warmup_p99_ms: float = float("nan")

    @classmethod
    def of(
        cls,
        name: str,
        subscribers: int,
        received: list[list[float]],
        sent: list[float],
        rss_before: float,
        rss_after: float,
        problems: list[str],
    ) -> Result:
        """Latencies of the rounds after the warm-up ones (``sent`` has every round)."""
        by_round = [
            latencies_of([t[k : k + 1] for t in received], [sent[k]]) for k in range(len(sent))
        ]
        measured = [x for r in by_round[WARMUP_ROUNDS:] for x in r]
        rounds = len(sent) - WARMUP_ROUNDS
        return cls(
            name,
            subscribers,
            rounds,
            percentile(measured, 0.5),
            percentile(measured, 0.99),
            max(measured, default=float("nan")),
            len(measured),
            subscribers * rounds,
            rss_before,
            rss_after,
            problems,
            [round(percentile(r, 0.99), 1) for r in by_round[WARMUP_ROUNDS:]],
            round(percentile([x for r in by_round[:WARMUP_ROUNDS] for x in r], 0.99), 1),
        )

    def row(self) -> dict[str, Any]:
        return self.__dict__.copy()


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


class Fleet:
    """The client processes (``bench/fleet.py``), ``count`` subscribers spread over them."""

    def __init__(self, processes: list[asyncio.subprocess.Process]) -> None:
        self.processes = processes

    @classmethod
    async def start(
        cls,
        port: int,
        count: int,
        *,
        path: str = "/ws",
        auth: str | None = None,
        expect: Sequence[str] = (),
        processes: int = FLEET_PROCESSES,
    ) -> Fleet:
        started = []
        for share in (s for s in _shares(count, processes) if s):
            command = [sys.executable, "-m", "bench.fleet", "--port", str(port), "--path", path]
            command += ["--count", str(share), "--round-timeout", str(ROUND_TIMEOUT)]
            if auth is not None:
                command += ["--graphql", "--auth", auth, "--expect", *expect]
            started.append(
                await asyncio.create_subprocess_exec(
                    *command,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    cwd=ROOT,
                    limit=64 * 1024 * 1024,
                )
            )
        fleet = cls(started)
        lines = await asyncio.gather(*(fleet._line(p, 300) for p in started))
        assert all(line == "ready" for line in lines), lines
        return fleet

    @staticmethod
    async def _line(process: asyncio.subprocess.Process, seconds: float) -> str:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), seconds)
        if not line:
            raise RuntimeError(f"a fleet process exited ({await process.wait()})")
        return line.decode().strip()

    async def _tell(self, line: str) -> None:
        for process in self.processes:
            assert process.stdin is not None
            process.stdin.write(f"{line}\n".encode())
            await process.stdin.drain()

    async def round_done(self, k: int) -> list[str]:
        """Wait until every subscriber has ``k`` messages (or the fleet gave up on some)."""
        await self._tell(f"round {k}")
        lines = await asyncio.gather(*(self._line(p, ROUND_TIMEOUT + 30) for p in self.processes))
        return [line for line in lines if not line.startswith("round")]

    async def stop(self) -> tuple[list[list[float]], list[str]]:
        """Every subscriber's receipt times, and what went wrong."""
        await self._tell("stop")
        received: list[list[float]] = []
        problems: list[str] = []
        for process in self.processes:
            report = json.loads(await self._line(process, 120))
            received.extend(report["received"])
            problems.extend(report["problems"])
            if report["problem_count"] > len(report["problems"]):
                problems.append(f"... and {report['problem_count'] - len(report['problems'])} more")
            await process.wait()
        return received, problems


def latencies_of(received: list[list[float]], sent: list[float]) -> list[float]:
    """Milliseconds from each round's send to each subscriber's receipt of its message."""
    return [
        (at - sent[k]) * 1000 for times in received for k, at in enumerate(times) if k < len(sent)
    ]


async def gatehouse_subscribers(http: httpx.AsyncClient, server: Server) -> int:
    text = (await http.get(f"{server.url}/metrics")).text
    match = re.search(r"^gatehouse_subscribers(?:\{[^}]*\})? (\S+)$", text, re.MULTILINE)
    return int(float(match.group(1))) if match else 0


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
        ids = [f"fanout-{slug}-{n}" for n in range(WARMUP_ROUNDS + rounds)]
        warmup = f"fanout-{slug}-warmup"
        await register_devices(http, servers[0], admin_auth, [*ids, warmup])
        # Before anyone subscribes: the HTTP connection is opened and the bootstrap login
        # verified (argon2, then cached), as for any device poll after the first.
        await _poll(http, servers[-1], warmup, bootstrap_auth)
        rss_before = sum(s.rss_mib() for s in servers)
        fleets = [
            await Fleet.start(
                server.port,
                share,
                path="/graphql",
                auth=admin_auth,
                expect=ids,
                processes=max(1, FLEET_PROCESSES // len(servers)),
            )
            for server, share in zip(servers, _shares(subscribers, len(servers)), strict=True)
        ]
        # Subscribe messages carry no answer: wait until every subscription joined its feed.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            joined = [await gatehouse_subscribers(http, s) for s in servers]
            if sum(joined) >= subscribers:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.5)
        rss_after = sum(s.rss_mib() for s in servers)
        sent: list[float] = []
        problems: list[str] = []
        for k, device_id in enumerate(ids, start=1):
            # One status change: the device's first contact (WAITING -> PENDING_ACCEPTANCE).
            sent.append(time.time())
            await _poll(http, servers[-1], device_id, bootstrap_auth)
            for fleet in fleets:
                problems += await fleet.round_done(k)
            await asyncio.sleep(ROUND_GAP)
        received: list[list[float]] = []
        for fleet in fleets:
            got, trouble = await fleet.stop()
            received += got
            problems += trouble
    return Result.of(name, subscribers, received, sent, rss_before, rss_after, problems)


async def _poll(http: httpx.AsyncClient, server: Server, device_id: str, auth: str) -> None:
    """A device's first contact: WAITING -> PENDING_ACCEPTANCE, one event."""
    poll = await http.post(
        f"{server.url}/devicecontrol/deviceCredentials",
        json={"id": device_id},
        headers={"Authorization": auth},
    )
    assert poll.status_code == 404, poll.text


def _shares(count: int, parts: int) -> list[int]:
    return [count // parts + (1 if n < count % parts else 0) for n in range(parts)]


async def baseline_fanout(server: Server, subscribers: int, rounds: int) -> Result:
    rss_before = server.rss_mib()
    fleet = await Fleet.start(server.port, subscribers)
    await asyncio.sleep(0.5)
    rss_after = server.rss_mib()
    sent: list[float] = []
    problems: list[str] = []
    async with httpx.AsyncClient(timeout=60) as http:
        await http.get(f"{server.url}/health")  # the HTTP connection is open, as for Gatehouse
        for k in range(1, WARMUP_ROUNDS + rounds + 1):
            sent.append(time.time())
            await http.post(f"{server.url}/broadcast")
            problems += await fleet.round_done(k)
            await asyncio.sleep(ROUND_GAP)
    received, trouble = await fleet.stop()
    return Result.of(
        "baseline: bare Starlette broadcast",
        subscribers,
        received,
        sent,
        rss_before,
        rss_after,
        problems + trouble,
    )


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
    *,
    cluster: bool = True,
) -> list[Result]:
    results: list[Result] = []
    baseline = start_baseline(cwd)
    try:
        results.append(await baseline_fanout(baseline, subscribers, rounds))
    finally:
        baseline.stop()
    # One process serves every subscriber: its connection limit must allow them all.
    env = env | {
        "GATEHOUSE_DATABASE_URL": database_url,
        "GATEHOUSE_LOG_LEVEL": "WARNING",
        "GATEHOUSE_MAX_CONNECTIONS": str(subscribers + 100),
    }
    one = start_server(cwd, env, startup_line=None)
    try:
        results.append(
            await gatehouse_fanout(
                "one process", [one], admin_auth, bootstrap_auth, subscribers, rounds
            )
        )
    finally:
        one.stop()
    if not cluster:
        return results
    cluster_env = env | {"GATEHOUSE_BROKER_URL": redis_url}
    a = start_server(cwd, cluster_env, startup_line=None)
    b = start_server(cwd, cluster_env, startup_line=None)
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
