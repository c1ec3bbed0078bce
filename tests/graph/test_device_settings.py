"""The settings that shape a device's namespace, client id, vhost and exchange (API.md §6)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from graph.settings import Settings, SettingsError
from tests.kit.accounts import ADMIN_LOGIN, ADMIN_PASSWORD
from tests.kit.clients import GraphQLClient, app_client
from tests.kit.device_logins import issue, rabbitmq


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("GATEHOUSE_DEVICE_TOPIC_PREFIX", "devices/+/{id}", "must not contain '+'"),
        ("GATEHOUSE_DEVICE_TOPIC_PREFIX", "devices/dev-{id}", "exactly once"),
        ("GATEHOUSE_MQTT_CLIENT_ID", "fixed", "must contain {id}"),
        ("GATEHOUSE_DEVICE_AUTH_CACHE_SECONDS", "-1", "greater than or equal to 0"),
    ],
)
def test_a_setting_that_would_open_other_devices_topics_stops_the_server(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        Settings.from_env()
    assert variable in str(raised.value) and message in str(raised.value)


async def test_the_namespace_client_id_vhost_and_exchange_follow_the_settings(db: str) -> None:
    settings = Settings(
        database_url="sqlite://:memory:",
        device_topic_prefix="tenants/all/{id}/up",
        mqtt_client_id="gw-{id}",
        rabbitmq_vhost="iot",
        rabbitmq_exchange="devices",
    )
    async with app_client(settings) as http:
        admin = GraphQLClient(http, ADMIN_LOGIN, ADMIN_PASSWORD)
        issued: dict[str, Any] = await issue(http, admin, "SN-1")
        allowed = await authorize(http, "gw-SN-1", "tenants/all/SN-1/up/state")
        assert allowed == "allow"
        assert await authorize(http, "SN-1", "tenants/all/SN-1/up/state") == "deny"
        assert await authorize(http, "gw-SN-1", "devices/SN-1/state") == "deny"
        topic = {
            "username": "device_SN-1",
            "vhost": "iot",
            "name": "devices",
            "permission": "write",
            "routing_key": "tenants.all.SN-1.up.state",
            "variable_map.client_id": "gw-SN-1",
        }
        assert (await rabbitmq(http, "topic", **topic)).text == "allow"
        assert (await rabbitmq(http, "topic", **topic | {"vhost": "/"})).text == "deny"
        assert (await rabbitmq(http, "topic", **topic | {"name": "amq.topic"})).text == "deny"
        login = {"username": "device_SN-1", "password": issued["password"]}
        assert (await rabbitmq(http, "user", **login, client_id="gw-SN-1")).text == "allow"


async def authorize(http: httpx.AsyncClient, client_id: str, topic: str) -> str:
    body = {"username": "device_SN-1", "clientid": client_id, "topic": topic, "action": "publish"}
    result: str = (await http.post("/auth/emqx/authorize", json=body)).json()["result"]
    return result
