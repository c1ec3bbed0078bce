"""Brokers kept in step through the app (API.md §10.2, §10.3), with a scripted Mosquitto.

Delivery creates the client before the 201 and delivers nothing when Mosquitto
does not confirm; resets and removals queue their revocations in the same
transaction as the change. The real brokers: ``tests/test_mosquitto_dynsec.py``
and ``tests/test_rabbitmq_connections.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from models.broker_outbox import BrokerTarget, BrokerTask
from resolvers import broker_sync, events
from resolvers.broker_sync import Brokers
from resolvers.broker_urls import rabbitmq_management_login
from resolvers.changes import utcnow
from resolvers.rabbitmq_management import RabbitMQManagement
from tests.kit.accounts import bootstrap_client
from tests.kit.brokers import ScriptedMosquitto, outbox_rows
from tests.kit.clients import GraphQLClient, error_codes
from tests.kit.device_logins import issue, reset
from tests.kit.devices import TOKEN, poll
from tests.kit.documents import REMOVE, REQUEST_CREDENTIALS
from tests.kit.registrations import accept, event_kinds, register, state


@pytest.fixture
def mosquitto(http: httpx.AsyncClient) -> Iterator[ScriptedMosquitto]:
    """Mosquitto and RabbitMQ configured (after the app installed its own brokers)."""
    scripted = ScriptedMosquitto()
    management = RabbitMQManagement(rabbitmq_management_login("http://u:p@127.0.0.1:9"))
    previous = broker_sync.current()
    broker_sync.install(Brokers(mosquitto=scripted, rabbitmq=management))
    yield scripted
    broker_sync.install(previous)


async def accepted(http: httpx.AsyncClient, admin: GraphQLClient, device_id: str) -> None:
    assert (await register(admin, {"id": device_id}))["__typename"] == "RegisterSuccess"
    assert (await poll(http, device_id, token=TOKEN)).status_code == 404
    assert (await accept(admin, device_id, TOKEN))["__typename"] == "Registration"


async def test_delivery_creates_the_client_with_the_delivered_password_before_answering(
    http: httpx.AsyncClient, admin: GraphQLClient, mosquitto: ScriptedMosquitto
) -> None:
    issued = await issue(http, admin, "SN-1", token=TOKEN)
    (created,) = mosquitto.created()
    assert created["username"] == "device_SN-1"
    assert created["password"] == issued["password"]
    assert created["clientid"] == "SN-1"
    (request,) = mosquitto.requests
    assert [c["command"] for c in request][-2:] == ["createRole", "createClient"]


async def test_mosquitto_not_confirming_answers_503_and_delivers_nothing(
    http: httpx.AsyncClient, admin: GraphQLClient, mosquitto: ScriptedMosquitto
) -> None:
    await accepted(http, admin, "SN-2")
    for answer in ("unavailable", "Permission denied"):
        mosquitto.answer = answer
        refused = await poll(http, "SN-2", token=TOKEN)
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"] == "general/Service Unavailable"
        assert refused.headers["retry-after"] == "5"
    mosquitto.connected = False
    assert (await poll(http, "SN-2", token=TOKEN)).status_code == 503
    assert len(mosquitto.requests) == 2  # not connected: not even tried
    registration = await state(admin, "SN-2")
    assert (registration["status"], registration["credentialsDeliveredAt"]) == ("ACCEPTED", None)
    assert "CREDENTIALS_DELIVERED" not in await event_kinds("SN-2")
    # The GraphQL twin says the same: HTTP 503 and the code, as for a database away (§9.5).
    bootstrap = bootstrap_client(admin)
    twin = await bootstrap.post(REQUEST_CREDENTIALS, {"id": "SN-2", "token": TOKEN})
    assert twin.status_code == 503, twin.text
    assert error_codes(twin.json()) == ["SERVICE_UNAVAILABLE"]
    # Mosquitto back: the next poll collects them, once.
    mosquitto.connected, mosquitto.answer = True, None
    collected = await poll(http, "SN-2", token=TOKEN)
    assert collected.status_code == 201
    assert mosquitto.created()[-1]["password"] == collected.json()["password"]
    assert (await event_kinds("SN-2")).count("CREDENTIALS_DELIVERED") == 1


async def test_reset_and_removal_queue_one_revocation_per_configured_broker(
    http: httpx.AsyncClient, admin: GraphQLClient, mosquitto: ScriptedMosquitto
) -> None:
    await issue(http, admin, "SN-3")
    assert (await reset(admin, "SN-3"))["__typename"] == "Registration"
    rows = await outbox_rows()
    assert {(r.target, r.device_id, r.reason, r.tenant_id) for r in rows} == {
        (BrokerTarget.MOSQUITTO, "SN-3", "reset", "management"),
        (BrokerTarget.RABBITMQ, "SN-3", "reset", "management"),
    }
    assert all(r.attempts == 0 and r.next_attempt_at <= utcnow() for r in rows)
    await BrokerTask.all().delete()
    assert (await admin.data(REMOVE, id="SN-3"))["removeRegistration"]["__typename"] == "Removed"
    # Reset, so no delivered credentials: no RabbitMQ connection can exist; Mosquitto may
    # still hold a client from a delivery that did not commit.
    assert [(r.target, r.reason) for r in await outbox_rows()] == [
        (BrokerTarget.MOSQUITTO, "remove")
    ]


async def test_nothing_is_queued_without_broker_settings(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    assert broker_sync.current().targets == ()
    await issue(http, admin, "SN-4")
    assert (await reset(admin, "SN-4"))["__typename"] == "Registration"
    assert (await admin.data(REMOVE, id="SN-4"))["removeRegistration"]["__typename"] == "Removed"
    assert await outbox_rows() == []


async def test_a_change_that_fails_leaves_no_revocation(
    http: httpx.AsyncClient,
    admin: GraphQLClient,
    mosquitto: ScriptedMosquitto,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await issue(http, admin, "SN-5")

    async def failing_append(*rows: object) -> None:
        raise RuntimeError("the event log could not be written")

    # The change fails after the row was written, inside the same transaction.
    monkeypatch.setattr(events, "append", failing_append)
    body = await admin(REMOVE, id="SN-5")
    assert error_codes(body) == ["INTERNAL_SERVER_ERROR"]
    body = await admin("mutation($id: ID!) { resetCredentials(id: $id) { __typename } }", id="SN-5")
    assert error_codes(body) == ["INTERNAL_SERVER_ERROR"]
    monkeypatch.undo()
    assert await outbox_rows() == []
    assert (await state(admin, "SN-5"))["credentialsDeliveredAt"] is not None


async def test_a_delivery_takes_over_the_devices_waiting_mosquitto_deletion(
    http: httpx.AsyncClient, admin: GraphQLClient, mosquitto: ScriptedMosquitto
) -> None:
    await issue(http, admin, "SN-6")
    assert (await reset(admin, "SN-6"))["__typename"] == "Registration"
    assert (await poll(http, "SN-6")).status_code == 201
    # Creating the client began by deleting what the device had: that row is done.
    assert [r.target for r in await outbox_rows()] == [BrokerTarget.RABBITMQ]
    assert [c["command"] for c in mosquitto.requests[-1]][:3] == [
        "removeClientRole",
        "deleteClient",
        "deleteRole",
    ]


async def test_a_deletion_being_sent_makes_the_poll_wait(
    http: httpx.AsyncClient, admin: GraphQLClient, mosquitto: ScriptedMosquitto
) -> None:
    await issue(http, admin, "SN-7")
    assert (await reset(admin, "SN-7"))["__typename"] == "Registration"
    # A deliverer has claimed the deletion and is sending it right now.
    await BrokerTask.filter(target=BrokerTarget.MOSQUITTO).update(
        lease_owner="elsewhere:1", lease_until=utcnow() + timedelta(seconds=30)
    )
    sent = len(mosquitto.requests)
    assert (await poll(http, "SN-7")).status_code == 503
    assert len(mosquitto.requests) == sent  # nothing created that it could delete
    assert len(await outbox_rows(BrokerTarget.MOSQUITTO)) == 1
    # Its claim ran out (the deliverer died): the delivery takes the row over.
    await BrokerTask.filter(target=BrokerTarget.MOSQUITTO).update(
        lease_until=utcnow() - timedelta(seconds=1)
    )
    assert (await poll(http, "SN-7")).status_code == 201
    assert await outbox_rows(BrokerTarget.MOSQUITTO) == []
