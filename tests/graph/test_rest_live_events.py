"""Changes made through Cumulocity's REST reach subscribers as GraphQL's do (API.md §5.8, §8).

A real server process and a real ``graphql-transport-ws`` subscriber; the
changes come through ``/devicecontrol/newDeviceRequests`` and the bulk upload.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.kit.accounts import ADMIN_PASSWORD, BOOTSTRAP_PASSWORD
from tests.kit.c8y import gatehouse
from tests.kit.clients import basic
from tests.kit.servers import Server, Subscriber

EVENTS = "subscription { registrationEvents { kind id status previousStatus actor } }"
ADMIN = basic("management/admin", ADMIN_PASSWORD)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    cwd: Path = tmp_path_factory.mktemp("rest-events")
    with gatehouse(cwd) as running:
        yield running


@pytest.fixture
async def subscriber(server: Server) -> AsyncIterator[Subscriber]:
    running = await Subscriber.open(server.ws_url, ADMIN, EVENTS)
    yield running
    await running.close()


async def test_every_rest_change_is_pushed_in_order(server: Server, subscriber: Subscriber) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        admin = {"Authorization": ADMIN}
        path = "/devicecontrol/newDeviceRequests"
        assert (await http.post(path, json={"id": "live-1"}, headers=admin)).status_code == 201
        poll = await http.post(
            "/devicecontrol/deviceCredentials",
            json={"id": "live-1", "securityToken": "printed"},
            headers={"Authorization": basic("management/devicebootstrap", BOOTSTRAP_PASSWORD)},
        )
        assert poll.status_code == 404
        wrong = {"status": "ACCEPTED", "securityToken": "guess"}
        assert (await http.put(f"{path}/live-1", json=wrong, headers=admin)).status_code == 422
        right = {"status": "ACCEPTED", "securityToken": "printed"}
        assert (await http.put(f"{path}/live-1", json=right, headers=admin)).status_code == 200
        bulk = await http.post(
            "/devicecontrol/bulkNewDeviceRequests",
            files={"file": ("bulk-registration.csv", b"ID;PATH\nlive-2;Lab\nlive 3;\nlive-4;\n")},
            headers=admin,
        )
        assert bulk.json()["numberOfCreated"] == 2
        assert (await http.delete(f"{path}/live-4", headers=admin)).status_code == 204

    events = await subscriber.events(7)
    assert [(e["kind"], e["id"], e["status"]) for e in events] == [
        ("REGISTERED", "live-1", "WAITING_FOR_CONNECTION"),
        ("CONNECTED", "live-1", "PENDING_ACCEPTANCE"),
        ("TOKEN_REJECTED", "live-1", "PENDING_ACCEPTANCE"),
        ("ACCEPTED", "live-1", "ACCEPTED"),
        ("REGISTERED", "live-2", "WAITING_FOR_CONNECTION"),
        ("REGISTERED", "live-4", "WAITING_FOR_CONNECTION"),
        ("REMOVED", "live-4", None),
    ]
    assert {e["actor"] for e in events if e["kind"] != "CONNECTED"} == {"management/admin"}
    assert await subscriber.nothing_within(0.3)
