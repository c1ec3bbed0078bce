"""A takeover leaves a trace (API.md §9.6): ``connectedFrom`` and CREDENTIALS_REQUESTED_AGAIN.

First contact records the client address (as §9.2 defines it), so the operator
sees where a device connected from before accepting it. A poll for a
registration whose credentials were already delivered still answers 404, and
writes a CREDENTIALS_REQUESTED_AGAIN event at most once an hour per
registration: either the device lost its credentials, or somebody else took
them. The hour is measured with the service layer's clock
(``resolvers.changes.utcnow``), which these tests move instead of sleeping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import pytest

from graph.settings import Settings
from models.events import RegistrationEvent
from resolvers import changes
from tests.kit.accounts import bootstrap_client
from tests.kit.clients import GraphQLClient, app_clients
from tests.kit.devices import accepted, poll
from tests.kit.documents import REQUEST_CREDENTIALS
from tests.kit.registrations import event_kinds, register

CONNECTED_FROM = "query($id: ID!) { registration(id: $id) { status connectedFrom } }"
EVENTS = """query($id: ID!) {
  events(deviceId: $id) { edges { node { kind status previousStatus actor registration { id } } } }
}"""


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[timedelta], None]:
    """Moves the service layer's clock forward by the given time (no sleeping)."""
    offset = timedelta()
    real = changes.utcnow

    def shifted() -> datetime:
        return real() + offset

    monkeypatch.setattr(changes, "utcnow", shifted)

    def advance(by: timedelta) -> None:
        nonlocal offset
        offset += by

    return advance


async def connected_from(admin: GraphQLClient, device_id: str) -> str | None:
    found: str | None = (await admin.data(CONNECTED_FROM, id=device_id))["registration"][
        "connectedFrom"
    ]
    return found


async def test_first_contact_records_the_client_address(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await register(admin, {"id": "TRACE-1"})
    assert await connected_from(admin, "TRACE-1") is None
    assert (await poll(http, "TRACE-1")).status_code == 404
    assert await connected_from(admin, "TRACE-1") == "127.0.0.1"  # the test client's peer


async def test_connected_from_is_the_first_contact_only(db: str, admin: GraphQLClient) -> None:
    settings = Settings(database_url="sqlite://:memory:")
    async with app_clients(settings, "198.51.100.20", "198.51.100.21") as (first, later):
        await register(admin, {"id": "TRACE-2"})
        assert (await poll(first, "TRACE-2")).status_code == 404
        assert (await poll(later, "TRACE-2")).status_code == 404
        assert await connected_from(admin, "TRACE-2") == "198.51.100.20"


async def test_connected_from_behind_a_trusted_proxy_is_the_forwarded_client(
    db: str, admin: GraphQLClient
) -> None:
    settings = Settings(
        database_url="sqlite://:memory:",
        trusted_proxies="10.0.0.0/8",  # type: ignore[arg-type]
    )
    async with app_clients(settings, "10.1.2.3") as (proxy,):
        await register(admin, {"id": "TRACE-3"})
        await proxy.post(
            "/devicecontrol/deviceCredentials",
            json={"id": "TRACE-3"},
            headers={
                **bootstrap_client(admin).headers(),
                "X-Forwarded-For": "203.0.113.77",
            },
        )
        assert await connected_from(admin, "TRACE-3") == "203.0.113.77"


async def test_a_poll_after_delivery_is_traced_once_an_hour(
    http: httpx.AsyncClient, admin: GraphQLClient, clock: Callable[[timedelta], None]
) -> None:
    await accepted(http, admin, "TRACE-4")
    assert (await poll(http, "TRACE-4")).status_code == 201
    unknown = (await poll(http, "TRACE-UNKNOWN")).json()
    for _ in range(3):
        again = await poll(http, "TRACE-4")
        assert again.status_code == 404
        assert again.json() == unknown  # nothing tells the poller it was seen
    assert (await event_kinds("TRACE-4"))[-2:] == [
        "CREDENTIALS_DELIVERED",
        "CREDENTIALS_REQUESTED_AGAIN",
    ]
    [*_, event] = (await admin.data(EVENTS, id="TRACE-4"))["events"]["edges"]
    assert event["node"] == {
        "kind": "CREDENTIALS_REQUESTED_AGAIN",
        "status": "ACCEPTED",
        "previousStatus": "ACCEPTED",
        "actor": "device_TRACE-4",
        "registration": {"id": "TRACE-4"},
    }

    clock(timedelta(minutes=59))
    assert (await poll(http, "TRACE-4")).status_code == 404
    assert (await event_kinds("TRACE-4")).count("CREDENTIALS_REQUESTED_AGAIN") == 1
    clock(timedelta(minutes=2))  # an hour and a minute after the first
    assert (await poll(http, "TRACE-4")).status_code == 404
    assert (await event_kinds("TRACE-4")).count("CREDENTIALS_REQUESTED_AGAIN") == 2
    assert (await poll(http, "TRACE-4")).status_code == 404
    assert (await event_kinds("TRACE-4")).count("CREDENTIALS_REQUESTED_AGAIN") == 2


async def test_the_graphql_twin_leaves_the_same_trace(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await accepted(http, admin, "TRACE-5")
    device = bootstrap_client(admin)
    assert (await device.data(REQUEST_CREDENTIALS, id="TRACE-5"))["requestDeviceCredentials"]
    for _ in range(2):
        data = await device.data(REQUEST_CREDENTIALS, id="TRACE-5")
        assert data == {"requestDeviceCredentials": None}
    assert (await event_kinds("TRACE-5")).count("CREDENTIALS_REQUESTED_AGAIN") == 1


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
async def test_concurrent_polls_after_delivery_write_one_trace(
    db: str, http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    unlimited = Settings(database_url="sqlite://:memory:", poll_limit=0)
    await accepted(http, admin, "TRACE-6")
    assert (await poll(http, "TRACE-6")).status_code == 201
    async with app_clients(unlimited, *(f"192.0.2.{n}" for n in range(1, 5))) as clients:
        answers = await asyncio.gather(*(poll(clients[n % 4], "TRACE-6") for n in range(30)))
    assert {a.status_code for a in answers} == {404}
    traced = await RegistrationEvent.filter(
        device_id="TRACE-6", kind="CREDENTIALS_REQUESTED_AGAIN"
    ).count()
    assert traced == 1
