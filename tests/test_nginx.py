"""A real nginx with ``auth_request`` to ``/auth/http``, configured with the README's locations.

The service behind nginx echoes the identity headers it received, so the test
sees what a platform service would: the device's id, tenant and username set
by nginx from Gatehouse's answer, and never the device's password.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from bench.processes import free_port
from tests.kit.accounts import ADMIN_LOGIN, ADMIN_PASSWORD, BOOTSTRAP_PASSWORD
from tests.kit.clients import GraphQLClient, basic
from tests.kit.components import readme_block, replace_all
from tests.kit.device_logins import issue, reset
from tests.kit.documents import REMOVE
from tests.kit.nginx import Nginx
from tests.kit.servers import Server, run_env, start_server


@pytest.fixture(scope="module")
def gatehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("gatehouse")
    env = run_env(
        GATEHOUSE_DATABASE_URL=f"sqlite://{folder / 'gatehouse.db'}",
        GATEHOUSE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        GATEHOUSE_BOOTSTRAP_PASSWORD=BOOTSTRAP_PASSWORD,
    )
    server = start_server(folder, env)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory, gatehouse: Server) -> Iterator[Nginx]:
    backend = free_port()
    locations = replace_all(
        readme_block("location = /_gatehouse_auth {"),
        {
            "http://127.0.0.1:8000": gatehouse.url,
            "http://127.0.0.1:9000": f"http://127.0.0.1:{backend}",
        },
    )
    server = Nginx(tmp_path_factory.mktemp("nginx"), free_port(), backend, locations)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def http(gatehouse: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gatehouse.url, timeout=10) as client:
        yield client


async def through_nginx(
    nginx: Nginx, login: str | None, password: str = "", **headers: str
) -> httpx.Response:
    if login is not None:
        headers["Authorization"] = basic(login, password)
    async with httpx.AsyncClient(base_url=nginx.url, timeout=10) as client:
        return await client.get("/api/readings", headers=headers)


async def test_a_devices_request_passes_with_its_identity_set_by_nginx(
    http: httpx.AsyncClient, admin: GraphQLClient, nginx: Nginx
) -> None:
    issued: dict[str, Any] = await issue(http, admin, "NGX-1")
    response = await through_nginx(nginx, "device_NGX-1", issued["password"])
    assert response.status_code == 200, response.text
    assert response.text == ("device=NGX-1 tenant=management username=device_NGX-1 authorization=")


async def test_forged_identity_headers_are_replaced(
    http: httpx.AsyncClient, admin: GraphQLClient, nginx: Nginx
) -> None:
    issued = await issue(http, admin, "NGX-2")
    response = await through_nginx(
        nginx, "device_NGX-2", issued["password"], **{"X-Device-Id": "NGX-1", "X-Tenant-Id": "acme"}
    )
    assert response.text.startswith("device=NGX-2 tenant=management ")


@pytest.mark.parametrize(
    ("login", "password"),
    [
        ("device_NGX-3", "wrong-password"),
        ("device_NOBODY", "x"),
        (ADMIN_LOGIN, ADMIN_PASSWORD),
        (None, ""),
    ],
)
async def test_a_wrong_login_gets_401_with_the_challenge(
    http: httpx.AsyncClient, admin: GraphQLClient, nginx: Nginx, login: str | None, password: str
) -> None:
    response = await through_nginx(nginx, login, password, **{"X-Device-Id": "NGX-1"})
    assert response.status_code == 401
    assert response.headers.get("WWW-Authenticate") == 'Basic realm="gatehouse"'
    assert "device=" not in response.text


async def test_a_revoked_login_gets_401(
    http: httpx.AsyncClient, admin: GraphQLClient, nginx: Nginx
) -> None:
    reset_one = await issue(http, admin, "NGX-4")
    removed_one = await issue(http, admin, "NGX-5")
    assert (await through_nginx(nginx, "device_NGX-4", reset_one["password"])).status_code == 200
    assert (await through_nginx(nginx, "device_NGX-5", removed_one["password"])).status_code == 200
    await reset(admin, "NGX-4")
    await admin.data(REMOVE, id="NGX-5")
    assert (await through_nginx(nginx, "device_NGX-4", reset_one["password"])).status_code == 401
    assert (await through_nginx(nginx, "device_NGX-5", removed_one["password"])).status_code == 401
