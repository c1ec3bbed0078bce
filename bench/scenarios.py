"""The request-path benchmarks: device poll storm, a 500-row page, acceptAll, bulk register.

Each Gatehouse figure is measured beside a baseline doing the same job with the
raw driver (``bench/baseline.py`` or one hand-written statement), in the same
run on the same database, because one machine's absolute times vary.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

from bench.processes import Server

POLL_SECONDS = 10
POLL_CONNECTIONS = 32
STORM_DEVICES = 10_000
#: The unmeasured polls before each measured run (the storm's first wave, a warm-up).
WARM_SECONDS = 5
LIST_REQUESTS = 30
ACCEPT_ALL_DEVICES = 10_000
#: acceptAll's target (issue 16): both conditions.
ACCEPT_ALL_SECONDS = 0.5
ACCEPT_ALL_RATIO = 3.0
REGISTER_DEVICES = 1000

REGISTER = "mutation($d: [RegisterDeviceInput!]!) { register(devices: $d) { __typename } }"
LIST = """query($first: Int) { registrations(first: $first) {
  totalCount
  edges { cursor node { id status owner group { id name } } }
  pageInfo { hasNextPage endCursor }
} }"""
#: The page sizes of the list scenario: its growth from the first to the second is compared
#: with the baseline's own.
LIST_SIZES = (50, 500)
LIST_DEVICES = 600
LIST_GROUPS = 5
CREATE_GROUP = "mutation($name: String!) { createGroup(name: $name) { id } }"
ACCEPT_ALL = "mutation { acceptAll { accepted { id } notAccepted { id } warning } }"


@dataclass
class Row:
    scenario: str
    gatehouse: float
    #: ``None``: a scenario with nothing to measure beside it (printed "—").
    baseline: float | None
    unit: str
    target: str
    met: bool
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None:
            return None
        return self.gatehouse / self.baseline if self.baseline else float("nan")


def ensure_wrk() -> str:
    """The path of wrk, installing Debian's package when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk from Debian's packages ...", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk could not be installed")
    return found


def _wrk_script(path: str, authorization: str | None, devices: int) -> str:
    """wrk's Lua: ``POST path`` for ``storm-0`` .. ``storm-<devices-1>`` in turn, counting
    the answers' status codes (``done`` prints them for :func:`run_wrk`)."""
    header = f'wrk.headers["Authorization"] = "{authorization}"\n' if authorization else ""
    return (
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"{header}"
        "local threads = {}\n"
        "function setup(thread) table.insert(threads, thread) end\n"
        "function init(args) n = 0; ok = 0; s404 = 0; s429 = 0; s5xx = 0; other = 0 end\n"
        "request = function()\n"
        "  n = n + 1\n"
        f"  local body = '{{\"id\": \"storm-' .. (n % {devices}) .. '\"}}'\n"
        f'  return wrk.format(nil, "{path}", nil, body)\n'
        "end\n"
        "response = function(status, headers, body)\n"
        "  if status < 300 then ok = ok + 1\n"
        "  elseif status == 404 then s404 = s404 + 1\n"
        "  elseif status == 429 then s429 = s429 + 1\n"
        "  elseif status >= 500 then s5xx = s5xx + 1\n"
        "  else other = other + 1 end\n"
        "end\n"
        "function done(summary, latency, requests)\n"
        "  local t = {ok = 0, s404 = 0, s429 = 0, s5xx = 0, other = 0}\n"
        "  for _, thread in ipairs(threads) do\n"
        "    for k, _ in pairs(t) do t[k] = t[k] + thread:get(k) end\n"
        "  end\n"
        '  io.write(string.format("statuses: 2xx=%d 404=%d 429=%d 5xx=%d other=%d\\n",\n'
        "    t.ok, t.s404, t.s429, t.s5xx, t.other))\n"
        "end\n"
    )


@dataclass
class WrkRun:
    """What one wrk run measured: requests per second and the answers' status codes."""

    per_second: float
    statuses: dict[str, int]

    def plus(self, other: WrkRun) -> WrkRun:
        """Two runs of the same length as one: the mean rate, the status counts summed."""
        statuses = {k: n + other.statuses[k] for k, n in self.statuses.items()}
        return WrkRun((self.per_second + other.per_second) / 2, statuses)

    @property
    def refused(self) -> int:
        """Answers that fail the storm: 429 (the poll limit refused) and 5xx."""
        return self.statuses["429"] + self.statuses["5xx"]


def run_wrk(
    wrk: str,
    url: str,
    path: str,
    authorization: str | None,
    seconds: int = POLL_SECONDS,
    devices: int = STORM_DEVICES,
) -> WrkRun:
    """``POST path`` over ``devices`` ids in turn for ``seconds`` (404s count: they are answers)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_wrk_script(path, authorization, devices))
    output = subprocess.run(
        [wrk, "-t1", f"-c{POLL_CONNECTIONS}", f"-d{seconds}s", "-s", script.name, url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    Path(script.name).unlink()
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    counts = re.search(r"statuses: 2xx=(\d+) 404=(\d+) 429=(\d+) 5xx=(\d+) other=(\d+)", output)
    if not rate or not counts:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    keys = ("2xx", "404", "429", "5xx", "other")
    return WrkRun(float(rate.group(1)), dict(zip(keys, map(int, counts.groups()), strict=True)))


async def _graphql(
    http: httpx.AsyncClient, server: Server, auth: str, query: str, **v: object
) -> dict:
    response = await http.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": v},
        headers={"Authorization": auth},
    )
    body: dict = response.json()
    if "errors" in body:
        raise RuntimeError(body["errors"])
    return body


async def register_devices(
    http: httpx.AsyncClient, server: Server, auth: str, ids: list[str]
) -> None:
    """Register ``ids`` in calls of at most 1,000 devices; fails unless every call succeeds."""
    for start in range(0, len(ids), 1000):
        chunk = [{"id": i} for i in ids[start : start + 1000]]
        body = await _graphql(http, server, auth, REGISTER, d=chunk)
        assert body["data"]["register"]["__typename"] == "RegisterSuccess", body


async def poll_storm(
    wrk: str, server: Server, baseline: Server, db: asyncpg.Connection, admin: str, bootstrap: str
) -> Row:
    """A roll-out: STORM_DEVICES registered devices, polled in turn by wrk, the poll limit on.

    Half the devices make first contact in the setup; the other half are still
    WAITING_FOR_CONNECTION when the roll-out starts, and make it in the warm-up
    wave (polls of all devices in turn, not measured). A WAITING device's poll is
    a first contact, a write by contract (API.md §4), once per device; every poll
    after it is a repeated one, which writes nothing: that is the poll a storm
    is made of, and the one measured. The poll limit (§9.2, its default of 10
    polls per device in 10 s) checks every poll and, polled in turn over 10,000
    devices, refuses none below 10,000 polls/s: any 429 (or 5xx) fails the row.
    """
    ids = [f"storm-{n}" for n in range(STORM_DEVICES)]
    contacted = "SELECT count(*) FROM registrations WHERE device_id LIKE 'storm-%' AND status = $1"
    async with httpx.AsyncClient(timeout=60) as http:
        await register_devices(http, server, admin, ids)
        semaphore = asyncio.Semaphore(20)

        async def first_contact(device_id: str) -> None:
            async with semaphore:
                response = await http.post(
                    f"{server.url}/devicecontrol/deviceCredentials",
                    json={"id": device_id},
                    headers={"Authorization": bootstrap},
                )
                assert response.status_code == 404, response.text

        await asyncio.gather(*(first_contact(i) for i in ids[::2]))
        # The roll-out's first wave: the waiting half's first contacts, among repeated polls.
        wave = run_wrk(wrk, server.url, "/devicecontrol/deviceCredentials", bootstrap, WARM_SECONDS)
        waiting = await db.fetch(
            "SELECT device_id FROM registrations WHERE device_id LIKE 'storm-%' AND status = $1",
            "WAITING_FOR_CONNECTION",
        )
        await asyncio.gather(*(first_contact(r["device_id"]) for r in waiting))
    pending = await db.fetchval(contacted, "PENDING_ACCEPTANCE")
    assert pending == STORM_DEVICES, f"{pending} of {STORM_DEVICES} devices pending"
    # The setup updated every row: settle the table (hint bits, dead row versions) before
    # either side is measured, instead of leaving that, or an autovacuum, to whoever
    # reads the rows first (Gatehouse, measured before the baseline).
    await db.execute("VACUUM (ANALYZE) registrations")
    run_wrk(wrk, baseline.url, "/poll", None, WARM_SECONDS)
    state = (
        "SELECT sum(xmin::text::bigint), count(*) FROM registrations WHERE device_id LIKE 'storm-%'"
    )
    before = await db.fetchrow(state)
    events_before = await db.fetchval("SELECT count(*) FROM registration_events")
    # A B B A, half the time each: whichever runs first after the setup runs slower (the
    # database settling), so neither side always goes first.
    half = POLL_SECONDS // 2
    ours = run_wrk(wrk, server.url, "/devicecontrol/deviceCredentials", bootstrap, half)
    theirs = run_wrk(wrk, baseline.url, "/poll", None, half)
    theirs = theirs.plus(run_wrk(wrk, baseline.url, "/poll", None, half))
    ours = ours.plus(run_wrk(wrk, server.url, "/devicecontrol/deviceCredentials", bootstrap, half))
    after = await db.fetchrow(state)
    events_after = await db.fetchval("SELECT count(*) FROM registration_events")
    writes = (before != after) + (events_after - events_before)
    refused = ours.refused + wave.refused
    ratio = ours.per_second / theirs.per_second
    return Row(
        f"device poll storm: {STORM_DEVICES:,} pending devices in turn, poll limit on (polls/s)",
        ours.per_second,
        theirs.per_second,
        "polls/s",
        "≥ 80% of baseline, 0 writes, no 429 or 5xx",
        ratio >= 0.8 and writes == 0 and refused == 0 and ours.statuses["404"] > 0,
        f"{ratio:.0%} of baseline; rows or events written by the storm: {writes}; "
        f"429: {ours.statuses['429']} (warm-up wave {wave.statuses['429']}), "
        f"5xx: {ours.statuses['5xx']} (warm-up wave {wave.statuses['5xx']})",
    )


async def register_list_devices(http: httpx.AsyncClient, server: Server, auth: str) -> None:
    """LIST_DEVICES registrations spread over LIST_GROUPS groups, so that each row of the page
    has a group with a name. Their ids ("list-...") sort before the storm's devices."""
    groups = []
    for n in range(LIST_GROUPS):
        body = await _graphql(http, server, auth, CREATE_GROUP, name=f"Hall {n}")
        groups.append(body["data"]["createGroup"]["id"])
    devices = [
        {"id": f"list-{n:04}", "groupId": groups[n % LIST_GROUPS]} for n in range(LIST_DEVICES)
    ]
    body = await _graphql(http, server, auth, REGISTER, d=devices)
    assert body["data"]["register"]["__typename"] == "RegisterSuccess", body


async def _median_ms(
    http: httpx.AsyncClient, server: Server, baseline: Server, admin: str, first: int
) -> tuple[float, float]:
    """Median latencies of the page of ``first`` from Gatehouse and the baseline, alternated;
    both answers are checked to be the same JSON."""
    ours, theirs = [], []
    request = {"query": LIST, "variables": {"first": first}}
    for _ in range(LIST_REQUESTS):
        # Each side is timed to the last byte of its answer; both are parsed after.
        started = time.perf_counter()
        answer = await http.post(
            f"{server.url}/graphql", json=request, headers={"Authorization": admin}
        )
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        response = await http.get(f"{baseline.url}/registrations", params={"first": first})
        theirs.append(time.perf_counter() - started)
        body = answer.json()
        assert len(body["data"]["registrations"]["edges"]) == first, body
        assert response.json() == body, "the baseline must answer the same JSON"
    return statistics.median(ours) * 1000, statistics.median(theirs) * 1000


async def list_page(server: Server, baseline: Server, admin: str) -> list[Row]:
    """``registrations(first: N)`` with group names for each of LIST_SIZES, beside the
    baseline's page of the same size, and the growth from the smaller to the larger."""
    async with httpx.AsyncClient(timeout=60) as http:
        await register_list_devices(http, server, admin)
        timings: dict[int, tuple[float, float]] = {}
        for first in LIST_SIZES:
            # Warm up (login cache, code paths) before measuring.
            await _graphql(http, server, admin, LIST, first=first)
            await http.get(f"{baseline.url}/registrations", params={"first": first})
            timings[first] = await _median_ms(http, server, baseline, admin, first)
    rows = []
    for first, (gatehouse, base) in timings.items():
        rows.append(
            Row(
                f"registrations(first: {first}) with group names over HTTP (median latency)",
                gatehouse,
                base,
                "ms",
                "≤ 3x baseline (stretch ≤ 2x)",
                gatehouse <= 3 * base,
                f"{gatehouse / base:.1f}x baseline",
            )
        )
    small, large = LIST_SIZES
    ours, theirs = timings[large][0] / timings[small][0], timings[large][1] / timings[small][1]
    growth = ours / theirs
    rows.append(
        Row(
            f"registrations growth from first: {small} to first: {large} (latency ratio)",
            ours,
            theirs,
            "x",
            "≤ 2x the baseline's growth",
            growth <= 2,
            f"{growth:.2f}x the baseline's growth",
        )
    )
    return rows


async def accept_all(server: Server, db: asyncpg.Connection, admin: str) -> Row:
    ids = [f"acc-{n:05}" for n in range(ACCEPT_ALL_DEVICES)]
    pending = (
        "UPDATE registrations SET status = 'PENDING_ACCEPTANCE', connected_at = now(), "
        "accepted_at = NULL, accepted_by = NULL WHERE device_id LIKE 'acc-%'"
    )
    async with httpx.AsyncClient(timeout=120) as http:
        await register_devices(http, server, admin, ids)
        await db.execute(pending)  # as if every device had connected
        # Only these 10,000 are pending: the poll storm's devices are done with.
        await db.execute("DELETE FROM registrations WHERE device_id LIKE 'storm-%'")
        started = time.perf_counter()
        body = await _graphql(http, server, admin, ACCEPT_ALL)
        gatehouse = time.perf_counter() - started
    assert len(body["data"]["acceptAll"]["accepted"]) == ACCEPT_ALL_DEVICES
    await db.execute(pending)
    started = time.perf_counter()
    await db.execute(
        "UPDATE registrations SET status = 'ACCEPTED', accepted_at = now(), updated_at = now(), "
        "accepted_by = 'management/admin' "
        "WHERE tenant_id = 'management' AND status = 'PENDING_ACCEPTANCE' AND uses_token = false"
    )
    base = time.perf_counter() - started
    return Row(
        f"acceptAll of {ACCEPT_ALL_DEVICES:,} pending",
        gatehouse * 1000,
        base * 1000,
        "ms",
        f"≤ {ACCEPT_ALL_SECONDS} s and ≤ {ACCEPT_ALL_RATIO:.0f}x the UPDATE",
        gatehouse <= ACCEPT_ALL_SECONDS and gatehouse <= ACCEPT_ALL_RATIO * base,
        f"{gatehouse / base:.1f}x the UPDATE; the answer lists all 10,000; "
        "statement count pinned by tests/graph/test_query_counts.py",
    )


async def register_many(server: Server, db: asyncpg.Connection, admin: str) -> Row:
    ids = [f"bulk-{n:04}" for n in range(REGISTER_DEVICES)]
    async with httpx.AsyncClient(timeout=60) as http:
        started = time.perf_counter()
        await register_devices(http, server, admin, ids)
        gatehouse = time.perf_counter() - started
    rows = [(f"raw-{n:04}",) for n in range(REGISTER_DEVICES)]
    started = time.perf_counter()
    await db.executemany(
        "INSERT INTO registrations (device_id, tenant_id, status, owner, uses_token, "
        "failed_attempts, created_at, updated_at) "
        "VALUES ($1, 'management', 'WAITING_FOR_CONNECTION', 'management/admin', false, 0, "
        "now(), now())",
        rows,
    )
    base = time.perf_counter() - started
    return Row(
        f"register of {REGISTER_DEVICES:,} devices in one call",
        gatehouse * 1000,
        base * 1000,
        "ms",
        "≤ 1 s",
        gatehouse <= 1.0,
        "baseline: one executemany INSERT of the same rows",
    )
