"""``python -m bench``: run the benchmarks, print tables, write JSON.

Needs PostgreSQL (``--database-url``; a fresh database is created) and Redis
(``--redis-url``), as on a production host, and wrk (installed from Debian's
packages when missing). Every Gatehouse figure is printed beside its baseline
measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from bench import bulk, callbacks, console, fanout, scenarios, spray
from bench.processes import basic, pin_servers, run_env, start_server

ADMIN_PASSWORD = "bench-admin-password"
BOOTSTRAP_PASSWORD = "bench-bootstrap-password"
#: Fan-out targets (issue 16): p99 within 1.5x the bare broadcast's and 2 s, RSS 600 MB.
P99_TARGET_MS = 2000
P99_TARGET_RATIO = 1.5
RSS_TARGET_MIB = 600


async def fresh_database(url: str) -> str:
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "gatehouse_bench"
    admin_url = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return urlunsplit(parts._replace(path=f"/{name}"))


def table(results: list[fanout.Result]) -> str:
    header = (
        "| scenario | subscribers | delivered | p50 ms | p99 ms | max ms "
        "| server RSS idle → with subscribers (MiB) | p99 of each round (ms), (warm-up) |"
    )
    lines = [header, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in results:
        lines.append(
            f"| {r.name} | {r.subscribers} | {r.delivered}/{r.expected} | {r.p50_ms:.1f} "
            f"| {r.p99_ms:.1f} | {r.max_ms:.1f} | {r.rss_before_mib:.0f} → {r.rss_after_mib:.0f} "
            f"| ({r.warmup_p99_ms:.0f}) {', '.join(f'{p:.0f}' for p in r.round_p99_ms)} |"
        )
    return "\n".join(lines)


def scenario_table(rows: list[scenarios.Row]) -> str:
    lines = [
        "| scenario | Gatehouse | baseline | target | met | notes |",
        "| --- | ---: | ---: | --- | --- | --- |",
    ]
    for r in rows:
        baseline = "—" if r.baseline is None else f"{r.baseline:,.1f} {r.unit}"
        lines.append(
            f"| {r.scenario} | {r.gatehouse:,.1f} {r.unit} | {baseline} "
            f"| {r.target} | {'yes' if r.met else 'NO'} | {r.note} |"
        )
    return "\n".join(lines)


async def bulk_paths(cwd: Path, database_url: str, env: dict[str, str]) -> list[scenarios.Row]:
    """The bulk registration benchmark alone (``--only bulk``)."""
    quiet = env | {"GATEHOUSE_DATABASE_URL": database_url, "GATEHOUSE_LOG_LEVEL": "WARNING"}
    server = start_server(cwd, quiet | bulk.SERVER_ENV, startup_line=None)
    db = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        return await bulk.register_csv(server, db, basic("admin", ADMIN_PASSWORD))
    finally:
        await db.close()
        server.stop()


async def console_page(cwd: Path, database_url: str, env: dict[str, str]) -> list[scenarios.Row]:
    """The console's registration page in Chromium (``bench/console.py``)."""
    quiet = env | {"GATEHOUSE_DATABASE_URL": database_url, "GATEHOUSE_LOG_LEVEL": "WARNING"}
    server = start_server(cwd, quiet, startup_line=None)
    try:
        return await console.registration_page(
            server,
            basic("admin", ADMIN_PASSWORD),
            basic("devicebootstrap", BOOTSTRAP_PASSWORD),
            ("management", "admin", ADMIN_PASSWORD),
        )
    finally:
        server.stop()


async def callback_checks(cwd: Path, database_url: str, env: dict[str, str]) -> list[scenarios.Row]:
    """The broker callbacks (``bench/callbacks.py``) beside their raw-driver baseline."""
    wrk = scenarios.ensure_wrk()
    quiet = env | {"GATEHOUSE_DATABASE_URL": database_url, "GATEHOUSE_LOG_LEVEL": "WARNING"}
    server = start_server(cwd, quiet, startup_line=None)
    uncached = start_server(
        cwd, quiet | {"GATEHOUSE_DEVICE_AUTH_CACHE_SECONDS": "0"}, startup_line=None
    )
    baseline = fanout.start_baseline(cwd, database_url)
    try:
        return await callbacks.run(
            wrk,
            server,
            uncached,
            baseline,
            basic("admin", ADMIN_PASSWORD),
            basic("devicebootstrap", BOOTSTRAP_PASSWORD),
        )
    finally:
        baseline.stop()
        uncached.stop()
        server.stop()


async def list_pages(cwd: Path, database_url: str, env: dict[str, str]) -> list[scenarios.Row]:
    """The list scenario alone (``--only list``), beside its baseline."""
    quiet = env | {"GATEHOUSE_DATABASE_URL": database_url, "GATEHOUSE_LOG_LEVEL": "WARNING"}
    server = start_server(cwd, quiet, startup_line=None)
    baseline = fanout.start_baseline(cwd, database_url)
    try:
        return await scenarios.list_page(server, baseline, basic("admin", ADMIN_PASSWORD))
    finally:
        baseline.stop()
        server.stop()


async def request_paths(
    cwd: Path, database_url: str, env: dict[str, str], storm_only: bool = False
) -> list[scenarios.Row]:
    wrk = scenarios.ensure_wrk()
    admin = basic("admin", ADMIN_PASSWORD)
    bootstrap = basic("devicebootstrap", BOOTSTRAP_PASSWORD)
    # Like the baseline: no access log line per request (a logging cost, not Gatehouse's).
    # The poll limit stays at its default (10 polls per device in 10 s): the storm polls
    # its 10,000 devices in turn, each once every 10,000 polls, so the limit checks every
    # poll (its cost is measured) and refuses none below 10,000 polls/s.
    quiet = env | {
        "GATEHOUSE_DATABASE_URL": database_url,
        "GATEHOUSE_LOG_LEVEL": "WARNING",
        **bulk.SERVER_ENV,
    }
    server = start_server(cwd, quiet, startup_line=None)
    baseline = fanout.start_baseline(cwd, database_url)
    db = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        storm = await scenarios.poll_storm(wrk, server, baseline, db, admin, bootstrap)
        if storm_only:
            return [storm]
        return [
            storm,
            *await scenarios.list_page(server, baseline, admin),
            await scenarios.accept_all(server, db, admin),
            await scenarios.register_many(server, db, admin),
            *await bulk.register_csv(server, db, admin),
        ]
    finally:
        await db.close()
        baseline.stop()
        server.stop()


def verdicts(results: list[fanout.Result]) -> list[str]:
    """Each Gatehouse row against the targets, beside the baseline (``results[0]``)."""
    baseline = results[0]
    lines = []
    if baseline.delivered != baseline.expected or baseline.problems:
        lines.append(
            f"{baseline.name}: delivered {baseline.delivered}/{baseline.expected}; "
            f"problems: {baseline.problems[:3]}"
        )
    for r in results[1:]:
        ratio = r.p99_ms / max(baseline.p99_ms, 0.001)
        ok_latency = r.p99_ms <= P99_TARGET_MS and ratio <= P99_TARGET_RATIO
        ok_delivery = r.delivered == r.expected and not r.problems
        ok_memory = r.rss_after_mib <= RSS_TARGET_MIB
        lines.append(
            f"{r.name}: p99 {r.p99_ms:.0f} ms, {ratio:.2f}x the baseline's "
            f"(target ≤ {P99_TARGET_RATIO}x and ≤ {P99_TARGET_MS} ms) "
            f"{'met' if ok_latency else 'NOT met'}; delivered {r.delivered}/{r.expected} "
            f"{'met' if ok_delivery else 'NOT met'}; memory {r.rss_after_mib:.0f} MiB "
            f"(target ≤ {RSS_TARGET_MIB}) {'met' if ok_memory else 'NOT met'}"
        )
        if r.problems:
            lines.append(f"  problems: {r.problems[:3]}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/gatehouse_bench"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5, help="status changes to deliver")
    parser.add_argument(
        "--fanout-one-process",
        action="store_true",
        help="fan-out: skip the two-processes-plus-Redis variant",
    )
    parser.add_argument("--output", default="bench/results/bench.json")
    parser.add_argument(
        "--only",
        choices=["paths", "fanout", "callbacks", "bulk", "spray", "console", "list", "storm"],
        help="run one group of benchmarks only",
    )
    args = parser.parse_args()
    print(pin_servers(), flush=True)

    database_url = asyncio.run(fresh_database(args.database_url))
    env = run_env(
        GATEHOUSE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        GATEHOUSE_BOOTSTRAP_PASSWORD=BOOTSTRAP_PASSWORD,
    )
    rows: list[scenarios.Row] = []
    results: list[fanout.Result] = []
    with tempfile.TemporaryDirectory() as cwd:
        if args.only in (None, "fanout"):
            results = asyncio.run(
                fanout.run(
                    Path(cwd),
                    database_url,
                    args.redis_url,
                    args.subscribers,
                    args.rounds,
                    basic("admin", ADMIN_PASSWORD),
                    basic("devicebootstrap", BOOTSTRAP_PASSWORD),
                    env,
                    cluster=not args.fanout_one_process,
                )
            )
            print(table(results), flush=True)
            for line in verdicts(results):
                print(line)
        if args.only in (None, "paths", "storm"):
            database_url = asyncio.run(fresh_database(args.database_url))
            storm_only = args.only == "storm"  # the device poll storm of the paths alone
            rows = asyncio.run(request_paths(Path(cwd), database_url, env, storm_only))
            print()
            print(scenario_table(rows), flush=True)
        if args.only == "list":  # part of "paths"; alone for quick iteration
            database_url = asyncio.run(fresh_database(args.database_url))
            rows = asyncio.run(list_pages(Path(cwd), database_url, env))
            print()
            print(scenario_table(rows), flush=True)
        if args.only in (None, "callbacks"):
            database_url = asyncio.run(fresh_database(args.database_url))
            checks = asyncio.run(callback_checks(Path(cwd), database_url, env))
            rows.extend(checks)
            print()
            print(scenario_table(checks), flush=True)
        if args.only in (None, "bulk"):
            database_url = asyncio.run(fresh_database(args.database_url))
            bulk_rows = asyncio.run(bulk_paths(Path(cwd), database_url, env))
            rows.extend(bulk_rows)
            print()
            print(scenario_table(bulk_rows), flush=True)
        if args.only in (None, "spray"):
            database_url = asyncio.run(fresh_database(args.database_url))
            spray_env = env | {
                "GATEHOUSE_DATABASE_URL": database_url,
                "GATEHOUSE_LOG_LEVEL": "WARNING",
            }
            bootstrap = basic("devicebootstrap", BOOTSTRAP_PASSWORD)
            spray_rows = asyncio.run(spray.scenario(Path(cwd), spray_env, bootstrap))
            rows += spray_rows
            print()
            print(scenario_table(spray_rows), flush=True)
        if args.only in (None, "console"):
            database_url = asyncio.run(fresh_database(args.database_url))
            console_rows = asyncio.run(console_page(Path(cwd), database_url, env))
            rows += console_rows
            print()
            print(scenario_table(console_rows), flush=True)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "request_paths": [r.__dict__ | {"ratio": r.ratio} for r in rows],
        "fanout": [r.row() for r in results],
    }
    output.write_text(json.dumps(report, indent=2))
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
