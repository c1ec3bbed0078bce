"""The callbacks' hot path: one indexed SELECT for a device not yet cached, none while cached.

Brokers call on every connect and on every new publish or subscription, so a
device's callbacks stay read-only (besides ``lastAuthenticatedAt``, at most
once a minute) and cost no query while the device is cached.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.kit.clients import GraphQLClient
from tests.kit.device_logins import gateway, issue, rabbitmq, rabbitmq_user
from tests.kit.statements import statements

TOPIC = {
    "username": "device_SN-1",
    "vhost": "/",
    "resource": "topic",
    "name": "amq.topic",
    "permission": "write",
    "routing_key": "devices.SN-1.state",
    "variable_map.client_id": "SN-1",
}


@pytest.fixture
async def device(http: httpx.AsyncClient, admin: GraphQLClient) -> dict[str, Any]:
    issued = await issue(http, admin, "SN-1")
    # A fresh cache, as on a process that has not seen the device yet.
    http._transport.app.state.services.device_logins.forget(None)  # type: ignore[attr-defined]
    return issued


async def test_a_connection_costs_one_select_and_a_repeated_one_none(
    http: httpx.AsyncClient, device: dict[str, Any]
) -> None:
    with statements() as sql:
        assert await rabbitmq_user(http, "device_SN-1", device["password"], "SN-1") == "allow"
    assert len(sql.verb("SELECT")) == 1
    assert len(sql.verb("UPDATE")) == 1  # lastAuthenticatedAt, the first time this minute

    with statements() as sql:
        assert await rabbitmq_user(http, "device_SN-1", device["password"], "SN-1") == "allow"
        vhost = {"username": "device_SN-1", "vhost": "/", "client_id": "SN-1"}
        assert (await rabbitmq(http, "vhost", **vhost)).text == "allow"
        assert (await rabbitmq(http, "topic", **TOPIC)).text == "allow"
        assert (await gateway(http, "device_SN-1", device["password"])).status_code == 200
        emqx = {"username": "device_SN-1", "clientid": "SN-1", "topic": "devices/SN-1/x"}
        authorized = await http.post("/auth/emqx/authorize", json=emqx | {"action": "publish"})
        assert authorized.json() == {"result": "allow"}
    assert sql.statements == []


async def test_a_password_less_check_of_an_uncached_device_is_one_select(
    http: httpx.AsyncClient, device: dict[str, Any]
) -> None:
    with statements() as sql:
        assert (await rabbitmq(http, "topic", **TOPIC)).text == "allow"
    assert len(sql.statements) == 1
    assert len(sql.verb("SELECT")) == 1


async def test_refused_logins_are_not_cached_but_cost_one_select_each(
    http: httpx.AsyncClient,
) -> None:
    with statements() as sql:
        for _ in range(3):
            assert await rabbitmq_user(http, "device_NOPE", "whatever") == "deny"
        assert await rabbitmq_user(http, "management/admin", "whatever") == "deny"
    assert len(sql.statements) == 3  # a user's login is refused without a query
