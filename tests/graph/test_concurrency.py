"""The concurrency rules of DESIGN.md, proven with real concurrency on PostgreSQL.

Every test fires many HTTP requests at once (``asyncio.gather``) through the
real ASGI app, spread over several ``httpx`` clients. The requests share this
process and its event loop but run on separate pooled database connections, so
their statements interleave for real inside PostgreSQL. Tortoise's asyncpg pool
defaults to ``minsize=1, maxsize=5`` (``tortoise/backends/base_postgres/client.py``;
the test URL sets neither), so up to five transactions are open at once and the
rest wait for a connection; ``test_fifty_wrong_tokens_*`` asserts that the pool
really grew past one connection, i.e. that the requests overlapped in the database.
SQLite serialises every writer, which would prove nothing, so these tests skip there.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from tortoise import connections

from graph.app import create_app
from graph.settings import Settings
from models.events import RegistrationEvent
from models.registrations import Registration
from resolvers.passwords import verify_password
from tests.kit.accounts import make_tenant, make_user
from tests.kit.clients import GraphQLClient
from tests.kit.devices import pending, poll
from tests.kit.options import set_max_failed_attempts
from tests.kit.registrations import accept, accept_all, event_kinds, register

CLIENTS = 4
SHARED_IDS = 200
SHARED_ORDER_ROUNDS = 8
OPERATOR_PERMISSIONS = ["DEVICE_CONTROL_ADMIN", "DEVICE_CONTROL_READ"]


@pytest.fixture
def settings() -> Settings:
    """The app without its poll limit: these tests race many polls of one device on purpose
    (the limit itself is proven in ``tests/graph/test_poll_limit.py``)."""
    return Settings(database_url="sqlite://:memory:", poll_limit=0)


def require_postgres(db: str) -> None:
    if db != "postgres":
        pytest.skip("concurrency rules are proven on PostgreSQL")


def pool_size() -> int:
    """How many connections the ORM's asyncpg pool has opened so far."""
    pool = getattr(connections.get("default"), "_pool", None)
    return int(pool.get_size()) if pool is not None else 0


@pytest.fixture
async def clients(
    http: httpx.AsyncClient, settings: Settings
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Several independent HTTP clients on one more app instance over the same database."""
    app = create_app(settings, manage_orm=False)
    async with AsyncExitStack() as stack:
        opened = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://gatehouse.test"
                )
            )
            for _ in range(CLIENTS - 1)
        ]
        yield [http, *opened]


def spread(client: GraphQLClient, clients: list[httpx.AsyncClient], n: int) -> GraphQLClient:
    """``client``'s login on the ``n``-th HTTP client (round robin)."""
    return GraphQLClient(clients[n % len(clients)], client.login, client.password)


async def accepted_events(device_id: str) -> list[str | None]:
    rows = await RegistrationEvent.filter(device_id=device_id, kind="ACCEPTED")
    return [row.actor for row in rows]


# ---------------------------------------------------------------- (a) failed attempts


async def test_fifty_wrong_tokens_at_once_block_exactly_at_the_limit(
    db: str, http: httpx.AsyncClient, admin: GraphQLClient, clients: list[httpx.AsyncClient]
) -> None:
    require_postgres(db)
    await set_max_failed_attempts(admin, 5)
    await pending(http, admin, "RACE-A", token="the-right-token")

    results = await asyncio.gather(
        *(accept(spread(admin, clients, n), "RACE-A", f"wrong-{n}") for n in range(50))
    )
    assert pool_size() > 1, "the requests never overlapped in the database"

    kinds = Counter(r["__typename"] for r in results)
    assert kinds == {"SecurityTokenMismatch": 4, "RegistrationBlocked": 46}
    mismatches = [r for r in results if r["__typename"] == "SecurityTokenMismatch"]
    assert sorted(r["failedAttempts"] for r in mismatches) == [1, 2, 3, 4]
    assert all(r["attemptsLeft"] == 5 - r["failedAttempts"] for r in mismatches)
    stored = await Registration.get(device_id="RACE-A")
    assert stored.failed_attempts == 5
    assert stored.status.value == "BLOCKED"
    assert Counter(await event_kinds("RACE-A")) == {
        "REGISTERED": 1,
        "CONNECTED": 1,
        "TOKEN_REJECTED": 4,
        "BLOCKED": 1,
    }

    right = await accept(admin, "RACE-A", "the-right-token")
    assert right["__typename"] == "RegistrationBlocked"
    assert (await poll(http, "RACE-A", token="the-right-token")).status_code == 404
    assert (await Registration.get(device_id="RACE-A")).failed_attempts == 5


async def test_right_token_racing_wrong_ones_never_gets_through_after_the_block(
    db: str, http: httpx.AsyncClient, admin: GraphQLClient, clients: list[httpx.AsyncClient]
) -> None:
    require_postgres(db)
    for round_ in range(3):
        device_id = f"RACE-A2-{round_}"
        await pending(http, admin, device_id, token="right")
        tokens = [f"wrong-{n}" for n in range(12)]
        tokens.insert(4 + round_ * 3, "right")
        results = await asyncio.gather(
            *(accept(spread(admin, clients, n), device_id, t) for n, t in enumerate(tokens))
        )
        right = results[tokens.index("right")]
        stored = await Registration.get(device_id=device_id)
        kinds = Counter(await event_kinds(device_id))
        assert stored.failed_attempts <= 5
        assert kinds["TOKEN_REJECTED"] + kinds["BLOCKED"] == stored.failed_attempts
        if right["__typename"] == "Registration":
            assert stored.status.value == "ACCEPTED"
            assert stored.failed_attempts < 5
            assert kinds["ACCEPTED"] == 1 and kinds["BLOCKED"] == 0
        else:
            assert right["__typename"] == "RegistrationBlocked", right
            assert stored.status.value == "BLOCKED"
            assert stored.failed_attempts == 5
            assert kinds["ACCEPTED"] == 0 and kinds["BLOCKED"] == 1


# ---------------------------------------------------------------- (b) two operators


async def test_two_operators_accepting_at_once_one_wins(
    db: str, http: httpx.AsyncClient, admin: GraphQLClient, clients: list[httpx.AsyncClient]
) -> None:
    require_postgres(db)
    alice = await make_user(admin, "alice", OPERATOR_PERMISSIONS)
    bob = await make_user(admin, "bob", OPERATOR_PERMISSIONS)
    for round_ in range(10):
        device_id = f"RACE-B-{round_}"
        await pending(http, admin, device_id)
        results = await asyncio.gather(
            accept(spread(alice, clients, round_), device_id, None),
            accept(spread(bob, clients, round_ + 1), device_id, None),
        )
        kinds = sorted(r["__typename"] for r in results)
        assert kinds == ["InvalidStatus", "Registration"], results
        winner = next(r for r in results if r["__typename"] == "Registration")
        loser = next(r for r in results if r["__typename"] == "InvalidStatus")
        assert loser["status"] == "ACCEPTED"
        assert loser["code"] == "INVALID_STATUS"
        assert winner["acceptedBy"] in {"management/alice", "management/bob"}
        assert await accepted_events(device_id) == [winner["acceptedBy"]]
        assert (await Registration.get(device_id=device_id)).accepted_by == winner["acceptedBy"]


# ---------------------------------------------------------------- (c) devices collecting


async def test_concurrent_polls_deliver_credentials_exactly_once(
    db: str, http: httpx.AsyncClient, admin: GraphQLClient, clients: list[httpx.AsyncClient]
) -> None:
    require_postgres(db)
    for device_id, token in (("RACE-C-1", "c-token"), ("RACE-C-2", None)):
        await pending(http, admin, device_id, token=token)
        assert (await accept(admin, device_id, token))["__typename"] == "Registration"
        answers = await asyncio.gather(
            *(poll(clients[n % len(clients)], device_id, token=token) for n in range(10))
        )
        assert sorted(a.status_code for a in answers) == [201] + [404] * 9
        issued = next(a for a in answers if a.status_code == 201).json()
        stored = await Registration.get(device_id=device_id)
        assert (
            stored.device_password_hash == hashlib.sha256(issued["password"].encode()).hexdigest()
        )
        assert (await event_kinds(device_id)).count("CREDENTIALS_DELIVERED") == 1


# ---------------------------------------------------------------- (d) first contact


async def test_concurrent_first_contacts_connect_once(
    db: str, http: httpx.AsyncClient, admin: GraphQLClient, clients: list[httpx.AsyncClient]
) -> None:
    require_postgres(db)
    await register(admin, {"id": "RACE-D"})
    tokens = [f"first-contact-{n}" for n in range(20)]
    answers = await asyncio.gather(
        *(poll(clients[n % len(clients)], "RACE-D", token=t) for n, t in enumerate(tokens))
    )
    assert [a.status_code for a in answers] == [404] * 20
    assert await event_kinds("RACE-D") == ["REGISTERED", "CONNECTED"]
    stored = await Registration.get(device_id="RACE-D")
    assert stored.status.value == "PENDING_ACCEPTANCE"
    assert stored.uses_token is True
    # The stored hash is that of exactly one of the presented tokens: the winner's.
    matching = [t for t in tokens if await verify_password(stored.token_hash, t)]
    assert len(matching) == 1
    assert (await accept(admin, "RACE-D", matching[0]))["__typename"] == "Registration"
    assert (await poll(http, "RACE-D", token=matching[0])).status_code == 201


# ---------------------------------------------------------------- (e) acceptAll vs accept


async def test_accept_all_racing_accept_accepts_each_registration_once(
    db: str, http: httpx.AsyncClient, admin: GraphQLClient, clients: list[httpx.AsyncClient]
) -> None:
    require_postgres(db)
    alice = await make_user(admin, "alice", OPERATOR_PERMISSIONS)
    for round_ in range(3):
        device_ids = [f"RACE-E-{round_}-{n}" for n in range(8)]
        for device_id in device_ids:
            await pending(http, admin, device_id)
        everything = await asyncio.gather(
            accept_all(spread(admin, clients, 0)),
            *(accept(spread(alice, clients, n + 1), d, None) for n, d in enumerate(device_ids)),
        )
        bulk: dict[str, Any] = everything[0]
        singles: list[dict[str, Any]] = list(everything[1:])
        by_accept_all = {r["id"] for r in bulk["accepted"]}
        by_alice = {r["id"] for r in singles if r["__typename"] == "Registration"}
        assert by_accept_all.isdisjoint(by_alice)
        assert by_accept_all | by_alice == set(device_ids)
        assert bulk["notAccepted"] == []
        for single in singles:
            if single["__typename"] != "Registration":
                assert single["__typename"] == "InvalidStatus", single
                assert single["status"] == "ACCEPTED"
        for device_id in device_ids:
            winner = "management/admin" if device_id in by_accept_all else "management/alice"
            assert await accepted_events(device_id) == [winner]
            stored = await Registration.get(device_id=device_id)
            assert stored.status.value == "ACCEPTED"
            assert stored.accepted_by == winner


# ---------------------------------------------------------------- (f) register


async def _assert_one_register_won(
    results: list[dict[str, Any]], batches: list[list[str]], owners: list[str], shared: set[str]
) -> None:
    kinds = sorted(r["__typename"] for r in results)
    assert kinds == ["RegisterFailure", "RegisterSuccess"], results
    won = next(n for n, r in enumerate(results) if r["__typename"] == "RegisterSuccess")
    lost = 1 - won
    failure = results[lost]
    assert failure["code"] == "ALREADY_EXISTS"
    assert {p["id"] for p in failure["problems"]} == shared
    assert {p["code"] for p in failure["problems"]} == {"ALREADY_EXISTS"}
    stored = {
        row["device_id"]: row["owner"]
        for row in await Registration.filter(device_id__in=batches[0] + batches[1]).values(
            "device_id", "owner"
        )
    }
    # The winner's devices all stored, with the winner as owner; nothing of the loser's.
    assert stored == dict.fromkeys(batches[won], owners[won])
    registered = await RegistrationEvent.filter(
        device_id__in=batches[0] + batches[1], kind="REGISTERED"
    ).values_list("device_id", flat=True)
    assert sorted(map(str, registered)) == sorted(batches[won])


async def test_concurrent_registers_with_overlapping_ids_in_one_tenant(
    db: str, admin: GraphQLClient, clients: list[httpx.AsyncClient]
) -> None:
    require_postgres(db)
    alice = await make_user(admin, "alice", OPERATOR_PERMISSIONS)
    for round_ in range(5):
        p = f"RACE-F{round_}"
        batches = [[f"{p}-a1", f"{p}-x", f"{p}-a2", f"{p}-y"], [f"{p}-b1", f"{p}-x", f"{p}-y"]]
        results = list(
            await asyncio.gather(
                register(spread(admin, clients, 0), *({"id": i} for i in batches[0])),
                register(spread(alice, clients, 1), *({"id": i} for i in batches[1])),
            )
        )
        await _assert_one_register_won(
            results, batches, ["management/admin", "management/alice"], {f"{p}-x", f"{p}-y"}
        )


async def test_concurrent_registers_with_overlapping_ids_across_tenants(
    db: str, admin: GraphQLClient, clients: list[httpx.AsyncClient]
) -> None:
    # Two tenants take two different tenant locks: only the unique device id keeps them apart.
    require_postgres(db)
    acme = await make_tenant(admin, "acme")
    for round_ in range(5):
        p = f"RACE-G{round_}"
        batches = [[f"{p}-a1", f"{p}-x", f"{p}-y"], [f"{p}-x", f"{p}-b1", f"{p}-y"]]
        results = list(
            await asyncio.gather(
                register(spread(admin, clients, 0), *({"id": i} for i in batches[0])),
                register(spread(acme, clients, 1), *({"id": i} for i in batches[1])),
            )
        )
        await _assert_one_register_won(
            results, batches, ["management/admin", "acme/admin"], {f"{p}-x", f"{p}-y"}
        )


async def test_concurrent_registers_sharing_ids_in_opposite_orders_do_not_deadlock(
    db: str, admin: GraphQLClient, clients: list[httpx.AsyncClient]
) -> None:
    require_postgres(db)
    acme = await make_tenant(admin, "acme")
    for round_ in range(SHARED_ORDER_ROUNDS):
        shared = [f"RACE-H{round_}-{n:02}" for n in range(SHARED_IDS)]
        batches = [[f"RACE-H{round_}-a", *shared], [*reversed(shared), f"RACE-H{round_}-b"]]
        results = list(
            await asyncio.gather(
                register(spread(admin, clients, 0), *({"id": i} for i in batches[0])),
                register(spread(acme, clients, 1), *({"id": i} for i in batches[1])),
            )
        )
        await _assert_one_register_won(
            results, batches, ["management/admin", "acme/admin"], set(shared)
        )
