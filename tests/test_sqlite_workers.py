"""SQLite with several workers works: writes wait for each other (API.md §9.6).

``gatehouse serve --workers 2`` on one SQLite file, and many devices making
first contact at once (each a write): none answers 500, and every poll's
write lands. Before, 41 % of such polls answered 500 "database is locked".
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx

from tests.kit.accounts import ADMIN_LOGIN, ADMIN_PASSWORD, BOOTSTRAP_LOGIN, BOOTSTRAP_PASSWORD
from tests.kit.clients import basic
from tests.kit.devices import CREDENTIALS_URL
from tests.kit.documents import REGISTER
from tests.kit.servers import run_env, start_server

DEVICES = 300


async def test_two_workers_on_sqlite_take_concurrent_first_polls_without_error(
    tmp_path: Path,
) -> None:
    env = run_env(
        GATEHOUSE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        GATEHOUSE_BOOTSTRAP_PASSWORD=BOOTSTRAP_PASSWORD,
        GATEHOUSE_LOG_LEVEL="WARNING",
    )
    server = start_server(tmp_path, env, "--workers", "2", startup_line=None)
    admin = {"Authorization": basic(ADMIN_LOGIN, ADMIN_PASSWORD)}
    bootstrap = {"Authorization": basic(BOOTSTRAP_LOGIN, BOOTSTRAP_PASSWORD)}
    ids = [f"sqlite-worker-{n}" for n in range(DEVICES)]
    try:
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30) as http:
            registered = await http.post(
                "/graphql",
                json={"query": REGISTER, "variables": {"devices": [{"id": i} for i in ids]}},
                headers=admin,
            )
            assert registered.json()["data"]["register"]["__typename"] == "RegisterSuccess"
            polls = await asyncio.gather(
                *(http.post(CREDENTIALS_URL, json={"id": i}, headers=bootstrap) for i in ids)
            )
            statuses = Counter(p.status_code for p in polls)
            pending = await http.post(
                "/graphql",
                json={"query": "{ registrations(status: [PENDING_ACCEPTANCE]) { totalCount } }"},
                headers=admin,
            )
        print(f"{DEVICES} concurrent first polls on two SQLite workers: {dict(statuses)}")
        assert statuses == {404: DEVICES}
        assert pending.json()["data"]["registrations"]["totalCount"] == DEVICES
    finally:
        server.stop()
