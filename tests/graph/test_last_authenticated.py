"""``Registration.lastAuthenticatedAt`` (API.md §6): written at most once a minute per device."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from graph.app import create_app
from graph.settings import Settings
from models.registrations import Registration
from resolvers.device_logins import DeviceLogins
from tests.kit.accounts import ADMIN_LOGIN, ADMIN_PASSWORD
from tests.kit.clients import GraphQLClient
from tests.kit.device_logins import gateway, issue, rabbitmq_user
from tests.kit.documents import LAST_AUTHENTICATED
from tests.kit.statements import statements


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def app_and_clock(db: str) -> AsyncIterator[tuple[httpx.AsyncClient, Clock]]:
    app = create_app(Settings(database_url="sqlite://:memory:"), manage_orm=False)
    devices: DeviceLogins = app.state.services.device_logins
    clock = Clock()
    devices.now = clock
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gatehouse.test") as client:
        yield client, clock


async def last_authenticated(admin: GraphQLClient, device_id: str) -> str | None:
    found: str | None = (await admin.data(LAST_AUTHENTICATED, id=device_id))["registration"][
        "lastAuthenticatedAt"
    ]
    return found


async def test_a_stream_of_callbacks_writes_it_once_a_minute(
    app_and_clock: tuple[httpx.AsyncClient, Clock],
) -> None:
    http, clock = app_and_clock
    admin = GraphQLClient(http, ADMIN_LOGIN, ADMIN_PASSWORD)
    issued = await issue(http, admin, "SN-1")
    assert await last_authenticated(admin, "SN-1") is None

    with statements() as sql:
        for n in range(40):
            clock.now += timedelta(seconds=1)
            if n % 2:
                assert await rabbitmq_user(http, "device_SN-1", issued["password"]) == "allow"
            else:
                assert (await gateway(http, "device_SN-1", issued["password"])).status_code == 200
    assert len(sql.verb("UPDATE")) == 1
    first = await last_authenticated(admin, "SN-1")
    assert first is not None

    clock.now += timedelta(seconds=21)  # a minute after the first write
    with statements() as sql:
        assert await rabbitmq_user(http, "device_SN-1", issued["password"]) == "allow"
        assert await rabbitmq_user(http, "device_SN-1", issued["password"]) == "allow"
    assert len(sql.verb("UPDATE")) == 1
    second = await last_authenticated(admin, "SN-1")
    assert second is not None and second > first


async def test_refused_logins_and_password_less_checks_write_nothing(
    app_and_clock: tuple[httpx.AsyncClient, Clock],
) -> None:
    http, _ = app_and_clock
    admin = GraphQLClient(http, ADMIN_LOGIN, ADMIN_PASSWORD)
    await issue(http, admin, "SN-1")
    with statements() as sql:
        for _ in range(5):
            assert await rabbitmq_user(http, "device_SN-1", "wrong-password") == "deny"
            vhost = await http.post(
                "/auth/rabbitmq/vhost", data={"username": "device_SN-1", "vhost": "/"}
            )
            assert vhost.text == "allow"
    assert sql.verb("UPDATE", "INSERT", "DELETE") == []
    assert await last_authenticated(admin, "SN-1") is None


async def test_a_second_process_does_not_write_it_again_within_the_minute(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    issued = await issue(http, admin, "SN-1")
    assert await rabbitmq_user(http, "device_SN-1", issued["password"]) == "allow"
    written = (await Registration.get(device_id="SN-1")).last_authenticated_at
    assert written is not None
    # Another process, with a cache and a memory of its own, verifies the same device.
    other = create_app(Settings(database_url="sqlite://:memory:"), manage_orm=False)
    transport = httpx.ASGITransport(app=other)
    async with httpx.AsyncClient(transport=transport, base_url="http://other") as client:
        assert await rabbitmq_user(client, "device_SN-1", issued["password"]) == "allow"
    assert (await Registration.get(device_id="SN-1")).last_authenticated_at == written
