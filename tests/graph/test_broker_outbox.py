"""The outbox deliverer: retried until confirmed, one deliverer a row, claims that run out.

Deliverers in the test's own process against the database of ``db`` (SQLite
and PostgreSQL), with a scripted broker. Two server processes on PostgreSQL:
``tests/test_broker_outbox_servers.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from models.broker_outbox import BrokerTarget, BrokerTask
from resolvers.broker_outbox import OutboxConfig, OutboxDeliverer, Revoker
from resolvers.broker_urls import rabbitmq_management_login
from resolvers.changes import utcnow
from resolvers.rabbitmq_management import RabbitMQManagement
from resolvers.revokers import RabbitMQRevoker
from tests.kit.brokers import RecordingRevoker, outbox_rows
from tests.kit.webhooks import until

FAST = OutboxConfig(min_backoff=0.05, max_backoff=0.2, poll_interval=0.2, lease_seconds=5)


async def queue(*device_ids: str, target: BrokerTarget = BrokerTarget.MOSQUITTO) -> list[int]:
    now = utcnow()
    rows = [
        BrokerTask(
            target=target,
            tenant_id="management",
            device_id=device_id,
            reason="remove",
            queued_at=now,
            next_attempt_at=now,
        )
        for device_id in device_ids
    ]
    await BrokerTask.bulk_create(rows)
    return [row.id for row in await outbox_rows(target)]


@contextlib.asynccontextmanager
async def delivering(
    *revokers: Revoker, config: OutboxConfig = FAST
) -> AsyncIterator[OutboxDeliverer]:
    deliverer = OutboxDeliverer(list(revokers), config)
    deliverer.start()
    try:
        yield deliverer
    finally:
        await deliverer.stop()


async def empty() -> bool | None:
    return True if not await outbox_rows() else None


async def test_a_failing_broker_is_retried_with_backoff_until_it_confirms(db: str) -> None:
    (row,) = await queue("SN-1")
    broker = RecordingRevoker(failures=3)
    async with delivering(broker):
        failed = await until(lambda: _failed_at_least(row, 2))
        assert failed.last_error == "connection refused"
        assert failed.next_attempt_at > failed.queued_at
        await until(empty)
    assert broker.revoked == [row]
    starts = [started for _, _, started, _ in broker.attempts]
    assert len(starts) == 4
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # 0.05, 0.1, 0.2 s: doubling, capped at max_backoff (timers are not exact to the ms).
    assert gaps[0] >= 0.04 and gaps[1] >= 0.09 and gaps[2] >= 0.18, gaps


async def _failed_at_least(row_id: int, attempts: int) -> BrokerTask | None:
    row = await BrokerTask.get_or_none(id=row_id)
    return row if row is not None and row.attempts >= attempts else None


async def test_two_deliverers_never_send_a_row_twice_or_at_once(db: str) -> None:
    ids = await queue(*(f"SN-{n}" for n in range(40)))
    config = OutboxConfig(min_backoff=0.05, max_backoff=0.2, poll_interval=0.2, batch=5)
    a = RecordingRevoker(seconds=0.05, who="a")
    b = RecordingRevoker(seconds=0.05, who="b")
    async with delivering(a, config=config), delivering(b, config=config):
        await until(empty, timeout=20)
    assert sorted(a.revoked + b.revoked) == sorted(ids)  # each exactly once
    assert a.revoked and b.revoked, "both deliverers took part"
    spans: dict[int, list[tuple[float, float]]] = {}
    for _, batch, started, ended in a.attempts + b.attempts:
        for row in batch:
            spans.setdefault(row, []).append((started, ended))
    assert all(len(s) == 1 for s in spans.values())


async def test_a_dead_deliverers_claim_is_taken_over_when_it_runs_out(db: str) -> None:
    (row,) = await queue("SN-1")
    lease_ends = utcnow() + timedelta(seconds=1)
    await BrokerTask.filter(id=row).update(lease_owner="dead-host:1:ab:1", lease_until=lease_ends)
    broker = RecordingRevoker()
    async with delivering(broker):
        await asyncio.sleep(0.5)
        assert broker.attempts == []  # still claimed by the other process
        await until(empty, timeout=5)
    assert broker.revoked == [row]


async def test_rows_wait_while_the_broker_is_away_and_go_at_once_when_it_is_back(
    db: str,
) -> None:
    (row,) = await queue("SN-1")
    # A long backoff from earlier failures: only the broker's return makes it due now.
    await BrokerTask.filter(id=row).update(
        attempts=6, next_attempt_at=utcnow() + timedelta(hours=1)
    )
    broker = RecordingRevoker(up=False)
    async with delivering(broker) as deliverer:
        await asyncio.sleep(0.5)
        assert broker.attempts == []
        broker.up = True
        deliverer.wake(BrokerTarget.MOSQUITTO, due_now=True)
        await until(empty, timeout=2)
    assert broker.revoked == [row]


async def test_stopping_lets_go_of_its_claims_and_keeps_the_rows(db: str) -> None:
    (row,) = await queue("SN-1")
    broker = RecordingRevoker(hang=True)
    async with delivering(broker):
        await until(lambda: _claimed(row))
    kept = await BrokerTask.get(id=row)
    assert (kept.lease_owner, kept.lease_until, kept.attempts) == (None, None, 0)


async def _claimed(row_id: int) -> bool | None:
    row = await BrokerTask.get(id=row_id)
    return True if row.lease_owner is not None else None


async def test_each_broker_gets_only_its_own_rows(db: str) -> None:
    (mosquitto_row,) = await queue("SN-1")
    (rabbitmq_row,) = await queue("SN-1", target=BrokerTarget.RABBITMQ)
    mosquitto = RecordingRevoker()
    async with delivering(mosquitto):
        await until(lambda: _gone(mosquitto_row))
    assert mosquitto.revoked == [mosquitto_row]
    assert [r.id for r in await outbox_rows()] == [rabbitmq_row]


async def _gone(row_id: int) -> bool | None:
    return True if await BrokerTask.get_or_none(id=row_id) is None else None


# ---------------------------------------------------------------- RabbitMQ's connections


class Management:
    """RabbitMQ's management API as the revoker sees it (httpx.MockTransport)."""

    def __init__(self, connections: list[dict[str, str]], delete_status: int = 204) -> None:
        self.connections = connections
        self.delete_status = delete_status
        self.deleted: list[tuple[str, str]] = []
        self.lists = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"].startswith("Basic ")
        if request.method == "GET":
            assert request.url.path == "/api/connections"
            assert request.url.params["columns"] == "name,user"
            self.lists += 1
            return httpx.Response(200, json=self.connections)
        assert request.method == "DELETE"
        name = request.url.path.removeprefix("/api/connections/")
        self.deleted.append((name, request.headers["x-reason"]))
        if self.delete_status == 204:
            self.connections = [c for c in self.connections if c["name"] != name]
        return httpx.Response(self.delete_status)


def revoker(management: Management, window: float = 0.0) -> RabbitMQRevoker:
    client = RabbitMQManagement(
        rabbitmq_management_login("http://gatehouse:pw@127.0.0.1:15672"),
        transport=httpx.MockTransport(management),
    )
    return RabbitMQRevoker(
        client, window=timedelta(seconds=window), sweep_interval=timedelta(seconds=0.1)
    )


async def test_rabbitmq_connections_of_the_device_are_closed_whatever_the_login_spelling(
    db: str,
) -> None:
    management = Management(
        [
            {"name": "10.0.0.5:51000 -> 10.0.0.1:1883", "user": "device_SN-1"},
            {"name": "10.0.0.6:52000 -> 10.0.0.1:1883", "user": "management/device_SN-1"},
            {"name": "10.0.0.7:53000 -> 10.0.0.1:1883", "user": "device_SN-10"},
            {"name": "10.0.0.8:54000 -> 10.0.0.1:5672", "user": "service-user"},
        ]
    )
    await queue("SN-1", target=BrokerTarget.RABBITMQ)
    async with delivering(revoker(management)):
        await until(empty)
    assert sorted(management.deleted) == [
        ("10.0.0.5:51000 -> 10.0.0.1:1883", "Gatehouse: the device's credentials were revoked"),
        ("10.0.0.6:52000 -> 10.0.0.1:1883", "Gatehouse: the device's credentials were revoked"),
    ]
    assert [c["user"] for c in management.connections] == ["device_SN-10", "service-user"]


async def test_rabbitmq_is_looked_at_again_until_the_window_has_passed(db: str) -> None:
    management = Management([])
    await queue("SN-1", target=BrokerTarget.RABBITMQ)
    async with delivering(revoker(management, window=1.0)):
        await asyncio.sleep(0.4)
        # The connection shows up late, as RabbitMQ lists new MQTT connections.
        management.connections.append({"name": "late", "user": "device_SN-1"})
        await until(empty, timeout=5)
    assert [name for name, _ in management.deleted] == ["late"]
    assert management.lists >= 3


async def test_a_management_user_that_may_not_close_connections_is_retried_and_explained(
    db: str,
) -> None:
    management = Management([{"name": "c1", "user": "device_SN-1"}], delete_status=401)
    (row,) = await queue("SN-1", target=BrokerTarget.RABBITMQ)
    async with delivering(revoker(management)):
        failed = await until(lambda: _failed_at_least(row, 2))
    assert failed.last_error is not None and "administrator" in failed.last_error
    assert "pw" not in failed.last_error


@pytest.mark.parametrize("status", [500, 401])
async def test_a_failing_list_keeps_the_row(db: str, status: int) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status)

    client = RabbitMQManagement(
        rabbitmq_management_login("http://gatehouse:pw@127.0.0.1:15672"),
        transport=httpx.MockTransport(broken),
    )
    (row,) = await queue("SN-1", target=BrokerTarget.RABBITMQ)
    async with delivering(RabbitMQRevoker(client, window=timedelta(0))):
        failed = await until(lambda: _failed_at_least(row, 1))
    assert failed.last_error is not None and f"HTTP {status}" in failed.last_error


async def test_rows_for_a_broker_no_longer_configured_are_named_at_start(
    db: str, caplog: pytest.LogCaptureFixture
) -> None:
    await queue("SN-1", "SN-2", target=BrokerTarget.RABBITMQ)
    with caplog.at_level("WARNING", logger="resolvers.broker_outbox"):
        async with delivering():  # no broker configured at all
            await asyncio.sleep(0.3)
    assert any(
        "2 revocation(s) for rabbitmq" in r.getMessage()
        and "GATEHOUSE_RABBITMQ_MANAGEMENT_URL is not set" in r.getMessage()
        for r in caplog.records
    ), caplog.text
    assert len(await outbox_rows()) == 2
