"""``registrationEvents`` over real websockets against a real server process (API.md §1, §3)."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.kit.accounts import ADMIN_PASSWORD, BOOTSTRAP_PASSWORD
from tests.kit.clients import basic
from tests.kit.documents import REGISTER
from tests.kit.servers import Server, Subscriber, run_env, start_server

EVENTS = """
subscription($after: String, $status: [RegistrationStatus!]) {
  registrationEvents(after: $after, status: $status) {
    cursor kind id status previousStatus actor registration { id status }
  }
}"""
_tenants = itertools.count(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One SQLite server for the module, with a small subscriber queue to show overflow."""
    cwd: Path = tmp_path_factory.mktemp("subscriptions")
    env = run_env(
        GATEHOUSE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        GATEHOUSE_BOOTSTRAP_PASSWORD=BOOTSTRAP_PASSWORD,
        GATEHOUSE_SUBSCRIBER_QUEUE="100",
    )
    running = start_server(cwd, env)
    yield running
    running.stop()


class Tenant:
    def __init__(self, server: Server, http: httpx.AsyncClient, tenant_id: str) -> None:
        self.server = server
        self.http = http
        self.id = tenant_id
        self.auth = basic(f"{tenant_id}/admin", f"{tenant_id}-password")

    async def gql(self, query: str, auth: str | None = None, **variables: Any) -> dict[str, Any]:
        response = await self.http.post(
            f"{self.server.url}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": auth or self.auth},
        )
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        return body

    async def register(self, *ids: str) -> None:
        body = await self.gql(REGISTER, devices=[{"id": i} for i in ids])
        assert body["data"]["register"]["__typename"] == "RegisterSuccess", body

    async def poll(self, device_id: str) -> int:
        response = await self.http.post(
            f"{self.server.url}/devicecontrol/deviceCredentials",
            json={"id": device_id},
            headers={"Authorization": basic("devicebootstrap", BOOTSTRAP_PASSWORD)},
        )
        return response.status_code

    async def subscribe(self, **variables: Any) -> Subscriber:
        subscriber = await Subscriber.open(self.server.ws_url, self.auth, EVENTS, variables)
        # Let the subscription join its feed before the test changes anything.
        await asyncio.sleep(0.2)
        return subscriber


@pytest.fixture
async def tenant(server: Server) -> AsyncIterator[Tenant]:
    tenant_id = f"sub{next(_tenants)}"
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            f"{server.url}/graphql",
            json={
                "query": "mutation($id: String!) { createTenant(id: $id, name: $id, "
                'adminPassword: "' + f"{tenant_id}-password" + '") { id } }',
                "variables": {"id": tenant_id},
            },
            headers={"Authorization": basic("admin", ADMIN_PASSWORD)},
        )
        assert response.status_code == 200 and "errors" not in response.json(), response.text
        yield Tenant(server, http, tenant_id)


async def test_events_arrive_live_in_commit_order(tenant: Tenant) -> None:
    subscriber = await tenant.subscribe()
    await tenant.register("live-1", "live-2")
    events = await subscriber.events(2)
    assert [(e["kind"], e["id"], e["status"]) for e in events] == [
        ("REGISTERED", "live-1", "WAITING_FOR_CONNECTION"),
        ("REGISTERED", "live-2", "WAITING_FOR_CONNECTION"),
    ]
    assert events[0]["actor"] == f"{tenant.id}/admin"
    assert events[0]["registration"] == {"id": "live-1", "status": "WAITING_FOR_CONNECTION"}
    await tenant.register("live-3")
    assert await tenant.poll("live-3") == 404
    later = await subscriber.events(2)
    assert [(e["kind"], e["id"]) for e in later] == [
        ("REGISTERED", "live-3"),
        ("CONNECTED", "live-3"),
    ]
    assert later[1]["previousStatus"] == "WAITING_FOR_CONNECTION"
    await subscriber.close()


async def test_status_filter_sends_only_matching_events(tenant: Tenant) -> None:
    subscriber = await tenant.subscribe(status=["PENDING_ACCEPTANCE"])
    await tenant.register("filter-1")
    assert await tenant.poll("filter-1") == 404
    (event,) = await subscriber.events(1)
    assert (event["kind"], event["status"]) == ("CONNECTED", "PENDING_ACCEPTANCE")
    assert await subscriber.nothing_within(0.5)
    await subscriber.close()


async def test_subscriber_never_sees_another_tenants_events(tenant: Tenant, server: Server) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        other = Tenant(server, http, tenant.id)
        other.auth = basic("admin", ADMIN_PASSWORD)  # the management tenant
        subscriber = await tenant.subscribe()
        await other.register(f"mgmt-{tenant.id}")
        assert await subscriber.nothing_within(1.0)
        await tenant.register("mine-1")
        (event,) = await subscriber.events(1)
        assert event["id"] == "mine-1"
        await subscriber.close()


async def test_resume_after_disconnect_replays_missed_events_once(tenant: Tenant) -> None:
    subscriber = await tenant.subscribe()
    await tenant.register("resume-1")
    (first,) = await subscriber.events(1)
    await subscriber.close()

    await tenant.register("resume-2", "resume-3")
    assert await tenant.poll("resume-1") == 404

    resumed = await tenant.subscribe(after=first["cursor"])
    replayed = await resumed.events(3)
    assert [(e["kind"], e["id"]) for e in replayed] == [
        ("REGISTERED", "resume-2"),
        ("REGISTERED", "resume-3"),
        ("CONNECTED", "resume-1"),
    ]
    await tenant.register("resume-4")
    (live,) = await resumed.events(1)
    assert live["id"] == "resume-4"
    assert await resumed.nothing_within(0.5)
    await resumed.close()


async def test_resume_while_events_are_committed_has_no_gap_or_duplicate(tenant: Tenant) -> None:
    subscriber = await tenant.subscribe()
    await tenant.register("race-0")
    (first,) = await subscriber.events(1)
    await subscriber.close()

    writer = asyncio.create_task(_register_one_by_one(tenant, [f"race-{n}" for n in range(1, 31)]))
    await asyncio.sleep(0.05)
    resumed = await Subscriber.open(
        tenant.server.ws_url, tenant.auth, EVENTS, {"after": first["cursor"]}
    )
    await writer
    received = await resumed.events(30, timeout=20)
    assert [e["id"] for e in received] == [f"race-{n}" for n in range(1, 31)]
    assert await resumed.nothing_within(0.5)
    await resumed.close()


async def _register_one_by_one(tenant: Tenant, ids: list[str]) -> None:
    for device_id in ids:
        await tenant.register(device_id)


async def test_bad_cursor_is_a_clear_error(tenant: Tenant, server: Server) -> None:
    subscriber = await Subscriber.open(server.ws_url, tenant.auth, EVENTS, {"after": "garbage"})
    message = await subscriber.message()
    assert message["payload"]["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    await subscriber.close()

    management = await Subscriber.open(server.ws_url, basic("admin", ADMIN_PASSWORD), EVENTS)
    await tenant.register("cursor-1")
    await asyncio.sleep(0.1)
    mine = await tenant.subscribe()
    await tenant.register("cursor-2")
    (event,) = await mine.events(1)
    foreign = await Subscriber.open(
        server.ws_url, basic("admin", ADMIN_PASSWORD), EVENTS, {"after": event["cursor"]}
    )
    message = await foreign.message()
    assert "another tenant" in message["payload"]["errors"][0]["message"]
    for sub in (management, mine, foreign):
        await sub.close()


async def _close_code(ws_url: str, payload: dict[str, Any] | None, **headers: str) -> int:
    async with websockets.connect(
        ws_url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        additional_headers=headers,
    ) as connection:
        await connection.send(json.dumps({"type": "connection_init", "payload": payload}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(connection.recv(), 5)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_missing_or_wrong_credentials_close_with_4401(server: Server) -> None:
    assert await _close_code(server.ws_url, {}) == 4401
    assert await _close_code(server.ws_url, {"Authorization": basic("admin", "wrong")}) == 4401


async def test_valid_login_without_device_control_read_closes_with_4403(server: Server) -> None:
    bootstrap = basic("devicebootstrap", BOOTSTRAP_PASSWORD)
    assert await _close_code(server.ws_url, {"Authorization": bootstrap}) == 4403


async def test_upgrade_header_login_with_empty_init_is_accepted(server: Server) -> None:
    async with websockets.connect(
        server.ws_url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        additional_headers={"Authorization": basic("admin", ADMIN_PASSWORD)},
    ) as connection:
        await connection.send(json.dumps({"type": "connection_init"}))
        ack = json.loads(await asyncio.wait_for(connection.recv(), 5))
        assert ack["type"] == "connection_ack"


async def test_legacy_graphql_ws_rejects_bad_login_and_serves_good_one(
    server: Server, tenant: Tenant
) -> None:
    async with websockets.connect(
        server.ws_url,
        subprotocols=["graphql-ws"],  # type: ignore[list-item]
    ) as connection:
        await connection.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": "Basic eDp5"}})
        )
        reply = json.loads(await asyncio.wait_for(connection.recv(), 5))
        assert reply["type"] == "connection_error"
    async with websockets.connect(
        server.ws_url,
        subprotocols=["graphql-ws"],  # type: ignore[list-item]
    ) as connection:
        await connection.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": tenant.auth}})
        )
        assert json.loads(await asyncio.wait_for(connection.recv(), 5))["type"] == "connection_ack"
        await connection.send(
            json.dumps({"id": "1", "type": "start", "payload": {"query": EVENTS}})
        )
        await asyncio.sleep(0.2)
        await tenant.register("legacy-1")
        while True:
            message = json.loads(await asyncio.wait_for(connection.recv(), 5))
            if message["type"] == "data":
                break
        assert message["payload"]["data"]["registrationEvents"]["id"] == "legacy-1"


async def test_burst_beyond_the_queue_reaches_subscribers_whole_and_in_order(
    tenant: Tenant,
) -> None:
    fast = await tenant.subscribe()
    idle = await tenant.subscribe()  # connected but not reading
    # One call writes 300 events at once, three times the server's queue of 100:
    # the subscriber catches up from the log instead of losing events or being closed,
    # and the idle subscriber delays nobody.
    await tenant.register(*(f"burst-{n:03}" for n in range(300)))
    received = await fast.events(300, timeout=20)
    assert [e["id"] for e in received] == [f"burst-{n:03}" for n in range(300)]
    await tenant.register("after-burst")
    (event,) = await fast.events(1)
    assert event["id"] == "after-burst"
    assert len(await idle.events(301, timeout=20)) == 301
    await fast.close()
    await idle.close()


async def test_subscribers_with_different_selections_each_get_their_own_fields(
    tenant: Tenant,
) -> None:
    narrow = await Subscriber.open(
        tenant.server.ws_url, tenant.auth, "subscription { registrationEvents { id kind } }"
    )
    wide = await Subscriber.open(
        tenant.server.ws_url,
        tenant.auth,
        "subscription { registrationEvents { id registration { status owner } } }",
    )
    same_as_wide = await Subscriber.open(
        tenant.server.ws_url,
        tenant.auth,
        "subscription { registrationEvents { id registration { status owner } } }",
    )
    await asyncio.sleep(0.2)
    await tenant.register("shape-1")
    assert await narrow.events(1) == [{"id": "shape-1", "kind": "REGISTERED"}]
    expected = {
        "id": "shape-1",
        "registration": {"status": "WAITING_FOR_CONNECTION", "owner": f"{tenant.id}/admin"},
    }
    assert await wide.events(1) == [expected]
    assert await same_as_wide.events(1) == [expected]
    for subscriber in (narrow, wide, same_as_wide):
        await subscriber.close()
