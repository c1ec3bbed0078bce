"""Bulk registration of 100,000 CSV lines, beside a COPY of the same good rows (API.md §8.3).

Gatehouse reads the file, decides every line, creates the group paths and
registers the good lines with their events, through ``registerCsv`` (GraphQL,
the answer naming every line) and through ``POST /devicecontrol/bulkNewDeviceRequests``
(REST, the answer naming the failed lines). The baseline is the least a server
could do with the good rows: one ``COPY`` of them into ``registrations`` with the
raw driver, no parsing, no checks, no events.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import asyncpg
import httpx

from bench.processes import Server
from bench.scenarios import Row

LINES = 100_000
#: Every 100th line is bad, in one of four ways (a fifth of them each).
BAD_EVERY = 100
#: The GraphQL way sends the file inside a JSON body: 100,000 lines are about 8.5 MB, beyond
#: GATEHOUSE_MAX_BODY_BYTES's 4 MiB default (413 ``PAYLOAD_TOO_LARGE``). The server the
#: benchmark runs this on raises it, as an operator uploading such files through GraphQL
#: would; the REST route's own limit is 32 MiB.
SERVER_ENV = {"GATEHOUSE_MAX_BODY_BYTES": str(16 * 1024 * 1024)}
TARGET_SECONDS = 10.0
TARGET_RATIO = 10.0
COPY_COLUMNS = [
    "device_id",
    "tenant_id",
    "status",
    "owner",
    "uses_token",
    "failed_attempts",
    "created_at",
    "updated_at",
]
REGISTER_CSV = """mutation($csv: String!) {
  registerCsv(csv: $csv) { created failed lines { line id problem { code message } } }
}"""


def csv_file(prefix: str, lines: int = LINES) -> tuple[str, list[tuple[str, str]]]:
    """A bulk registration file and its good ``(device id, path)`` rows.

    Cumulocity's columns, ``;``-separated, CRLF line ends, group paths two
    levels deep in 20 groups; every ``BAD_EVERY``-th line is bad (an id with a
    space, a preset password, a repeated id, or a PATH with a control character).
    """
    out = ["ID;CREDENTIALS;TENANT;TYPE;NAME;ICCID;IDTYPE;PATH;SHELL"]
    good: list[tuple[str, str]] = []
    for n in range(lines):
        device = f"{prefix}-{n:06}"
        path = f"Site {n % 4}/Hall {n % 5}"
        credentials = ""
        if n % BAD_EVERY == BAD_EVERY - 1:
            kind = (n // BAD_EVERY) % 4
            if kind == 0:
                device = f"{prefix} {n}"
            elif kind == 1:
                credentials = "preset-password"
            elif kind == 2:
                device = f"{prefix}-{n - 1:06}"  # repeats the line before
            else:
                path = "Site\x01"
            out.append(f"{device};{credentials};;c8y_Device;{device};;c8y_Serial;{path};1")
            continue
        out.append(f"{device};;;c8y_Device;{device};;c8y_Serial;{path};1")
        good.append((device, path))
    return "\r\n".join(out) + "\r\n", good


async def _copy(db: asyncpg.Connection, good: list[tuple[str, str]]) -> float:
    now = datetime.now(UTC)
    records = [
        (
            f"copy-{device}",
            "management",
            "WAITING_FOR_CONNECTION",
            "management/admin",
            False,
            0,
            now,
            now,
        )
        for device, _ in good
    ]
    started = time.perf_counter()
    await db.copy_records_to_table("registrations", records=records, columns=COPY_COLUMNS)
    return time.perf_counter() - started


async def register_csv(server: Server, db: asyncpg.Connection, admin: str) -> list[Row]:
    """Both ways in, each beside the same COPY; the rows are the benchmark table's."""
    rows = []
    async with httpx.AsyncClient(timeout=120) as http:
        for way in ("graphql", "rest"):
            text, good = csv_file(f"csv-{way}")
            started = time.perf_counter()
            if way == "graphql":
                response = await http.post(
                    f"{server.url}/graphql",
                    json={"query": REGISTER_CSV, "variables": {"csv": text}},
                    headers={"Authorization": admin},
                )
                assert response.status_code == 200, response.text[:500]
                result = response.json()["data"]["registerCsv"]
                created, failed = result["created"], result["failed"]
            else:
                response = await http.post(
                    f"{server.url}/devicecontrol/bulkNewDeviceRequests",
                    files={"file": ("bulk-registration.csv", text.encode())},
                    headers={"Authorization": admin},
                )
                result = response.json()
                created, failed = result["numberOfCreated"], result["numberOfFailed"]
            seconds = time.perf_counter() - started
            assert created == len(good), (created, len(good))
            assert created + failed == LINES
            base = await _copy(db, [(f"{way}-{d}", p) for d, p in good])
            name = (
                "`registerCsv` (GraphQL, every line in the answer)"
                if way == "graphql"
                else "`POST /devicecontrol/bulkNewDeviceRequests` (REST, multipart)"
            )
            rows.append(
                Row(
                    f"{name}: {LINES:,} lines, {failed:,} bad",
                    seconds * 1000,
                    base * 1000,
                    "ms",
                    f"≤ {TARGET_SECONDS:.0f} s and ≤ {TARGET_RATIO:.0f}x COPY",
                    seconds <= TARGET_SECONDS and seconds <= TARGET_RATIO * base,
                    f"baseline: one COPY of the {len(good):,} good rows; "
                    f"{seconds / base:.1f}x the COPY",
                )
            )
    return rows
