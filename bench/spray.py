"""A password spray beside a device's polls (API.md §9.2, §9.6).

Fifty clients send wrong passwords for the bootstrap login from a second
loopback address (``127.0.0.2``) while a device polls with the right, already
verified bootstrap login from ``127.0.0.1``. The device's latency and
throughput are measured beside the same run without the spray, against the same
server, so the figures compare like with like on a noisy machine. The sprayers
run in a process of their own (``python -m bench.spray``), so their client-side
work does not stall the device's measuring loop.

Used by the benchmark (``python -m bench --only spray``, :func:`scenario`) and
by ``tests/test_spray.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bench.processes import basic, start_server
from bench.scenarios import Row

SPRAY_CLIENTS = 50
SPRAY_ADDRESS = "127.0.0.2"
DEVICE_ADDRESS = "127.0.0.1"
CREDENTIALS_PATH = "/devicecontrol/deviceCredentials"
#: The device rotates over this many ids, as a fleet would: each stays under the poll limit.
DEVICE_IDS = 5000
ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass
class DeviceRun:
    """What the device saw over one run."""

    seconds: float
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def polls_per_second(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 0.5) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 0.99) * 1000

    @property
    def max_ms(self) -> float:
        return max(self.latencies, default=float("nan")) * 1000


@dataclass
class SprayResult:
    quiet: DeviceRun
    sprayed: DeviceRun
    #: The sprayers' answers by HTTP status.
    spray_statuses: Counter[int]

    @property
    def throughput_share(self) -> float:
        return self.sprayed.polls_per_second / self.quiet.polls_per_second


async def poll_device(url: str, authorization: str, seconds: float) -> DeviceRun:
    """Poll as fast as answers come, one request at a time, for ``seconds``."""
    transport = httpx.AsyncHTTPTransport(local_address=DEVICE_ADDRESS)
    run = DeviceRun(seconds)
    async with httpx.AsyncClient(base_url=url, transport=transport, timeout=30) as client:
        headers = {"Authorization": authorization}
        await client.post(CREDENTIALS_PATH, json={"id": "warm-up"}, headers=headers)
        started = time.perf_counter()
        deadline = started + seconds
        n = 0
        while (now := time.perf_counter()) < deadline:
            response = await client.post(
                CREDENTIALS_PATH, json={"id": f"device-{n % DEVICE_IDS}"}, headers=headers
            )
            run.latencies.append(time.perf_counter() - now)
            run.statuses[response.status_code] += 1
            n += 1
        run.seconds = time.perf_counter() - started
    return run


async def spray(url: str, seconds: float, clients: int) -> Counter[int]:
    """``clients`` concurrent loops of wrong bootstrap passwords from :data:`SPRAY_ADDRESS`.

    Each guess is a new password, as an attacker's would be. The sprayers do not
    honour ``Retry-After``: each sends again as soon as it is answered, over its
    own keep-alive connection. They speak HTTP/1.1 over bare asyncio streams, so
    that the attack is limited by the server, not by a client library's overhead.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    statuses: Counter[int] = Counter()
    deadline = time.perf_counter() + seconds

    async def sprayer(n: int) -> None:
        guess = 0
        while time.perf_counter() < deadline:
            try:
                reader, writer = await asyncio.open_connection(
                    host, port, local_addr=(SPRAY_ADDRESS, 0)
                )
            except OSError:
                statuses[0] += 1
                await asyncio.sleep(0.01)
                continue
            try:
                while time.perf_counter() < deadline:
                    guess += 1
                    writer.write(_guess(host, port, n, guess))
                    statuses[await _answer(reader)] += 1
            except (OSError, asyncio.IncompleteReadError, ValueError):
                statuses[0] += 1  # the server closed the connection: open another
            finally:
                writer.close()

    await asyncio.gather(*(sprayer(n) for n in range(clients)))
    return statuses


def _guess(host: str, port: int, n: int, guess: int) -> bytes:
    body = json.dumps({"id": f"spray-{n}"}).encode()
    authorization = basic("devicebootstrap", f"guess-{n}-{guess}")
    return (
        f"POST {CREDENTIALS_PATH} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: {authorization}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _answer(reader: asyncio.StreamReader) -> int:
    """The status of one HTTP/1.1 response, read whole (headers and a sized body)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def measure(
    url: str,
    authorization: str,
    *,
    quiet_seconds: float,
    spray_seconds: float,
    clients: int = SPRAY_CLIENTS,
) -> SprayResult:
    """The device's run without, then with, the spray (a process of its own)."""
    quiet = await poll_device(url, authorization, quiet_seconds)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.spray",
        url,
        str(spray_seconds),
        str(clients),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        ready = await asyncio.wait_for(process.stdout.readline(), 30)
        if ready.strip() != b"spraying":
            raise RuntimeError(f"the sprayer did not start: {ready!r}")
        sprayed = await poll_device(url, authorization, spray_seconds)
        output, _ = await asyncio.wait_for(process.communicate(), spray_seconds + 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    answers = Counter({int(k): v for k, v in json.loads(output)["statuses"].items()})
    return SprayResult(quiet, sprayed, answers)


BENCH_QUIET_SECONDS = 10
BENCH_SPRAY_SECONDS = 10
P99_TARGET_MS = 100


async def scenario(cwd: Path, env: dict[str, str], bootstrap: str) -> list[Row]:
    """The spray beside the quiet run, on a server whose login cache lives 2 s (so the
    device's entry would expire five times during the spray)."""
    server = start_server(cwd, env | {"GATEHOUSE_AUTH_CACHE_SECONDS": "2"}, startup_line=None)
    try:
        result = await measure(
            server.url,
            bootstrap,
            quiet_seconds=BENCH_QUIET_SECONDS,
            spray_seconds=BENCH_SPRAY_SECONDS,
        )
    finally:
        server.stop()
    quiet, sprayed = result.quiet, result.sprayed
    answers = ", ".join(f"{n:,} {status}s" for status, n in sorted(result.spray_statuses.items()))
    device_answers = ", ".join(f"{n:,} {s}s" for s, n in sorted(sprayed.statuses.items()))
    return [
        Row(
            f"device polls with a verified login, {SPRAY_CLIENTS} clients spraying "
            "(one client, polls/s; baseline: no spray)",
            sprayed.polls_per_second,
            quiet.polls_per_second,
            "polls/s",
            "≥ 50% of the quiet run",
            result.throughput_share >= 0.5,
            f"{result.throughput_share:.0%} of the quiet run; the device got {device_answers}",
        ),
        Row(
            "p99 of those polls (baseline: no spray)",
            sprayed.p99_ms,
            quiet.p99_ms,
            "ms",
            f"< {P99_TARGET_MS} ms",
            sprayed.p99_ms < P99_TARGET_MS,
            f"p50 {sprayed.p50_ms:.1f} ms (quiet {quiet.p50_ms:.1f}); "
            f"max {sprayed.max_ms:.0f} ms (quiet {quiet.max_ms:.0f}); sprayers got {answers}",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.spray", description=spray.__doc__)
    parser.add_argument("url")
    parser.add_argument("seconds", type=float)
    parser.add_argument("clients", type=int, nargs="?", default=SPRAY_CLIENTS)
    args = parser.parse_args()
    print("spraying", flush=True)
    statuses = asyncio.run(spray(args.url, args.seconds, args.clients))
    print(json.dumps({"statuses": statuses}), flush=True)


if __name__ == "__main__":
    main()
