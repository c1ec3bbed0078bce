"""Webhook delivery (API.md §10.1) to a real HTTP receiver on 127.0.0.1, on SQLite and PostgreSQL.

The receiver (``tests/kit/receivers.py``) verifies every request with the
``standardwebhooks`` package. The deliverer runs in the test's process with
small timings: attempts time out after 0.5 s, retries wait 0.05 s doubling to
0.2 s. Several processes and restarts are ``tests/test_webhook_servers.py``.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook
from tortoise.exceptions import OperationalError

from graph.settings import Settings
from models.webhooks import Webhook as WebhookRow
from resolvers import events, webhooks
from resolvers.webhook_delivery import DeliveryConfig, WebhookDeliverer
from tests.kit.accounts import ADMIN_LOGIN, ADMIN_PASSWORD, make_tenant
from tests.kit.clients import GraphQLClient, app_client
from tests.kit.devices import poll
from tests.kit.documents import REMOVE
from tests.kit.receivers import HANG, Receiver, running_receiver
from tests.kit.registrations import accept, register
from tests.kit.webhooks import (
    DELETE_WEBHOOK,
    FAST,
    ROTATE_WEBHOOK_SECRET,
    create_webhook,
    delivering,
    until,
    webhook_state,
)

CONFIG = FAST
EVENT_FIELDS = '{ __type(name: "RegistrationEvent") { fields { name } } }'
REGISTRATION_FIELDS = '{ __type(name: "Registration") { fields { name } } }'
EVENT_CURSORS = "query($id: ID) { events(deviceId: $id) { edges { cursor node { kind } } } }"


@pytest.fixture
def settings() -> Settings:
    return Settings(database_url="sqlite://:memory:", webhooks_allow_private=True)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as running:
        yield running


@pytest.fixture
async def deliverer(http: httpx.AsyncClient) -> AsyncIterator[WebhookDeliverer]:
    async with delivering(CONFIG) as running:
        yield running


async def flow(http: httpx.AsyncClient, client: GraphQLClient, device_id: str) -> None:
    """register, first contact, accept, credentials delivered: four events."""
    assert (await register(client, {"id": device_id}))["__typename"] == "RegisterSuccess"
    assert (await poll(http, device_id)).status_code == 404
    assert (await accept(client, device_id))["__typename"] == "Registration"
    assert (await poll(http, device_id)).status_code == 201


async def test_a_registration_flow_arrives_in_order_and_signed(
    http: httpx.AsyncClient, admin: GraphQLClient, receiver: Receiver, deliverer: WebhookDeliverer
) -> None:
    await register(admin, {"id": "BEFORE"})  # committed before the webhook: not sent
    hook, secret = await create_webhook(admin, receiver.url, description="inventory")
    receiver.secrets = [secret]
    await flow(http, admin, "SN-1")
    arrived = await receiver.wait_accepted(4)
    assert [d.data["kind"] for d in arrived] == [
        "REGISTERED",
        "CONNECTED",
        "ACCEPTED",
        "CREDENTIALS_DELIVERED",
    ]
    assert all(d.verified_by == secret for d in receiver.deliveries)
    assert {d.data["id"] for d in arrived} == {"SN-1"}

    log = (await admin.data(EVENT_CURSORS, id="SN-1"))["events"]["edges"]
    assert [d.webhook_id for d in arrived] == [edge["cursor"] for edge in log]
    assert [d.data["cursor"] for d in arrived] == [edge["cursor"] for edge in log]
    last = arrived[-1]
    assert last.payload["type"] == "registration.credentials_delivered"
    assert last.payload["timestamp"] == last.data["at"]
    assert abs(int(last.headers["webhook-timestamp"]) - time.time()) < 30
    assert last.headers["content-type"] == "application/json"
    assert last.data["status"] == "ACCEPTED"
    assert last.data["previousStatus"] == "ACCEPTED"
    assert last.data["actor"] == "device_SN-1"
    registration = last.data["registration"]
    assert registration["status"] == "ACCEPTED"
    assert registration["acceptedBy"] == "management/admin"
    assert registration["credentialsDeliveredAt"] is not None
    assert registration["group"] is None

    # The payload names exactly the fields of the GraphQL types.
    event_fields = (await admin.data(EVENT_FIELDS))["__type"]["fields"]
    registration_fields = (await admin.data(REGISTRATION_FIELDS))["__type"]["fields"]
    assert set(last.data) == {field["name"] for field in event_fields}
    assert set(registration) == {field["name"] for field in registration_fields}

    removed = await admin.data(REMOVE, id="SN-1")
    assert removed["removeRegistration"]["__typename"] == "Removed"
    gone = (await receiver.wait_accepted(5))[-1]
    assert gone.payload["type"] == "registration.removed"
    assert (gone.data["status"], gone.data["previousStatus"]) == (None, "ACCEPTED")
    assert gone.data["registration"] is None
    assert len(receiver.deliveries) == 5  # each once: the receiver never failed

    state = await webhook_state(admin, hook["id"])
    assert state["lastDeliveredAt"] is not None
    assert (state["lastError"], state["failingSince"]) == (None, None)


async def test_a_failing_receiver_gets_everything_in_order_once_it_recovers(
    http: httpx.AsyncClient, admin: GraphQLClient, receiver: Receiver, deliverer: WebhookDeliverer
) -> None:
    hook, secret = await create_webhook(admin, receiver.url)
    receiver.secrets = [secret]
    receiver.default = 500
    ids = [f"FAIL-{n}" for n in range(5)]
    await register(admin, *({"id": i} for i in ids))
    await receiver.wait_requests(4)

    async def failing() -> dict[str, Any] | None:
        state = await webhook_state(admin, hook["id"])
        return state if state["failingSince"] else None

    state = await until(failing)
    assert state["lastError"] == "HTTP 500 Internal Server Error"
    assert state["lastDeliveredAt"] is None
    assert datetime.fromisoformat(state["failingSince"]) <= datetime.now(UTC)
    # No skipping ahead: only the first event was tried while the receiver failed.
    assert {d.data["id"] for d in receiver.deliveries} == {"FAIL-0"}

    receiver.default = 200
    arrived = await receiver.wait_accepted(5)
    assert [d.data["id"] for d in arrived] == ids
    assert all(d.verified_by == secret for d in receiver.deliveries)
    tried = [d.data["id"] for d in receiver.deliveries]
    assert tried == sorted(tried)  # every retry of an event before the next event
    assert len(receiver.accepted()) == 5

    async def recovered() -> dict[str, Any] | None:
        state = await webhook_state(admin, hook["id"])
        return state if state["lastDeliveredAt"] else None

    state = await until(recovered)
    assert (state["lastError"], state["failingSince"]) == (None, None)


async def test_a_receiver_that_does_not_answer_times_out_and_gets_the_event_again(
    http: httpx.AsyncClient, admin: GraphQLClient, receiver: Receiver, deliverer: WebhookDeliverer
) -> None:
    hook, secret = await create_webhook(admin, receiver.url)
    receiver.secrets = [secret]
    receiver.plan = [HANG, HANG]
    await register(admin, {"id": "SLOW-1"}, {"id": "SLOW-2"})

    async def timed_out() -> dict[str, Any] | None:
        state = await webhook_state(admin, hook["id"])
        return state if state["lastError"] else None

    state = await until(timed_out)
    assert state["lastError"] == "no answer within 0.5 s"
    arrived = await receiver.wait_accepted(2)
    assert [d.data["id"] for d in arrived] == ["SLOW-1", "SLOW-2"]
    first, second, third = receiver.deliveries[:3]
    assert first.webhook_id == second.webhook_id == third.webhook_id
    assert second.at - first.at >= CONFIG.timeout  # the second attempt came after the timeout
    assert third.answered == 200


async def test_only_the_chosen_kinds_are_delivered(
    http: httpx.AsyncClient, admin: GraphQLClient, receiver: Receiver, deliverer: WebhookDeliverer
) -> None:
    _, secret = await create_webhook(admin, receiver.url, ["ACCEPTED", "REMOVED"])
    receiver.secrets = [secret]
    await flow(http, admin, "KIND-1")
    await admin.data(REMOVE, id="KIND-1")
    await register(admin, {"id": "KIND-2"})
    arrived = await receiver.wait_accepted(2)
    assert [(d.data["kind"], d.data["id"]) for d in arrived] == [
        ("ACCEPTED", "KIND-1"),
        ("REMOVED", "KIND-1"),
    ]
    assert await receiver.nothing_within(CONFIG.poll_interval * 2)
    assert all(d.verified_by == secret for d in receiver.deliveries)


async def test_after_rotating_deliveries_are_signed_with_the_new_secret(
    http: httpx.AsyncClient, admin: GraphQLClient, receiver: Receiver, deliverer: WebhookDeliverer
) -> None:
    hook, old = await create_webhook(admin, receiver.url)
    receiver.secrets = [old]
    await register(admin, {"id": "ROT-1"})
    assert (await receiver.wait_accepted(1))[0].verified_by == old

    rotated = (await admin.data(ROTATE_WEBHOOK_SECRET, id=hook["id"]))["rotateWebhookSecret"]
    new = rotated["secret"]
    receiver.secrets = [old, new]
    await register(admin, {"id": "ROT-2"}, {"id": "ROT-3"})
    arrived = await receiver.wait_accepted(3)
    assert [d.data["id"] for d in arrived] == ["ROT-1", "ROT-2", "ROT-3"]
    assert [d.verified_by for d in arrived[1:]] == [new, new]


async def test_a_deleted_webhook_gets_nothing_more(
    http: httpx.AsyncClient, admin: GraphQLClient, receiver: Receiver, deliverer: WebhookDeliverer
) -> None:
    hook, secret = await create_webhook(admin, receiver.url)
    receiver.secrets = [secret]
    await register(admin, {"id": "DEL-1"})
    await receiver.wait_accepted(1)
    await admin.data(DELETE_WEBHOOK, id=hook["id"])
    await register(admin, {"id": "DEL-2"})
    assert await receiver.nothing_within(CONFIG.poll_interval * 2)
    assert [d.data["id"] for d in receiver.deliveries] == ["DEL-1"]


async def test_each_tenant_gets_its_own_events_only(
    http: httpx.AsyncClient, admin: GraphQLClient, deliverer: WebhookDeliverer
) -> None:
    acme = await make_tenant(admin, "acme")
    async with running_receiver() as for_acme, running_receiver() as for_management:
        _, acme_secret = await create_webhook(acme, for_acme.url)
        _, own_secret = await create_webhook(admin, for_management.url)
        for_acme.secrets, for_management.secrets = [acme_secret], [own_secret]
        await register(acme, {"id": "ACME-1"})
        await register(admin, {"id": "MGMT-1"})
        await register(admin, {"id": "INTO-ACME", "tenantId": "acme"})
        got_acme = await for_acme.wait_accepted(2)
        got_own = await for_management.wait_accepted(1)
        assert [d.data["id"] for d in got_acme] == ["ACME-1", "INTO-ACME"]
        assert [d.data["id"] for d in got_own] == ["MGMT-1"]
        assert {d.verified_by for d in for_acme.deliveries} == {acme_secret}
        assert {d.verified_by for d in for_management.deliveries} == {own_secret}


async def test_two_deliverers_never_deliver_one_webhook_at_once(
    http: httpx.AsyncClient, admin: GraphQLClient, receiver: Receiver
) -> None:
    hook, secret = await create_webhook(admin, receiver.url)
    receiver.secrets = [secret]
    receiver.delay = 0.01
    async with delivering(), delivering():  # as two processes would, with their own claims
        for n in range(10):
            await register(admin, *({"id": f"TWO-{n}-{k}"} for k in range(3)))
        arrived = await receiver.wait_accepted(30)
    log = (await admin.data(EVENT_CURSORS, id=None))["events"]["edges"]
    assert [d.webhook_id for d in arrived] == [edge["cursor"] for edge in log]
    assert len(receiver.deliveries) == 30
    assert receiver.most_in_flight == 1
    assert (await WebhookRow.get(id=int(hook["id"]))).lease_owner is None


async def test_a_private_address_is_refused_at_delivery_time_too(
    http: httpx.AsyncClient, admin: GraphQLClient, receiver: Receiver
) -> None:
    # Created while private addresses were allowed; the deliverer now refuses them
    # (as when DNS changed after creation, or the setting was turned off).
    hook, _ = await create_webhook(admin, receiver.url)
    async with delivering(DeliveryConfig(**{**CONFIG.__dict__, "allow_private": False})):
        await register(admin, {"id": "PRIV-1"})

        async def refused() -> dict[str, Any] | None:
            state = await webhook_state(admin, hook["id"])
            return state if state["lastError"] else None

        state = await until(refused)
    assert state["lastError"].startswith("not sent: the webhook host 127.0.0.1 is a loopback")
    assert state["failingSince"] is not None
    assert receiver.deliveries == []


async def test_the_deliverer_survives_database_errors(
    http: httpx.AsyncClient,
    admin: GraphQLClient,
    receiver: Receiver,
    deliverer: WebhookDeliverer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, secret = await create_webhook(admin, receiver.url)
    receiver.secrets = [secret]
    failures = {"latest_seq": 2, "events_after": 2}
    for name in failures:
        real = getattr(events, name)

        def flaky(*args: Any, _name: str = name, _real: Any = real) -> Any:
            if failures[_name] > 0:
                failures[_name] -= 1
                raise OperationalError("connection reset by the test")
            return _real(*args)

        monkeypatch.setattr(events, name, flaky)
    await register(admin, {"id": "DB-1"}, {"id": "DB-2"})
    arrived = await receiver.wait_accepted(2)
    assert [d.data["id"] for d in arrived] == ["DB-1", "DB-2"]
    assert failures == {"latest_seq": 0, "events_after": 0}
    messages = [r.getMessage() for r in caplog.records if r.name == "resolvers.webhook_delivery"]
    assert any("scanning webhooks failed" in m for m in messages)
    assert any("delivery stopped by an error" in m for m in messages)


async def test_no_webhook_secret_in_any_log_record(
    http: httpx.AsyncClient,
    admin: GraphQLClient,
    receiver: Receiver,
    deliverer: WebhookDeliverer,
    all_logs: pytest.LogCaptureFixture,
) -> None:
    hook, first = await create_webhook(admin, receiver.url)
    receiver.secrets = [first]
    receiver.plan = [500]
    await register(admin, {"id": "LOG-1"})
    await receiver.wait_accepted(1)
    second = (await admin.data(ROTATE_WEBHOOK_SECRET, id=hook["id"]))["rotateWebhookSecret"]
    receiver.secrets = [second["secret"]]
    await register(admin, {"id": "LOG-2"})
    await receiver.wait_accepted(2)
    assert (await WebhookRow.get(id=int(hook["id"]))).secret == second["secret"]

    records = all_logs.records
    sql = [r.getMessage() for r in records if r.name == "tortoise.db_client"]
    # The webhooks' own statements were logged, their parameters hidden (graph/log_filters.py).
    assert any("webhooks" in line and "hidden" in line for line in sql), "no SQL log captured"
    texts = [f"{r.msg} {r.args!r} {r.getMessage()}" for r in records] + [all_logs.text]
    for secret in (first, second["secret"]):
        body = secret.removeprefix("whsec_")
        leaks = [text for text in texts if body in text]
        assert not leaks, f"a webhook secret is in the log: {leaks[0][:300]}"


@pytest.fixture
async def strict(db: str) -> AsyncIterator[GraphQLClient]:
    """``management/admin`` on an app with the default rule: public addresses only."""
    async with app_client(Settings(database_url="sqlite://:memory:")) as client:
        yield GraphQLClient(client, ADMIN_LOGIN, ADMIN_PASSWORD)


class Answering:
    """Stands in for the network (no request leaves the machine): records, answers 204."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.transport = httpx.MockTransport(self.answer)

    def answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(204)


def resolving(monkeypatch: pytest.MonkeyPatch, answers: list[list[str]]) -> None:
    """Make host names resolve to ``answers``, one list per lookup (the last one repeats)."""

    async def resolve(target: Any) -> list[Any]:
        found = answers.pop(0) if len(answers) > 1 else answers[0]
        return [ipaddress.ip_address(a) for a in found]

    monkeypatch.setattr(webhooks, "resolve", resolve)


async def test_delivery_connects_to_the_checked_address_under_the_hosts_name(
    strict: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolving(monkeypatch, [["93.184.215.14"]])
    hook, secret = await create_webhook(strict, "https://hooks.example.com:8443/in?t=1")
    network = Answering()
    strict_config = DeliveryConfig(**{**CONFIG.__dict__, "allow_private": False})
    async with delivering(strict_config, network.transport):
        await register(strict, {"id": "PIN-1"})

        async def sent() -> list[httpx.Request] | None:
            return network.requests or None

        (request,) = await until(sent)

        async def delivered() -> dict[str, Any] | None:
            state = await webhook_state(strict, hook["id"])
            return state if state["lastDeliveredAt"] else None

        state = await until(delivered)
    assert str(request.url) == "https://93.184.215.14:8443/in?t=1"
    assert request.headers["host"] == "hooks.example.com:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.com"  # TLS checks the name
    verified = Webhook(secret).verify(request.content, dict(request.headers))
    assert verified["data"]["id"] == "PIN-1"
    assert (state["lastError"], state["failingSince"]) == (None, None)


async def test_a_name_that_resolves_to_a_private_address_later_is_not_delivered_to(
    strict: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Public when the webhook is created, private at delivery (DNS rebinding).
    resolving(monkeypatch, [["93.184.215.14"], ["10.0.0.7"]])
    hook, _ = await create_webhook(strict, "https://hooks.example.com/in")
    network = Answering()
    strict_config = DeliveryConfig(**{**CONFIG.__dict__, "allow_private": False})
    async with delivering(strict_config, network.transport):
        await register(strict, {"id": "REBIND-1"})

        async def refused() -> dict[str, Any] | None:
            state = await webhook_state(strict, hook["id"])
            return state if state["lastError"] else None

        state = await until(refused)
    assert (
        "hooks.example.com resolves to 10.0.0.7, which is a private address" in (state["lastError"])
    )
    assert network.requests == []
