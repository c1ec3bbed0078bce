"""A real server at DEBUG: no password or token in any log line, no query of an ``/auth/`` path.

Also the internal-network gate on a real socket: the server admits
``127.0.0.1/32`` only, and a caller connecting from 127.0.0.2 gets 403 on
every callback path.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

import httpx
import pytest

from tests.kit.accounts import ADMIN_LOGIN, ADMIN_PASSWORD, BOOTSTRAP_PASSWORD
from tests.kit.clients import GraphQLClient, basic
from tests.kit.device_logins import issue, reset
from tests.kit.devices import TOKEN, poll
from tests.kit.servers import Server, run_env, start_server

WRONG = "a-wrong-password-tried"
CALLBACK_PATHS = [
    "/auth/rabbitmq/user",
    "/auth/rabbitmq/vhost",
    "/auth/rabbitmq/resource",
    "/auth/rabbitmq/topic",
    "/auth/emqx/authenticate",
    "/auth/emqx/authorize",
    "/auth/mosquitto/getuser",
    "/auth/mosquitto/superuser",
    "/auth/mosquitto/aclcheck",
    "/auth/http",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("logs")
    env = run_env(
        GATEHOUSE_DATABASE_URL=f"sqlite://{folder / 'gatehouse.db'}",
        GATEHOUSE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        GATEHOUSE_BOOTSTRAP_PASSWORD=BOOTSTRAP_PASSWORD,
        GATEHOUSE_LOG_LEVEL="DEBUG",
        GATEHOUSE_INTERNAL_NETWORKS="127.0.0.1/32",
    )
    running = start_server(folder, env)
    running.log = deque(running.log, maxlen=200_000)  # keep every line of this module
    yield running
    running.stop()


async def test_no_secret_reaches_the_log_and_auth_queries_are_cut_off(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        admin = GraphQLClient(http, ADMIN_LOGIN, ADMIN_PASSWORD)
        issued = await issue(http, admin, "LOG-1", token=TOKEN)
        password = issued["password"]
        login = {"username": "device_LOG-1", "password": password, "client_id": "LOG-1"}
        assert (await http.get("/auth/rabbitmq/user", params=login)).text == "allow"
        assert (await http.post("/auth/rabbitmq/user", data=login)).text == "allow"
        wrong = login | {"password": WRONG}
        assert (await http.get("/auth/rabbitmq/user", params=wrong)).text == "deny"
        emqx = {"username": "device_LOG-1", "password": password, "clientid": "LOG-1"}
        assert (await http.post("/auth/emqx/authenticate", json=emqx)).json()["result"] == "allow"
        bad = (await http.post("/auth/emqx/authenticate", json=emqx | {"password": WRONG})).json()
        assert bad == {"result": "deny"}
        assert (await http.post("/auth/mosquitto/getuser", json=emqx)).status_code == 200
        assert (
            await http.post("/auth/mosquitto/getuser", json=emqx | {"password": WRONG})
        ).status_code == 403
        gateway = {"Authorization": basic("device_LOG-1", password)}
        assert (await http.get("/auth/http", headers=gateway)).status_code == 200
        gateway_wrong = {"Authorization": basic("device_LOG-1", WRONG)}
        assert (await http.get("/auth/http", headers=gateway_wrong)).status_code == 401
        await reset(admin, "LOG-1")
        renewed = await poll(http, "LOG-1", token=TOKEN)
        assert renewed.status_code == 201
        new_password = renewed.json()["password"]

    lines = list(server.log)
    assert any("GET /auth/rabbitmq/user HTTP/1.1" in line for line in lines), lines[-20:]
    assert any("tortoise" in line or "SELECT" in line for line in lines)  # DEBUG really was on
    secrets = [password, new_password, WRONG, TOKEN, ADMIN_PASSWORD, BOOTSTRAP_PASSWORD]
    for line in lines:
        for secret in secrets:
            assert secret not in line, line
        if "/auth/" in line:
            assert "?" not in line.split("/auth/", 1)[1].split(" ", 1)[0], line


@pytest.mark.parametrize("path", CALLBACK_PATHS)
async def test_a_caller_from_an_address_outside_the_list_gets_403(
    server: Server, path: str
) -> None:
    outside = httpx.AsyncHTTPTransport(local_address="127.0.0.2")
    async with httpx.AsyncClient(base_url=server.url, transport=outside, timeout=10) as far:
        refused = await far.post(path, data={"username": "device_X", "password": "x"})
    assert refused.status_code == 403
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as near:
        answered = await near.post(path, data={"username": "device_X", "password": "x"})
    # From inside the same request is checked and answered the protocol's own way
    # (go-auth's deny is a 403 too, with the reason).
    assert answered.status_code != 403 or "internal network" not in answered.text
