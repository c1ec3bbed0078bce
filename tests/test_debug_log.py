"""A real server at DEBUG logs no secret and no hash of one (API.md §9.6).

One ``gatehouse serve`` process on PostgreSQL with ``GATEHOUSE_LOG_LEVEL=DEBUG``
serves the whole flow: tenants, users, failed and throttled logins, devices
with security tokens (wrong ones at ``accept`` and at delivery), credentials
delivered over REST and GraphQL and requested again, a password sent with the
wrong type, and a subscription over the websocket. Its whole output (every SQL
statement the ORM logs, every websocket line of uvicorn) is then searched for
every password, token and device password, their Basic encodings, and every
hash the database holds: none may appear. The in-process twin of this test is
``tests/graph/test_no_secret_leaks.py``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import websockets

from tests.kit.clients import basic
from tests.kit.documents import ACCEPT, CREATE_TENANT, CREATE_USER, REGISTER, REQUEST_CREDENTIALS
from tests.kit.servers import Server, run_env, start_server
from tests.kit.services import scratch_database_fixture

ADMIN_PASSWORD = "Debug-Admin-Pass-41f7"
BOOTSTRAP_PASSWORD = "Debug-Bootstrap-Pass-8c2e"
TENANT_PASSWORD = "Debug-Tenant-Pass-a93d"
OPERATOR_PASSWORD = "Debug-Operator-Pass-5b10"
WRONG_PASSWORD = "Debug-Wrong-Pass-07aa"
REST_TOKEN = "Debug-Rest-Token-e1c9"
GRAPHQL_TOKEN = "Debug-GraphQL-Token-2f64"
WRONG_TOKEN = "Debug-Wrong-Token-9d03"
NUMERIC_PASSWORD = 80417236591
EVENTS = "subscription { registrationEvents { kind id status } }"


database_url = scratch_database_fixture("debug_log")


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[Server]:
    env = run_env(
        GATEHOUSE_DATABASE_URL=database_url,
        GATEHOUSE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        GATEHOUSE_BOOTSTRAP_PASSWORD=BOOTSTRAP_PASSWORD,
        GATEHOUSE_LOG_LEVEL="DEBUG",
        GATEHOUSE_LOGIN_MAX_FAILURES="2",
        GATEHOUSE_LOGIN_REFUSAL_DELAY_MS="0",
    )
    running = start_server(tmp_path, env, keep=None)
    yield running
    running.stop()


class Flow:
    def __init__(self, http: httpx.AsyncClient, server: Server) -> None:
        self.http = http
        self.server = server

    async def graphql(
        self, as_: tuple[str, str], query: str, **variables: object
    ) -> dict[str, Any]:
        response = await self.http.post(
            f"{self.server.url}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": basic(*as_)},
        )
        body: dict[str, Any] = response.json()
        return body

    async def poll(self, device_id: str, token: str | None = None) -> httpx.Response:
        body: dict[str, str] = {"id": device_id}
        if token is not None:
            body["securityToken"] = token
        return await self.http.post(
            f"{self.server.url}/devicecontrol/deviceCredentials",
            json=body,
            headers={"Authorization": basic("management/devicebootstrap", BOOTSTRAP_PASSWORD)},
        )


async def run_flow(server: Server) -> list[str]:
    """The whole flow; returns the device passwords it was handed."""
    async with httpx.AsyncClient(timeout=10) as http:
        flow = Flow(http, server)
        admin = ("management/admin", ADMIN_PASSWORD)
        created = await flow.graphql(
            admin, CREATE_TENANT, id="debug", name="Debug", password=TENANT_PASSWORD
        )
        assert "errors" not in created, created
        tenant_admin = ("debug/admin", TENANT_PASSWORD)
        operator = ("debug/operator", OPERATOR_PASSWORD)
        permissions = ["DEVICE_CONTROL_ADMIN", "DEVICE_CONTROL_READ"]
        user = await flow.graphql(
            tenant_admin,
            CREATE_USER,
            username="operator",
            password=OPERATOR_PASSWORD,
            permissions=permissions,
        )
        assert "errors" not in user, user
        numeric = await flow.graphql(
            tenant_admin, CREATE_USER, username="n", password=NUMERIC_PASSWORD, permissions=[]
        )
        assert "errors" in numeric

        # Failed logins, then a throttled one, on GraphQL and at the device endpoint.
        async with httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(local_address="127.0.0.5"), timeout=10
        ) as elsewhere:
            for _ in range(3):
                await elsewhere.post(
                    f"{server.url}/graphql",
                    json={"query": "{ me { username } }"},
                    headers={"Authorization": basic("debug/operator", WRONG_PASSWORD)},
                )
            refused = await elsewhere.post(
                f"{server.url}/devicecontrol/deviceCredentials",
                json={"id": "DBG-REST"},
                headers={"Authorization": basic("management/devicebootstrap", WRONG_PASSWORD)},
            )
            assert refused.status_code == 429

        # A subscriber on the websocket, logged in through connection_init.
        socket = await websockets.connect(
            server.ws_url,
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        )
        init = {"Authorization": basic(*operator)}
        await socket.send(json.dumps({"type": "connection_init", "payload": init}))
        assert json.loads(await asyncio.wait_for(socket.recv(), 5))["type"] == "connection_ack"
        subscribe = {"query": EVENTS}
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
        await asyncio.sleep(0.3)

        devices = [{"id": "DBG-REST"}, {"id": "DBG-GQL"}]
        registered = await flow.graphql(operator, REGISTER, devices=devices)
        assert registered["data"]["register"]["__typename"] == "RegisterSuccess", registered
        assert (await flow.poll("DBG-REST", REST_TOKEN)).status_code == 404
        bootstrap = ("management/devicebootstrap", BOOTSTRAP_PASSWORD)
        await flow.graphql(bootstrap, REQUEST_CREDENTIALS, id="DBG-GQL", token=GRAPHQL_TOKEN)
        for device_id, token in (("DBG-REST", REST_TOKEN), ("DBG-GQL", GRAPHQL_TOKEN)):
            wrong = await flow.graphql(operator, ACCEPT, id=device_id, token=WRONG_TOKEN)
            assert wrong["data"]["accept"]["__typename"] == "SecurityTokenMismatch", wrong
            right = await flow.graphql(operator, ACCEPT, id=device_id, token=token)
            assert right["data"]["accept"]["__typename"] == "Registration", right
        assert (await flow.poll("DBG-REST", WRONG_TOKEN)).status_code == 404  # counts
        issued = await flow.poll("DBG-REST", REST_TOKEN)
        assert issued.status_code == 201
        twin = await flow.graphql(bootstrap, REQUEST_CREDENTIALS, id="DBG-GQL", token=GRAPHQL_TOKEN)
        assert (await flow.poll("DBG-REST", REST_TOKEN)).status_code == 404  # requested again
        received = json.loads(await asyncio.wait_for(socket.recv(), 5))
        assert received["type"] == "next", received
        await socket.close()
        return [issued.json()["password"], twin["data"]["requestDeviceCredentials"]["password"]]


async def stored_hashes(database_url: str) -> list[str]:
    connection = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
    try:
        users = await connection.fetch("SELECT password_hash FROM users")
        rows = await connection.fetch("SELECT token_hash, device_password_hash FROM registrations")
    finally:
        await connection.close()
    hashes = [row["password_hash"] for row in users]
    hashes += [value for row in rows for value in row.values() if value]
    return hashes


async def test_a_debug_run_of_the_whole_flow_logs_no_secret_and_no_hash(
    server: Server, database_url: str
) -> None:
    device_passwords = await run_flow(server)
    hashes = await stored_hashes(database_url)
    assert len(hashes) == 2 + 2 + 2 + 2  # four users, two tokens, two device passwords
    server.stop()
    output = server.output()
    # It really was a DEBUG run: the SQL statements and the websocket are in the output.
    assert " DEBUG tortoise.db_client: " in output
    assert "INSERT INTO" in output and "registrations" in output
    assert "connection_init" not in output  # no websocket frame, but uvicorn's own lines:
    assert "WebSocket /graphql" in output

    secrets = {
        "admin password": ADMIN_PASSWORD,
        "bootstrap password": BOOTSTRAP_PASSWORD,
        "tenant admin password": TENANT_PASSWORD,
        "operator password": OPERATOR_PASSWORD,
        "wrong password": WRONG_PASSWORD,
        "password sent as a number": str(NUMERIC_PASSWORD),
        "REST token": REST_TOKEN,
        "GraphQL token": GRAPHQL_TOKEN,
        "wrong token": WRONG_TOKEN,
        **{f"device password {n}": p for n, p in enumerate(device_passwords)},
        **{
            f"Basic login of {login}": basic(login, password).split()[1]
            for login, password in (
                ("management/admin", ADMIN_PASSWORD),
                ("management/devicebootstrap", BOOTSTRAP_PASSWORD),
                ("debug/admin", TENANT_PASSWORD),
                ("debug/operator", OPERATOR_PASSWORD),
                ("debug/operator", WRONG_PASSWORD),
            )
        },
        **{f"stored hash {n}": h for n, h in enumerate(hashes)},
        "an argon2 hash": "$argon2",
    }
    for what, secret in secrets.items():
        at = output.find(secret)
        assert at < 0, f"the {what} is in the DEBUG output: ...{output[max(0, at - 200) : at + 80]}"
