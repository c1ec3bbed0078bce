"""The registration event log (API.md §5.8): one event per state change, none otherwise.

Each state change (register, first contact, a wrong token, accept and acceptAll,
credentials delivery, removal) is checked against the rows written to the log's
table, read straight from the database; the ``events`` query that serves the log
to operators is tested in ``test_events_query.py``.
"""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise

import httpx

from models.events import RegistrationEvent
from tests.kit.accounts import make_tenant, make_user
from tests.kit.clients import GraphQLClient
from tests.kit.devices import TOKEN, pending, poll
from tests.kit.documents import REMOVE, STAMPS
from tests.kit.options import set_max_failed_attempts, set_token_policy
from tests.kit.registrations import accept, accept_all, register

ADMIN = "management/admin"
WAITING = "WAITING_FOR_CONNECTION"
PENDING = "PENDING_ACCEPTANCE"

Row = tuple[str, str, str | None, str | None, str | None]


async def events(tenant_id: str = "management") -> list[RegistrationEvent]:
    return await RegistrationEvent.filter(tenant_id=tenant_id).order_by("seq")


def rows(logged: list[RegistrationEvent]) -> list[Row]:
    """(kind, device, status, previous status, actor) of each event."""
    return [
        (
            e.kind.value,
            e.device_id,
            e.status.value if e.status else None,
            e.previous_status.value if e.previous_status else None,
            e.actor,
        )
        for e in logged
    ]


async def log(tenant_id: str = "management") -> list[Row]:
    return rows(await events(tenant_id))


async def new_rows(since: int, tenant_id: str = "management") -> list[Row]:
    """What was logged after the first ``since`` events."""
    return (await log(tenant_id))[since:]


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


async def test_register_writes_one_registered_event_per_device(admin: GraphQLClient) -> None:
    acme = await make_tenant(admin, "acme")
    await register(admin, {"id": "m-1"}, {"id": "m-2"}, {"id": "a-1", "tenantId": "acme"})
    assert await log() == [
        ("REGISTERED", "m-1", WAITING, None, ADMIN),
        ("REGISTERED", "m-2", WAITING, None, ADMIN),
    ]
    assert await log("acme") == [("REGISTERED", "a-1", WAITING, None, ADMIN)]

    created = (await acme.data(STAMPS, id="a-1"))["registration"]["updatedAt"]
    [event] = await events("acme")
    assert event.at == parse(created)


async def test_first_contact_writes_connected_or_under_required_blocked_alone(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await pending(http, admin, "dev", TOKEN)
    assert await new_rows(1) == [("CONNECTED", "dev", PENDING, WAITING, "device_dev")]
    await set_token_policy(admin, "REQUIRED")
    await pending(http, admin, "plain")
    assert await new_rows(3) == [("BLOCKED", "plain", "BLOCKED", WAITING, "device_plain")]


async def test_wrong_tokens_write_token_rejected_then_blocked_alone(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await set_max_failed_attempts(admin, 3)
    await pending(http, admin, "dev", TOKEN)
    await accept(admin, "dev", "wrong")
    await accept(admin, "dev")
    await accept(admin, "dev", "wrong")
    assert await new_rows(2) == [
        ("TOKEN_REJECTED", "dev", PENDING, PENDING, ADMIN),
        ("TOKEN_REJECTED", "dev", PENDING, PENDING, ADMIN),
        ("BLOCKED", "dev", "BLOCKED", PENDING, ADMIN),
    ]
    await accept(admin, "dev", TOKEN)  # RegistrationBlocked: nothing changes
    assert len(await log()) == 5


async def test_accept_and_accept_all_write_accepted_per_registration(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    operator = await make_user(admin, "ops", ["DEVICE_CONTROL_ADMIN", "DEVICE_CONTROL_READ"])
    for device_id in ("one", "all-1", "all-2"):
        await pending(http, admin, device_id)
    await pending(http, admin, "tokened", TOKEN)
    before = len(await log())

    await accept(admin, "one")
    await accept_all(operator)
    assert await new_rows(before) == [
        ("ACCEPTED", "one", "ACCEPTED", PENDING, ADMIN),
        ("ACCEPTED", "all-1", "ACCEPTED", PENDING, "management/ops"),
        ("ACCEPTED", "all-2", "ACCEPTED", PENDING, "management/ops"),
    ]
    accepted_events = (await events())[before:]
    for event in accepted_events:
        stamps = (await admin.data(STAMPS, id=event.device_id))["registration"]
        assert event.at == parse(stamps["acceptedAt"]) == parse(stamps["updatedAt"])


async def test_credentials_delivery_writes_credentials_delivered(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await pending(http, admin, "dev", TOKEN)
    await accept(admin, "dev", TOKEN)
    before = len(await log())
    assert (await poll(http, "dev", token=TOKEN)).status_code == 201
    assert await new_rows(before) == [
        ("CREDENTIALS_DELIVERED", "dev", "ACCEPTED", "ACCEPTED", "device_dev")
    ]


async def test_remove_writes_removed_with_no_status(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await register(admin, {"id": "waiting"})
    await pending(http, admin, "pending")
    before = len(await log())
    await admin.data(REMOVE, id="pending")
    await admin.data(REMOVE, id="waiting")
    assert await new_rows(before) == [
        ("REMOVED", "pending", None, PENDING, ADMIN),
        ("REMOVED", "waiting", None, WAITING, ADMIN),
    ]


async def test_requests_that_change_nothing_write_nothing(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await register(admin, {"id": "waiting"})
    await pending(http, admin, "pending")
    await pending(http, admin, "tokened", TOKEN)
    await pending(http, admin, "accepted", TOKEN)
    await accept(admin, "accepted", TOKEN)
    await pending(http, admin, "delivered")
    await accept(admin, "delivered")
    assert (await poll(http, "delivered")).status_code == 201
    # The first poll after delivery leaves its trace (CREDENTIALS_REQUESTED_AGAIN, once an
    # hour); a wrong token before delivery counts an attempt: both change something.
    assert (await poll(http, "delivered")).status_code == 404
    watched = ("waiting", "pending", "tokened", "accepted", "delivered")
    stamps = [(await admin.data(STAMPS, id=i))["registration"] for i in watched]
    before = await log()

    for _ in range(3):
        assert (await poll(http, "pending")).status_code == 404
        assert (await poll(http, "tokened", token=TOKEN)).status_code == 404
    assert (await poll(http, "delivered")).status_code == 404
    assert (await poll(http, "unknown")).status_code == 404
    assert (await accept(admin, "waiting"))["__typename"] == "InvalidStatus"
    assert (await accept(admin, "accepted"))["__typename"] == "InvalidStatus"
    assert (await accept(admin, "unknown"))["__typename"] == "NotFound"
    assert (await admin.data(REMOVE, id="unknown"))["removeRegistration"]["__typename"] == (
        "NotFound"
    )
    assert (await register(admin, {"id": "new"}, {"id": "pending"}))["code"] == "ALREADY_EXISTS"
    await set_token_policy(admin, "REQUIRED")  # options are not registration events
    assert (await accept_all(admin))["accepted"] == []

    assert await log() == before
    assert [(await admin.data(STAMPS, id=i))["registration"] for i in watched] == stamps


async def test_full_life_cycle_log_has_strictly_increasing_seq(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await pending(http, admin, "dev", TOKEN)
    await accept(admin, "dev", "wrong")
    await accept(admin, "dev", TOKEN)
    await poll(http, "dev", token=TOKEN)
    await admin.data(REMOVE, id="dev")
    await pending(http, admin, "dev")

    logged = await events()
    assert [e.kind.value for e in logged] == [
        "REGISTERED",
        "CONNECTED",
        "TOKEN_REJECTED",
        "ACCEPTED",
        "CREDENTIALS_DELIVERED",
        "REMOVED",
        "REGISTERED",
        "CONNECTED",
    ]
    seqs = [e.seq for e in logged]
    assert all(a < b for a, b in pairwise(seqs))
    stamps = [e.at for e in logged]
    assert stamps == sorted(stamps)
    assert all(stamp.tzinfo is not None for stamp in stamps)
