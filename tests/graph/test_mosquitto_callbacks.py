"""mosquitto-go-auth's HTTP backend (API.md §6.3), with the requests go-auth sends.

In ``json`` params mode go-auth marshals a map, so keys come sorted and ``acc``
is a number; in ``form`` mode every value is a form field. It reads any non-2xx
status as deny (``status`` response mode) and ``{"ok": false}`` as deny
(``json`` mode): a deny here is 403 with ``ok`` false, right in both.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.kit.accounts import ADMIN_LOGIN, ADMIN_PASSWORD
from tests.kit.clients import GraphQLClient
from tests.kit.device_logins import issue, reset

ALLOW = {"ok": True, "error": ""}


@pytest.fixture
async def device(http: httpx.AsyncClient, admin: GraphQLClient) -> dict[str, Any]:
    return await issue(http, admin, "SN-1")


async def go_auth(http: httpx.AsyncClient, path: str, **fields: Any) -> httpx.Response:
    """As go-auth's JSON mode: ``json.Marshal`` of the map, sorted keys, no spaces."""
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    headers = {"Content-Type": "application/json", "User-Agent": "mosquitto"}
    return await http.post(f"/auth/mosquitto/{path}", content=body, headers=headers)


async def test_getuser_allows_valid_credentials(
    http: httpx.AsyncClient, device: dict[str, Any]
) -> None:
    response = await go_auth(
        http, "getuser", username="device_SN-1", password=device["password"], clientid="SN-1"
    )
    assert (response.status_code, response.json()) == (200, ALLOW)


@pytest.mark.parametrize(
    ("username", "password", "clientid"),
    [
        ("device_SN-1", "wrong-password", "SN-1"),
        ("device_SN-1", "{password}", "SN-2"),
        ("device_SN-9", "{password}", "SN-9"),
        (ADMIN_LOGIN, ADMIN_PASSWORD, "admin"),
    ],
)
async def test_getuser_denies_with_403_and_a_reason(
    http: httpx.AsyncClient, device: dict[str, Any], username: str, password: str, clientid: str
) -> None:
    password = password.format(password=device["password"])
    response = await go_auth(
        http, "getuser", username=username, password=password, clientid=clientid
    )
    assert response.status_code == 403
    body = response.json()
    assert body["ok"] is False and body["error"]
    assert device["password"] not in response.text


async def test_a_device_is_never_a_superuser(
    http: httpx.AsyncClient, device: dict[str, Any]
) -> None:
    response = await go_auth(http, "superuser", username="device_SN-1")
    assert response.status_code == 403
    assert response.json()["ok"] is False


@pytest.mark.parametrize(
    ("topic", "acc", "allowed"),
    [
        ("devices/SN-1/state", 2, True),  # write
        ("devices/SN-1/cmd", 1, True),  # read (a message delivered)
        ("devices/SN-1/cmd", 3, True),  # read and write
        ("devices/SN-1/#", 4, True),  # subscribe
        ("devices/SN-1/+/x", 4, True),
        ("devices/SN-1/#", 2, False),
        ("devices/SN-2/state", 2, False),
        ("devices/SN-2/state", 1, False),
        ("devices/+/state", 4, False),
        ("#", 4, False),
        ("devices/SN-1/state", 8, False),
    ],
)
async def test_aclcheck_keeps_the_device_in_its_namespace(
    http: httpx.AsyncClient, device: dict[str, Any], topic: str, acc: int, allowed: bool
) -> None:
    response = await go_auth(
        http, "aclcheck", username="device_SN-1", clientid="SN-1", topic=topic, acc=acc
    )
    if allowed:
        assert (response.status_code, response.json()) == (200, ALLOW)
    else:
        assert response.status_code == 403
        assert response.json()["ok"] is False


async def test_form_mode_is_read_with_acc_as_digits(
    http: httpx.AsyncClient, admin: GraphQLClient, device: dict[str, Any]
) -> None:
    fields = {"username": "device_SN-1", "clientid": "SN-1", "topic": "devices/SN-1/x"}
    allowed = await http.post("/auth/mosquitto/aclcheck", data=fields | {"acc": "2"})
    assert (allowed.status_code, allowed.json()) == (200, ALLOW)
    login = {"username": "device_SN-1", "password": device["password"], "clientid": "SN-1"}
    assert (await http.post("/auth/mosquitto/getuser", data=login)).status_code == 200
    await reset(admin, "SN-1")
    assert (await http.post("/auth/mosquitto/getuser", data=login)).status_code == 403
    denied = await http.post("/auth/mosquitto/aclcheck", data=fields | {"acc": "2"})
    assert denied.status_code == 403


@pytest.mark.parametrize(
    ("path", "content"),
    [
        ("getuser", b"nope"),
        ("getuser", b'{"username": "device_SN-1"}'),
        ("aclcheck", b'{"username": "device_SN-1", "clientid": "SN-1", "topic": "t"}'),
        ("aclcheck", b'{"username": "u", "clientid": "c", "topic": "t", "acc": "write"}'),
        ("superuser", b"{}"),
    ],
)
async def test_a_malformed_body_is_400_which_go_auth_reads_as_deny(
    http: httpx.AsyncClient, path: str, content: bytes
) -> None:
    response = await http.post(
        f"/auth/mosquitto/{path}", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["ok"] is False
