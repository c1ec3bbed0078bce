"""Hot operations run a fixed number of SQL statements, whatever the data size.

Pinned here so that an N+1 (a query per row) fails a test instead of a
production roll-out. Statements are counted on Tortoise's ``tortoise.db_client``
logger, which logs every statement it sends (BEGIN and COMMIT are not counted).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from tests.kit.clients import GraphQLClient
from tests.kit.devices import poll
from tests.kit.groups import create_group
from tests.kit.registrations import register
from tests.kit.statements import round_trips

LIST = """
query($first: Int) {
  registrations(first: $first) {
    totalCount
    edges { cursor node { id status owner group { id name parent { id name } } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
ACCEPT_ALL_WITH_GROUPS = "mutation { acceptAll { accepted { id status group { name } } warning } }"


class Statements(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not message.startswith(("Created connection", "Closed connection")):
            self.statements.append(message)

    def writes(self) -> list[str]:
        verbs = ("INSERT", "UPDATE", "DELETE")
        return [s for s in self.statements if s.lstrip().upper().startswith(verbs)]


@pytest.fixture
def sql() -> Iterator[Statements]:
    logger = logging.getLogger("tortoise.db_client")
    handler, level = Statements(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


async def register_in_groups(admin: GraphQLClient, prefix: str, count: int) -> None:
    groups = [await create_group(admin, f"{prefix}-group-{n}") for n in range(3)]
    devices = [{"id": f"{prefix}-{n:04}", "groupId": groups[n % 3]} for n in range(count)]
    await register(admin, *devices)


async def count_statements(sql: Statements, client: GraphQLClient, query: str, **v: object) -> int:
    sql.statements.clear()
    await client.data(query, **v)
    return len(sql.statements)


async def test_listing_500_registrations_with_groups_costs_as_much_as_listing_5(
    admin: GraphQLClient, sql: Statements
) -> None:
    await register_in_groups(admin, "small", 5)
    small = await count_statements(sql, admin, LIST, first=500)
    await register_in_groups(admin, "large", 495)
    large = await count_statements(sql, admin, LIST, first=500)
    assert small == large
    assert large <= 4  # page, count, groups, parent groups


async def test_accept_all_runs_the_same_statements_for_5_and_300_devices(
    http: httpx.AsyncClient, admin: GraphQLClient, sql: Statements
) -> None:
    counts = []
    for prefix, size in (("few", 5), ("many", 300)):
        await register_in_groups(admin, prefix, size)
        for n in range(size):
            assert (await poll(http, f"{prefix}-{n:04}")).status_code == 404
        counts.append(await count_statements(sql, admin, ACCEPT_ALL_WITH_GROUPS))
    assert counts[0] == counts[1]


async def test_repeated_poll_of_a_pending_device_reads_one_row_and_writes_nothing(
    http: httpx.AsyncClient, admin: GraphQLClient, sql: Statements
) -> None:
    await register(admin, {"id": "poller"})
    assert (await poll(http, "poller")).status_code == 404  # first contact: writes
    sql.statements.clear()
    for _ in range(5):
        assert (await poll(http, "poller")).status_code == 404
    assert sql.writes() == []
    assert len(sql.statements) == 5


async def test_repeated_poll_is_one_round_trip_a_select_outside_any_transaction(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    """Counted at the driver: no BEGIN or COMMIT, no pool reset, no write (issue 16)."""
    await register(admin, {"id": "poller"})
    assert (await poll(http, "poller")).status_code == 404  # first contact: writes
    with round_trips() as trips:
        for _ in range(5):
            assert (await poll(http, "poller")).status_code == 404
    assert len(trips.calls) == 5, trips.calls
    assert all(call.startswith("SELECT tenant_id, status") for call in trips.calls), trips.calls


async def test_round_trips_see_transactions(http: httpx.AsyncClient, admin: GraphQLClient) -> None:
    """The counter above would see a transaction: the first contact writes in one."""
    await register(admin, {"id": "first"})
    with round_trips() as trips:
        assert (await poll(http, "first")).status_code == 404
    assert any(call.upper().startswith(("BEGIN", "COMMIT")) for call in trips.calls), trips.calls
    assert any(call.startswith("UPDATE") for call in trips.calls), trips.calls


async def test_event_cursor_costs_one_statement_and_only_when_asked_for(
    admin: GraphQLClient, sql: Statements
) -> None:
    await register_in_groups(admin, "cursor", 20)
    without = await count_statements(sql, admin, LIST, first=500)
    with_cursor = LIST.replace("totalCount", "totalCount eventCursor")
    assert await count_statements(sql, admin, with_cursor, first=500) == without + 1
    await register_in_groups(admin, "cursor-more", 200)
    assert await count_statements(sql, admin, with_cursor, first=500) == without + 1
