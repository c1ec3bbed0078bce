"""EMQX 5 HTTP authentication and authorization (API.md §6.2), with the bodies EMQX's docs show.

EMQX renders the README's body templates (``{"username": "${username}", ...}``)
and posts them as JSON with ``Content-Type: application/json``; it reads any
non-200 answer, and ``"ignore"``, as "ask the next source", so neither is ever
sent for a well-formed request.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.kit.accounts import ADMIN_LOGIN, ADMIN_PASSWORD
from tests.kit.clients import GraphQLClient
from tests.kit.device_logins import issue, reset

JSON = {"Content-Type": "application/json", "X-Request-Source": "EMQX"}


@pytest.fixture
async def device(http: httpx.AsyncClient, admin: GraphQLClient) -> dict[str, Any]:
    return await issue(http, admin, "SN-1")


async def authenticate(http: httpx.AsyncClient, **body: str) -> httpx.Response:
    return await http.post("/auth/emqx/authenticate", content=json.dumps(body), headers=JSON)


async def authorize(http: httpx.AsyncClient, **body: str) -> httpx.Response:
    return await http.post("/auth/emqx/authorize", content=json.dumps(body), headers=JSON)


async def test_valid_credentials_are_allowed_and_never_a_superuser(
    http: httpx.AsyncClient, device: dict[str, Any]
) -> None:
    response = await authenticate(
        http, username="device_SN-1", password=device["password"], clientid="SN-1"
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"result": "allow", "is_superuser": False}


@pytest.mark.parametrize(
    ("username", "password", "clientid"),
    [
        ("device_SN-1", "wrong-password", "SN-1"),
        ("device_SN-1", "{password}", "SN-2"),
        ("device_SN-1", "{password}", "emqx_auto_id_12345"),
        ("device_SN-3", "{password}", "SN-3"),
        (ADMIN_LOGIN, ADMIN_PASSWORD, "admin"),
        ("", "", ""),
    ],
)
async def test_anything_else_is_a_deny_with_status_200(
    http: httpx.AsyncClient, device: dict[str, Any], username: str, password: str, clientid: str
) -> None:
    password = password.format(password=device["password"])
    response = await authenticate(http, username=username, password=password, clientid=clientid)
    assert (response.status_code, response.json()) == (200, {"result": "deny"})


async def test_the_docs_minimal_body_without_a_client_id_is_read(
    http: httpx.AsyncClient, device: dict[str, Any]
) -> None:
    response = await authenticate(http, username="device_SN-1", password=device["password"])
    assert response.json()["result"] == "allow"


@pytest.mark.parametrize(
    ("topic", "action", "result"),
    [
        ("devices/SN-1/state", "publish", "allow"),
        ("devices/SN-1/#", "subscribe", "allow"),
        ("devices/SN-1/+/cmd", "subscribe", "allow"),
        ("devices/SN-1/#", "publish", "deny"),
        ("devices/SN-2/state", "publish", "deny"),
        ("devices/+/state", "subscribe", "deny"),
        ("devices/#", "subscribe", "deny"),
        ("#", "subscribe", "deny"),
        ("$share/g/devices/SN-1/state", "subscribe", "deny"),
        ("devices/SN-1/state", "all", "deny"),
    ],
)
async def test_authorization_keeps_the_device_in_its_namespace(
    http: httpx.AsyncClient, device: dict[str, Any], topic: str, action: str, result: str
) -> None:
    response = await authorize(
        http, username="device_SN-1", clientid="SN-1", topic=topic, action=action
    )
    assert (response.status_code, response.json()) == (200, {"result": result})


async def test_authorization_refuses_another_client_id_and_a_reset_device(
    http: httpx.AsyncClient, admin: GraphQLClient, device: dict[str, Any]
) -> None:
    body = {"username": "device_SN-1", "topic": "devices/SN-1/state", "action": "publish"}
    assert (await authorize(http, clientid="SN-2", **body)).json() == {"result": "deny"}
    assert (await authorize(http, clientid="SN-1", **body)).json() == {"result": "allow"}
    await reset(admin, "SN-1")
    assert (await authorize(http, clientid="SN-1", **body)).json() == {"result": "deny"}


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[1, 2]",
        b'{"username": "device_SN-1"}',
        b'{"username": 7, "password": "x"}',
        b"[" * 100_000,
    ],
)
async def test_a_malformed_body_is_400(http: httpx.AsyncClient, content: bytes) -> None:
    for path in ("/auth/emqx/authenticate", "/auth/emqx/authorize"):
        response = await http.post(path, content=content, headers=JSON)
        assert response.status_code == 400, (path, content[:20])


async def test_a_form_body_is_read_as_well(http: httpx.AsyncClient, device: dict[str, Any]) -> None:
    response = await http.post(
        "/auth/emqx/authenticate",
        data={"username": "device_SN-1", "password": device["password"], "clientid": "SN-1"},
    )
    assert response.json()["result"] == "allow"
