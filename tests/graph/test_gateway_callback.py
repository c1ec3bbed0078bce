"""``/auth/http`` for nginx ``auth_request``, Traefik ForwardAuth and Envoy (API.md §6.4)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.kit.accounts import ADMIN_LOGIN, ADMIN_PASSWORD, BOOTSTRAP_LOGIN, BOOTSTRAP_PASSWORD
from tests.kit.clients import GraphQLClient, basic
from tests.kit.device_logins import gateway, issue, reset
from tests.kit.documents import REMOVE


@pytest.fixture
async def device(http: httpx.AsyncClient, admin: GraphQLClient) -> dict[str, Any]:
    return await issue(http, admin, "SN-1")


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
async def test_a_device_login_passes_with_its_identity_in_headers(
    http: httpx.AsyncClient, device: dict[str, Any], method: str
) -> None:
    response = await http.request(
        method,
        "/auth/http",
        headers={"Authorization": basic("device_SN-1", device["password"])},
    )
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["X-Device-Id"] == "SN-1"
    assert response.headers["X-Tenant-Id"] == "management"
    assert response.headers["X-Username"] == "device_SN-1"


@pytest.mark.parametrize(
    ("login", "password"),
    [
        ("device_SN-1", "wrong-password"),
        ("device_SN-2", "{password}"),
        ("other/device_SN-1", "{password}"),
        (ADMIN_LOGIN, ADMIN_PASSWORD),
        (BOOTSTRAP_LOGIN, BOOTSTRAP_PASSWORD),
    ],
)
async def test_anything_else_is_an_empty_401_with_the_basic_challenge(
    http: httpx.AsyncClient, device: dict[str, Any], login: str, password: str
) -> None:
    response = await gateway(http, login, password.format(password=device["password"]))
    assert response.status_code == 401
    assert response.content == b""
    assert response.headers["WWW-Authenticate"] == 'Basic realm="gatehouse"'
    assert "X-Device-Id" not in response.headers


@pytest.mark.parametrize("authorization", [None, "Bearer abc", "Basic !!!", "Basic ZGV2aWNl"])
async def test_no_or_broken_credentials_are_401(
    http: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await http.get("/auth/http", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="gatehouse"'


async def test_reset_and_removal_turn_the_login_away(
    http: httpx.AsyncClient, admin: GraphQLClient, device: dict[str, Any]
) -> None:
    assert (await gateway(http, "device_SN-1", device["password"])).status_code == 200
    await reset(admin, "SN-1")
    assert (await gateway(http, "device_SN-1", device["password"])).status_code == 401
    second = await issue(http, admin, "SN-2")
    assert (await gateway(http, "device_SN-2", second["password"])).status_code == 200
    await admin.data(REMOVE, id="SN-2")
    assert (await gateway(http, "device_SN-2", second["password"])).status_code == 401


async def test_a_device_id_beyond_ascii_travels_as_utf8(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    issued = await issue(http, admin, "Gerät-7")
    response = await gateway(http, "device_Gerät-7", issued["password"])
    assert response.status_code == 200
    raw = dict(response.headers.raw)
    assert raw[b"x-device-id"] == "Gerät-7".encode()
