"""One event, many ``registrationEvents`` subscribers: each gets exactly its own answer.

The feed sends an event straight to waiting subscribers and executes it once per
operation, variables and audience (``graph/graphql/direct_delivery.py``,
``shared_execution.py``). These tests serve the app in-process over real
websockets, so that they can count executions and break a resolver.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graph.app import create_app
from graph.graphql import events as graphql_events
from graph.graphql import registrations as graphql_registrations
from graph.graphql.shared_execution import SharedEventExecution
from graph.settings import Settings
from tests.kit.accounts import (
    ADMIN_LOGIN,
    ADMIN_PASSWORD,
    BOOTSTRAP_PASSWORD,
    make_tenant,
    make_user,
)
from tests.kit.clients import GraphQLClient, basic
from tests.kit.documents import REGISTER
from tests.kit.groups import create_group
from tests.kit.receivers import running_receiver
from tests.kit.servers import Subscriber

STATUS_ONLY = """subscription($status: [RegistrationStatus!]) {
  registrationEvents(status: $status) { id status }
}"""
KIND_ONLY = "subscription { registrationEvents { id kind } }"
WITH_GROUP = "subscription { registrationEvents { id registration { id group { id } } } }"


class App:
    def __init__(self, port: int, http: httpx.AsyncClient) -> None:
        self.ws_url = f"ws://127.0.0.1:{port}/graphql"
        self.http = http
        self.admin = GraphQLClient(http, ADMIN_LOGIN, ADMIN_PASSWORD)

    async def subscribe(self, client: GraphQLClient, query: str, **variables: Any) -> Subscriber:
        assert client.login is not None and client.password is not None
        auth = basic(client.login, client.password)
        return await Subscriber.open(self.ws_url, auth, query, variables)

    async def first_contact(self, device_id: str) -> None:
        response = await self.http.post(
            "/devicecontrol/deviceCredentials",
            json={"id": device_id},
            headers={"Authorization": basic("devicebootstrap", BOOTSTRAP_PASSWORD)},
        )
        assert response.status_code == 404, response.text


@pytest.fixture
async def app(db: str) -> AsyncIterator[App]:
    """The app under uvicorn in this test's loop, on the database of ``db``."""
    asgi = create_app(Settings(database_url="sqlite://:memory:"), manage_orm=False)
    async with running_receiver(app=asgi) as served:
        base_url = f"http://127.0.0.1:{served.port}"
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
            yield App(served.port, http)


@pytest.fixture
def executions(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[str, str]]:
    """How many times graphql-core executed each event's selection: (device id, kind)."""
    counted: Counter[tuple[str, str]] = Counter()
    below = next(c for c in SharedEventExecution.__mro__[1:] if "execute_operation" in c.__dict__)
    original = below.__dict__["execute_operation"]

    def counting(self: StrawberryGraphQLCoreExecutionContext, serially: bool | None = None) -> Any:
        root = self.root_value
        if isinstance(root, graphql_events.RegistrationEvent):
            counted[(str(root.id), root.kind.value)] += 1
        return original(self, serially)

    monkeypatch.setattr(below, "execute_operation", counting)
    return counted


async def _settle() -> None:
    await asyncio.sleep(0.3)  # subscribe has no answer: let each subscription join its feed


async def test_identical_subscriptions_share_one_execution_and_others_get_their_own(
    app: App, executions: Counter[tuple[str, str]]
) -> None:
    reader = await make_user(app.admin, "reader", ["DEVICE_CONTROL_READ"])
    other_tenant = await make_tenant(app.admin, "elsewhere")
    pending = {"status": ["PENDING_ACCEPTANCE"]}
    same = [await app.subscribe(app.admin, STATUS_ONLY, **pending) for _ in range(3)]
    waiting_only = await app.subscribe(app.admin, STATUS_ONLY, status=["WAITING_FOR_CONNECTION"])
    kinds = await app.subscribe(app.admin, KIND_ONLY)
    read_only = await app.subscribe(reader, STATUS_ONLY, **pending)
    stranger = await app.subscribe(other_tenant, KIND_ONLY)
    await _settle()

    await app.admin.data(REGISTER, devices=[{"id": "fan-1"}])
    await app.first_contact("fan-1")

    for subscriber in [*same, read_only]:
        assert await subscriber.events(1) == [{"id": "fan-1", "status": "PENDING_ACCEPTANCE"}]
    assert await waiting_only.events(1) == [{"id": "fan-1", "status": "WAITING_FOR_CONNECTION"}]
    assert await kinds.events(2) == [
        {"id": "fan-1", "kind": "REGISTERED"},
        {"id": "fan-1", "kind": "CONNECTED"},
    ]
    for subscriber in [*same, waiting_only, read_only, stranger]:
        assert await subscriber.nothing_within(0.3)
    # The three identical subscriptions shared one execution of the CONNECTED event; the
    # reader (another audience) and the kind-only selection had one each; nobody executed
    # an event its status filter or tenant kept from it.
    assert executions[("fan-1", "CONNECTED")] == 3
    assert executions[("fan-1", "REGISTERED")] == 2
    for subscriber in [*same, waiting_only, kinds, read_only, stranger]:
        await subscriber.close()


async def test_an_event_that_fails_for_one_selection_is_masked_for_it_and_whole_for_others(
    app: App, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    group_id = await create_group(app.admin, "site")
    plain = await app.subscribe(app.admin, KIND_ONLY)
    grouped = [await app.subscribe(app.admin, WITH_GROUP) for _ in range(2)]
    await _settle()

    # The group loads asynchronously (a DataLoader): the event waits for it, once.
    await app.admin.data(REGISTER, devices=[{"id": "fan-2", "groupId": group_id}])
    assert await plain.events(1) == [{"id": "fan-2", "kind": "REGISTERED"}]
    for subscriber in grouped:
        assert await subscriber.events(1) == [
            {"id": "fan-2", "registration": {"id": "fan-2", "group": {"id": group_id}}}
        ]

    async def broken(self: object, info: object) -> object:
        raise RuntimeError("group store on fire")

    monkeypatch.setattr(graphql_registrations.Registration, "_load_group", broken)
    with caplog.at_level(logging.ERROR, logger="gatehouse.errors"):
        await app.admin.data(REGISTER, devices=[{"id": "fan-3", "groupId": group_id}])
        assert await plain.events(1) == [{"id": "fan-3", "kind": "REGISTERED"}]
        messages = [await subscriber.message() for subscriber in grouped]
    for message in messages:
        assert message["type"] == "next"
        payload = message["payload"]
        assert payload["data"] == {
            "registrationEvents": {"id": "fan-3", "registration": {"id": "fan-3", "group": None}}
        }
        (error,) = payload["errors"]
        assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
        assert "on fire" not in str(payload)
    assert sum("unexpected error" in r.getMessage() for r in caplog.records) == 2
    for subscriber in [plain, *grouped]:
        await subscriber.close()
