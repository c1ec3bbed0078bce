"""RabbitMQ's HTTP auth backend callbacks (API.md §6.1), through the app, as RabbitMQ sends them.

The parameters are the ones RabbitMQ 3.10's MQTT plugin sends (seen from a real
node; ``tests/test_rabbitmq.py`` drives one): extra ones such as ``tags``,
``ip`` and ``variable_map.*`` are ignored.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.kit.accounts import ADMIN_LOGIN, ADMIN_PASSWORD, make_tenant
from tests.kit.clients import GraphQLClient
from tests.kit.device_logins import issue, rabbitmq, rabbitmq_user, reset
from tests.kit.documents import REMOVE


@pytest.fixture
async def device(http: httpx.AsyncClient, admin: GraphQLClient) -> dict[str, Any]:
    return await issue(http, admin, "SN-1")


def vhost_params(username: str = "device_SN-1", **extra: str) -> dict[str, str]:
    return {
        "username": username,
        "vhost": "/",
        "ip": "127.0.0.1",
        "tags": "",
        "client_id": "SN-1",
    } | extra


def topic_params(routing_key: str, permission: str = "write", **extra: str) -> dict[str, str]:
    return {
        "username": "device_SN-1",
        "vhost": "/",
        "resource": "topic",
        "name": "amq.topic",
        "permission": permission,
        "tags": "",
        "routing_key": routing_key,
        "variable_map.client_id": "SN-1",
        "variable_map.username": "device_SN-1",
        "variable_map.vhost": "/",
    } | extra


async def test_the_delivered_credentials_are_allowed_in_a_plain_body_without_newline(
    http: httpx.AsyncClient, device: dict[str, Any]
) -> None:
    response = await rabbitmq(
        http, "user", username="device_SN-1", password=device["password"], vhost="/"
    )
    assert response.status_code == 200
    assert response.content == b"allow"
    assert response.headers["content-type"].startswith("text/plain")


async def test_get_mode_reads_the_query_string(
    http: httpx.AsyncClient, device: dict[str, Any]
) -> None:
    params = {"username": "device_SN-1", "password": device["password"], "client_id": "SN-1"}
    assert (await http.get("/auth/rabbitmq/user", params=params)).content == b"allow"
    params["password"] = "wrong-password"
    assert (await http.get("/auth/rabbitmq/user", params=params)).content == b"deny"
    vhost = await http.get("/auth/rabbitmq/vhost", params=vhost_params())
    assert vhost.content == b"allow"


@pytest.mark.parametrize(
    ("username", "password", "client_id"),
    [
        ("device_SN-1", "wrong-password", "SN-1"),
        ("device_SN-1", "", "SN-1"),
        ("device_SN-2", "{password}", "SN-2"),
        ("device_SN-1", "{password}", "SN-2"),  # another device's client id
        ("device_SN-1", "{password}", ""),
        ("acme/device_SN-1", "{password}", "SN-1"),  # not the registration's tenant
        (ADMIN_LOGIN, ADMIN_PASSWORD, "SN-1"),  # a user's login
        ("admin", ADMIN_PASSWORD, "admin"),
    ],
)
async def test_anything_but_valid_credentials_is_denied(
    http: httpx.AsyncClient, device: dict[str, Any], username: str, password: str, client_id: str
) -> None:
    password = password.format(password=device["password"])
    assert await rabbitmq_user(http, username, password, client_id) == "deny"


async def test_the_tenant_may_be_named_in_the_username(
    http: httpx.AsyncClient, device: dict[str, Any]
) -> None:
    answer = await rabbitmq_user(http, "management/device_SN-1", device["password"], "SN-1")
    assert answer == "allow"


async def test_a_subtenants_device_logs_in_with_or_without_its_tenant(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    acme = await make_tenant(admin, "acme")
    issued = await issue(http, acme, "ACME-7")
    assert issued["tenantId"] == "acme"
    assert await rabbitmq_user(http, "acme/device_ACME-7", issued["password"]) == "allow"
    assert await rabbitmq_user(http, "device_ACME-7", issued["password"]) == "allow"
    assert await rabbitmq_user(http, "management/device_ACME-7", issued["password"]) == "deny"


async def test_removal_and_reset_shut_the_password_out_at_once(
    http: httpx.AsyncClient, admin: GraphQLClient, device: dict[str, Any]
) -> None:
    other = await issue(http, admin, "SN-2")
    assert await rabbitmq_user(http, "device_SN-1", device["password"]) == "allow"
    assert await rabbitmq_user(http, "device_SN-2", other["password"]) == "allow"
    assert (await reset(admin, "SN-1"))["__typename"] == "Registration"
    assert await rabbitmq_user(http, "device_SN-1", device["password"]) == "deny"
    assert (await rabbitmq(http, "vhost", **vhost_params())).text == "deny"
    removed = await admin.data(REMOVE, id="SN-2")
    assert removed["removeRegistration"]["__typename"] == "Removed"
    assert await rabbitmq_user(http, "device_SN-2", other["password"]) == "deny"


@pytest.mark.parametrize(
    ("params", "answer"),
    [
        ({}, "allow"),
        ({"vhost": "other"}, "deny"),
        ({"client_id": "SN-2"}, "deny"),
        ({"username": "device_SN-9"}, "deny"),
        ({"username": "management/devicebootstrap"}, "deny"),
    ],
)
async def test_the_vhost_check_needs_the_devices_vhost_and_client_id(
    http: httpx.AsyncClient, device: dict[str, Any], params: dict[str, str], answer: str
) -> None:
    response = await rabbitmq(http, "vhost", **vhost_params(**params))
    assert (response.status_code, response.text) == (200, answer)


@pytest.mark.parametrize(
    ("resource", "name", "permission", "answer"),
    [
        ("queue", "mqtt-subscription-SN-1qos1", "configure", "allow"),
        ("queue", "mqtt-subscription-SN-1qos0", "read", "allow"),
        ("queue", "mqtt-subscription-SN-1qos1", "write", "allow"),
        ("queue", "mqtt-subscription-SN-2qos1", "read", "deny"),
        ("exchange", "amq.topic", "read", "allow"),
        ("exchange", "amq.topic", "write", "allow"),
        ("exchange", "amq.topic", "configure", "deny"),
        ("exchange", "amq.fanout", "write", "deny"),
    ],
)
async def test_resources_are_the_exchange_and_the_devices_own_queues(
    http: httpx.AsyncClient,
    device: dict[str, Any],
    resource: str,
    name: str,
    permission: str,
    answer: str,
) -> None:
    params = vhost_params(resource=resource, name=name, permission=permission)
    assert (await rabbitmq(http, "resource", **params)).text == answer


@pytest.mark.parametrize(
    ("routing_key", "permission", "extra", "answer"),
    [
        ("devices.SN-1.state", "write", {}, "allow"),
        ("devices.SN-1.#", "read", {}, "allow"),
        ("devices.SN-1.*.cmd", "read", {}, "allow"),
        ("devices.SN-2.state", "write", {}, "deny"),
        ("devices.*.state", "read", {}, "deny"),
        ("#", "read", {}, "deny"),
        ("devices.#", "read", {}, "deny"),
        ("devices.SN-1.state", "write", {"variable_map.client_id": "SN-2"}, "deny"),
        ("devices.SN-1.state", "write", {"name": "amq.fanout"}, "deny"),
    ],
)
async def test_topics_are_routing_keys_inside_the_namespace(
    http: httpx.AsyncClient,
    device: dict[str, Any],
    routing_key: str,
    permission: str,
    extra: dict[str, str],
    answer: str,
) -> None:
    response = await rabbitmq(http, "topic", **topic_params(routing_key, permission, **extra))
    assert (response.status_code, response.text) == (200, answer)


async def test_a_device_whose_id_holds_a_dot_logs_in_but_reaches_no_topic(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    issued = await issue(http, admin, "SN.7")
    assert await rabbitmq_user(http, "device_SN.7", issued["password"], "SN.7") == "allow"
    params = topic_params("devices.SN.7.state", username="device_SN.7")
    params["variable_map.client_id"] = "SN.7"
    assert (await rabbitmq(http, "topic", **params)).text == "deny"


async def test_a_body_that_is_no_form_is_denied(http: httpx.AsyncClient) -> None:
    response = await http.post("/auth/rabbitmq/user", content=b"\xff\xfe")
    assert (response.status_code, response.text) == (200, "deny")
    response = await http.post("/auth/rabbitmq/user", content=b"x" * 20000)
    assert (response.status_code, response.text) == (200, "deny")
