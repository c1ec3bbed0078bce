"""A real RabbitMQ 3.10 node with its management API: revoked devices' sessions end (§10.3).

One private node per module with ``rabbitmq_mqtt``, ``rabbitmq_auth_backend_http``
and ``rabbitmq_management`` (configured from the README: the internal backend
first for the management user, the HTTP backend for devices, the management
listener on a port of its own), and a real ``gatehouse serve`` with
``GATEHOUSE_RABBITMQ_MANAGEMENT_URL``. A device connected over MQTT (paho-mqtt)
is disconnected within seconds of ``removeRegistration`` or ``resetCredentials``;
other devices stay connected. Fails instead of skipping when the node cannot
start under ``GATEHOUSE_TEST_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import asyncio
import shlex
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from bench.processes import free_port
from tests.kit.accounts import ADMIN_PASSWORD, BOOTSTRAP_PASSWORD
from tests.kit.clients import GraphQLClient
from tests.kit.components import readme_block, replace_all
from tests.kit.device_logins import issue, reset
from tests.kit.documents import REMOVE
from tests.kit.mqtt import Connections, Device
from tests.kit.rabbitmq import RabbitMQNode
from tests.kit.servers import Server, run_env, start_server

README_CONFIG = (
    "# rabbitmq.conf with the management API, so that Gatehouse can close revoked devices' "
    "connections"
)
README_PLUGINS = "[rabbitmq_mqtt,rabbitmq_auth_backend_http,rabbitmq_management]."
README_GATEHOUSE = "http://127.0.0.1:8000"
README_MQTT_PORT = "mqtt.listeners.tcp.default = 1883"
README_MANAGEMENT_PORT = "management.tcp.port = 15672"
README_PASSWORD = "MANAGEMENT-PASSWORD"
MANAGEMENT_PASSWORD = "mgmt-Secret-15"
#: RabbitMQ 3.10 lists a new MQTT connection about 5 s after it opened.
LISTED_SECONDS = 15
#: The device passwords issued here: none may appear in the server's output.
ISSUED: list[str] = []


def readme_user_commands() -> list[list[str]]:
    """The README's ``rabbitmqctl`` lines (without ``rabbitmqctl``), our password in."""
    block = readme_block("rabbitmqctl add_user gatehouse 'MANAGEMENT-PASSWORD'")
    return [
        shlex.split(line.replace(README_PASSWORD, MANAGEMENT_PASSWORD))[1:]
        for line in block.splitlines()
        if line.startswith("rabbitmqctl ")
    ]


@pytest.fixture(scope="module")
def ports() -> dict[str, int]:
    return {"mqtt": free_port(), "management": free_port()}


@pytest.fixture(scope="module")
def gatehouse(tmp_path_factory: pytest.TempPathFactory, ports: dict[str, int]) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("gatehouse")
    user = readme_user_commands()[0][1]
    env = run_env(
        GATEHOUSE_DATABASE_URL=f"sqlite://{folder / 'gatehouse.db'}",
        GATEHOUSE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        GATEHOUSE_BOOTSTRAP_PASSWORD=BOOTSTRAP_PASSWORD,
        GATEHOUSE_RABBITMQ_MANAGEMENT_URL=(
            f"http://{user}:{MANAGEMENT_PASSWORD}@127.0.0.1:{ports['management']}"
        ),
        GATEHOUSE_BROKER_RETRY_MIN_MS="100",
        GATEHOUSE_BROKER_RETRY_MAX_SECONDS="1",
    )
    server = start_server(folder, env)
    server.log = deque(server.log, maxlen=200_000)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def node(
    tmp_path_factory: pytest.TempPathFactory, gatehouse: Server, ports: dict[str, int]
) -> Iterator[RabbitMQNode]:
    config = replace_all(
        readme_block(README_CONFIG),
        {
            README_GATEHOUSE: gatehouse.url,
            README_MQTT_PORT: f"mqtt.listeners.tcp.default = 127.0.0.1:{ports['mqtt']}",
            README_MANAGEMENT_PORT: (
                f"management.tcp.ip = 127.0.0.1\nmanagement.tcp.port = {ports['management']}"
            ),
        },
    )
    broker = RabbitMQNode(
        tmp_path_factory.mktemp("rabbitmq"),
        config,
        readme_block(README_PLUGINS),
        ports["mqtt"],
        management_port=ports["management"],
    )
    broker.start()
    try:
        for command in readme_user_commands():
            broker.ctl(*command)
        yield broker
    finally:
        broker.stop()


@pytest.fixture
async def http(gatehouse: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gatehouse.url, timeout=20) as client:
        yield client


@pytest.fixture
def mqtt(node: RabbitMQNode) -> Iterator[Connections]:
    connections = Connections(node.mqtt_port)
    yield connections
    connections.close()


async def connected(mqtt: Connections, credentials: dict[str, Any]) -> Device:
    ISSUED.append(credentials["password"])
    device = await asyncio.to_thread(
        mqtt.open, credentials["username"], credentials["password"], credentials["id"]
    )
    assert device.connack is not None and not device.connack.is_failure, device.connack
    return device


async def listed(node: RabbitMQNode, username: str) -> None:
    """Wait until the management API lists a connection of ``username``."""
    user = readme_user_commands()[0][1]
    url = f"http://127.0.0.1:{node.management_port}/api/connections"
    deadline = time.monotonic() + LISTED_SECONDS
    async with httpx.AsyncClient(auth=(user, MANAGEMENT_PASSWORD), timeout=10) as client:
        while True:
            rows = (await client.get(url, params={"columns": "user"})).json()
            if any(row.get("user") == username for row in rows):
                return
            assert time.monotonic() < deadline, f"RabbitMQ never listed {username}'s connection"
            await asyncio.sleep(0.2)


async def revoke(admin: GraphQLClient, change: str, device_id: str) -> None:
    if change == "reset":
        assert (await reset(admin, device_id))["__typename"] == "Registration"
    else:
        removed = await admin.data(REMOVE, id=device_id)
        assert removed["removeRegistration"]["__typename"] == "Removed"


def test_the_readme_configuration_is_what_the_node_runs(node: RabbitMQNode) -> None:
    written = (node.folder / "rabbitmq.conf").read_text()
    assert "auth_backends.1 = internal" in written
    assert "auth_backends.2 = http" in written
    assert f"management.tcp.port = {node.management_port}" in written
    assert "rabbitmq_management" in (node.folder / "enabled_plugins").read_text()
    assert "administrator" in node.ctl("list_users")


@pytest.mark.parametrize("change", ["remove", "reset"])
async def test_a_connected_device_is_disconnected_within_5_seconds(
    http: httpx.AsyncClient,
    admin: GraphQLClient,
    mqtt: Connections,
    node: RabbitMQNode,
    change: str,
) -> None:
    credentials = await issue(http, admin, f"RQ-{change}")
    bystander = await issue(http, admin, f"RQ-{change}-other")
    device = await connected(mqtt, credentials)
    other = await connected(mqtt, bystander)
    await listed(node, credentials["username"])
    await listed(node, bystander["username"])
    started = time.monotonic()
    await revoke(admin, change, credentials["id"])
    assert await asyncio.to_thread(device.wait_closed, 5), f"still connected 5 s after {change}"
    print(f"disconnected {time.monotonic() - started:.2f} s after {change}")
    again = await asyncio.to_thread(
        mqtt.open, credentials["username"], credentials["password"], credentials["id"]
    )
    assert again.refused_login
    # Only the revoked device's connections: the other one is still there and works.
    assert not other.closed.is_set()
    topic = f"devices/{bystander['id']}/state"
    assert await asyncio.to_thread(other.publish, topic, b"still here")


async def test_a_device_that_connected_just_before_the_removal_is_disconnected_too(
    http: httpx.AsyncClient, admin: GraphQLClient, mqtt: Connections
) -> None:
    """RabbitMQ does not list the connection yet when the removal is sent: Gatehouse keeps
    looking for GATEHOUSE_RABBITMQ_CLOSE_WINDOW_SECONDS (10 s) and closes it when it shows."""
    credentials = await issue(http, admin, "RQ-late")
    device = await connected(mqtt, credentials)
    started = time.monotonic()
    await revoke(admin, "remove", "RQ-late")
    assert await asyncio.to_thread(device.wait_closed, 12), "still connected after the window"
    print(f"disconnected {time.monotonic() - started:.2f} s after the removal")


def test_no_password_reaches_the_servers_output(gatehouse: Server) -> None:
    output = "".join(gatehouse.log)
    assert "RabbitMQ" in output
    assert len(ISSUED) >= 5
    for secret in (MANAGEMENT_PASSWORD, *ISSUED):
        assert secret not in output
