"""A security token guessed at the device endpoint counts, and blocks at the limit (API.md §4).

Whoever holds the shared bootstrap login can poll for an ACCEPTED registration
whose credentials are not yet delivered. A poll with a token that does not
match the one the device presented at first contact (or with none) counts one
failed attempt, exactly as a mismatch at ``accept`` does, and the attempt that
reaches the tenant's limit blocks the registration; the poll answers the same
404 either way, and the credentials never reach the guesser.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
from tortoise import connections

from graph.settings import Settings
from models.events import RegistrationEvent
from models.registrations import Registration
from tests.kit.accounts import bootstrap_client
from tests.kit.clients import GraphQLClient, app_clients
from tests.kit.devices import accepted, pending, poll
from tests.kit.documents import REQUEST_CREDENTIALS
from tests.kit.options import set_max_failed_attempts
from tests.kit.registrations import accept, assert_mismatch, event_kinds, state

RIGHT = "the-token-printed-on-the-device"
NOT_FOUND = "devicecontrol/Not Found"


async def events_of(device_id: str) -> list[tuple[str, str | None, str | None, str | None]]:
    rows = await RegistrationEvent.filter(device_id=device_id).order_by("seq")
    return [
        (
            row.kind.value,
            row.status.value if row.status else None,
            row.previous_status.value if row.previous_status else None,
            row.actor,
        )
        for row in rows
    ]


async def test_wrong_tokens_at_delivery_count_and_the_last_one_blocks(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await set_max_failed_attempts(admin, 3)
    await accepted(http, admin, "GUESS-1", token=RIGHT)
    not_found = (await poll(http, "UNKNOWN-1")).json()
    for n in (1, 2):
        answer = await poll(http, "GUESS-1", token=f"guess-{n}")
        assert answer.status_code == 404
        assert answer.json() == not_found  # the guesser learns nothing
        registration = await state(admin, "GUESS-1")
        assert (registration["status"], registration["failedAttempts"]) == ("ACCEPTED", n)
    assert (await poll(http, "GUESS-1", token="guess-3")).json() == not_found
    blocked = await state(admin, "GUESS-1")
    assert (blocked["status"], blocked["failedAttempts"]) == ("BLOCKED", 3)
    assert blocked["blockedReason"] == "blocked after 3 failed security token attempts"
    assert (await events_of("GUESS-1"))[-3:] == [
        ("TOKEN_REJECTED", "ACCEPTED", "ACCEPTED", "device_GUESS-1"),
        ("TOKEN_REJECTED", "ACCEPTED", "ACCEPTED", "device_GUESS-1"),
        ("BLOCKED", "BLOCKED", "ACCEPTED", "device_GUESS-1"),
    ]

    # The right token comes too late: no credentials, and nothing more is counted.
    assert (await poll(http, "GUESS-1", token=RIGHT)).status_code == 404
    stored = await Registration.get(device_id="GUESS-1")
    assert stored.credentials_delivered_at is None and stored.device_password_hash is None
    assert stored.failed_attempts == 3
    assert (await accept(admin, "GUESS-1", RIGHT))["__typename"] == "RegistrationBlocked"


async def test_a_missing_token_counts_where_the_device_presented_one(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await accepted(http, admin, "GUESS-2", token=RIGHT)
    for token in (None, ""):
        assert (await poll(http, "GUESS-2", token=token)).status_code == 404
    assert (await state(admin, "GUESS-2"))["failedAttempts"] == 2
    assert (await event_kinds("GUESS-2"))[-2:] == ["TOKEN_REJECTED", "TOKEN_REJECTED"]
    assert (await poll(http, "GUESS-2", token=RIGHT)).status_code == 201  # under the limit


async def test_a_device_without_a_token_has_nothing_to_guess(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await accepted(http, admin, "GUESS-3")
    assert (await poll(http, "GUESS-3", token="anything")).status_code == 201
    assert (await state(admin, "GUESS-3"))["failedAttempts"] == 0


async def test_attempts_at_accept_and_at_delivery_share_one_count(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await set_max_failed_attempts(admin, 3)
    await pending(http, admin, "GUESS-4", token=RIGHT)
    assert_mismatch(await accept(admin, "GUESS-4", "typo"), failed=1, left=2)
    assert (await accept(admin, "GUESS-4", RIGHT))["__typename"] == "Registration"
    assert (await poll(http, "GUESS-4", token="guess")).status_code == 404
    assert (await state(admin, "GUESS-4"))["failedAttempts"] == 2
    assert (await poll(http, "GUESS-4", token="guess-again")).status_code == 404
    assert (await state(admin, "GUESS-4"))["status"] == "BLOCKED"


async def test_the_graphql_twin_counts_the_same(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await set_max_failed_attempts(admin, 2)
    await accepted(http, admin, "GUESS-5", token=RIGHT)
    device = bootstrap_client(admin)
    for n in (1, 2):
        data = await device.data(REQUEST_CREDENTIALS, id="GUESS-5", token=f"guess-{n}")
        assert data == {"requestDeviceCredentials": None}
    assert (await state(admin, "GUESS-5"))["status"] == "BLOCKED"
    assert (await device.data(REQUEST_CREDENTIALS, id="GUESS-5", token=RIGHT)) == {
        "requestDeviceCredentials": None
    }


# ---------------------------------------------------------------- at once, on PostgreSQL


#: SQLite serialises every writer, which would prove nothing: these run on PostgreSQL only.
on_postgres = pytest.mark.parametrize("db", ["postgres"], indirect=True)


@pytest.fixture
async def clients(db: str) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Four clients of one app without its poll limit (these tests poll one device at once)."""
    unlimited = Settings(database_url="sqlite://:memory:", poll_limit=0)
    async with app_clients(unlimited, *(f"192.0.2.{n}" for n in range(1, 5))) as opened:
        yield opened


@on_postgres
async def test_many_wrong_tokens_at_once_block_exactly_at_the_limit(
    http: httpx.AsyncClient, admin: GraphQLClient, clients: list[httpx.AsyncClient]
) -> None:
    await set_max_failed_attempts(admin, 5)
    await accepted(http, admin, "GUESS-RACE", token=RIGHT)
    answers = await asyncio.gather(
        *(poll(clients[n % 4], "GUESS-RACE", token=f"guess-{n}") for n in range(40))
    )
    assert {a.status_code for a in answers} == {404}
    assert {a.json()["error"] for a in answers} == {NOT_FOUND}
    pool = getattr(connections.get("default"), "_pool", None)
    assert pool is not None and pool.get_size() > 1, "the polls never overlapped in the database"
    stored = await Registration.get(device_id="GUESS-RACE")
    assert (stored.status.value, stored.failed_attempts) == ("BLOCKED", 5)
    assert Counter(await event_kinds("GUESS-RACE")) == {
        "REGISTERED": 1,
        "CONNECTED": 1,
        "ACCEPTED": 1,
        "TOKEN_REJECTED": 4,
        "BLOCKED": 1,
    }
    assert (await poll(http, "GUESS-RACE", token=RIGHT)).status_code == 404
    assert (await Registration.get(device_id="GUESS-RACE")).device_password_hash is None


@on_postgres
async def test_the_right_token_racing_wrong_ones_never_gets_through_after_the_block(
    http: httpx.AsyncClient, admin: GraphQLClient, clients: list[httpx.AsyncClient]
) -> None:
    await set_max_failed_attempts(admin, 5)
    for round_ in range(4):
        device_id = f"GUESS-RACE-{round_}"
        await accepted(http, admin, device_id, token=RIGHT)
        tokens = [f"guess-{n}" for n in range(12)]
        tokens.insert(2 + round_ * 3, RIGHT)
        answers = await asyncio.gather(
            *(poll(clients[n % 4], device_id, token=t) for n, t in enumerate(tokens))
        )
        delivered = [a for a in answers if a.status_code == 201]
        stored = await Registration.get(device_id=device_id)
        kinds = Counter(await event_kinds(device_id))
        assert stored.failed_attempts <= 5
        assert kinds["TOKEN_REJECTED"] + kinds["BLOCKED"] == stored.failed_attempts
        if delivered:
            # The right token came first: every later guess found the credentials gone.
            assert [answers.index(a) for a in delivered] == [tokens.index(RIGHT)]
            assert stored.status.value == "ACCEPTED" and stored.failed_attempts < 5
            assert kinds["CREDENTIALS_DELIVERED"] == 1 and kinds["BLOCKED"] == 0
        else:
            assert stored.status.value == "BLOCKED" and stored.failed_attempts == 5
            assert stored.device_password_hash is None
            assert kinds["CREDENTIALS_DELIVERED"] == 0 and kinds["BLOCKED"] == 1
