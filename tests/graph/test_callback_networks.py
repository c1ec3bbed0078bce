"""Every ``/auth/`` path answers the internal networks only: 403 otherwise, nothing checked.

``GATEHOUSE_INTERNAL_NETWORKS`` (API.md §6). In-process here, with the
connection's address set by the test client; ``tests/test_callback_logs.py``
checks it on a real server with a caller outside the list.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from graph.app import create_app
from graph.settings import Settings
from tests.kit.clients import GraphQLClient, basic
from tests.kit.device_logins import issue
from tests.kit.statements import statements

CALLBACKS = [
    ("POST", "/auth/rabbitmq/user", "deny"),
    ("GET", "/auth/rabbitmq/vhost", "deny"),
    ("POST", "/auth/rabbitmq/resource", "deny"),
    ("POST", "/auth/rabbitmq/topic", "deny"),
    ("POST", "/auth/emqx/authenticate", {"result": "deny"}),
    ("POST", "/auth/emqx/authorize", {"result": "deny"}),
    ("POST", "/auth/mosquitto/getuser", None),
    ("POST", "/auth/mosquitto/superuser", None),
    ("POST", "/auth/mosquitto/aclcheck", None),
    ("GET", "/auth/http", b""),
]


@pytest.fixture
async def device(http: httpx.AsyncClient, admin: GraphQLClient) -> dict[str, Any]:
    return await issue(http, admin, "SN-1")


@pytest.fixture
async def outsider(db: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client calling from 10.9.8.7, outside the default internal networks."""
    app = create_app(Settings(database_url="sqlite://:memory:"), manage_orm=False)
    transport = httpx.ASGITransport(app=app, client=("10.9.8.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://gatehouse.test") as client:
        yield client


def valid_request(method: str, path: str, password: str) -> dict[str, Any]:
    """What would be allowed from inside: the device's own credentials and topics."""
    login = {"username": "device_SN-1", "password": password, "clientid": "SN-1"}
    fields = {
        "username": "device_SN-1",
        "vhost": "/",
        "client_id": "SN-1",
        "resource": "exchange",
        "name": "amq.topic",
        "permission": "write",
        "routing_key": "devices.SN-1.x",
        "password": password,
        "clientid": "SN-1",
        "topic": "devices/SN-1/x",
        "action": "publish",
        "acc": 2,
    }
    headers = {"Authorization": basic("device_SN-1", password)}
    if path.startswith("/auth/rabbitmq/"):
        return {"params": fields} if method == "GET" else {"data": fields}
    if path == "/auth/http":
        return {"headers": headers}
    return {"json": fields if "user" not in path else login}


@pytest.mark.parametrize(("method", "path", "inside"), CALLBACKS)
async def test_a_caller_outside_the_internal_networks_gets_403_and_nothing_is_checked(
    http: httpx.AsyncClient,
    outsider: httpx.AsyncClient,
    device: dict[str, Any],
    method: str,
    path: str,
    inside: object,
) -> None:
    request = valid_request(method, path, device["password"])
    if path != "/auth/mosquitto/superuser":
        allowed = await http.request(method, path, **request)
        assert allowed.status_code == 200, (path, allowed.text)
    with statements() as sql:
        refused = await outsider.request(method, path, **request)
    assert refused.status_code == 403, path
    assert sql.statements == []
    assert "X-Device-Id" not in refused.headers
    assert b"allow" not in refused.content and b'"ok":true' not in refused.content


@pytest.mark.parametrize(("method", "path", "inside"), CALLBACKS)
async def test_inside_a_narrower_list_the_same_callers_pass(
    db: str, method: str, path: str, inside: object
) -> None:
    settings = Settings(
        database_url="sqlite://:memory:",
        internal_networks="10.9.0.0/16",  # type: ignore[arg-type]
    )
    app = create_app(settings, manage_orm=False)
    inside_client = httpx.ASGITransport(app=app, client=("10.9.8.7", 40000))
    loopback = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with (
        httpx.AsyncClient(transport=inside_client, base_url="http://t") as near,
        httpx.AsyncClient(transport=loopback, base_url="http://t") as far,
    ):
        assert (await far.request(method, path)).status_code == 403
        # Checked from inside: an empty request is a deny, a 400 or a 401, never the 403.
        answered = await near.request(method, path)
        assert answered.status_code in (200, 400, 401), (path, answered.status_code)
