"""A real RabbitMQ 3.10 node, configured from the README, with a real MQTT client as the device.

One private node per module (its own node name, ports, config and data in a
temporary folder) points at a real ``gatehouse serve`` on a free port. The
device is registered, accepted and bootstrapped the README's way, then
connects with the credentials it received. Fails instead of skipping when the
node cannot start under ``GATEHOUSE_TEST_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from bench.processes import free_port
from tests.kit.accounts import ADMIN_LOGIN, ADMIN_PASSWORD, BOOTSTRAP_PASSWORD
from tests.kit.clients import GraphQLClient
from tests.kit.components import readme_block, replace_all
from tests.kit.device_logins import issue, reset
from tests.kit.documents import REMOVE
from tests.kit.mqtt import Device
from tests.kit.rabbitmq import RabbitMQNode
from tests.kit.servers import Server, run_env, start_server

#: The README's lines this test relies on, replaced by the private instance's ports.
README_GATEHOUSE = "http://127.0.0.1:8000"
README_MQTT_PORT = "mqtt.listeners.tcp.default = 1883"


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


def readme_config(gatehouse_url: str, mqtt_port: int) -> tuple[str, str]:
    """``rabbitmq.conf`` and ``enabled_plugins`` as the README shows them, on our ports."""
    config = replace_all(
        readme_block("# rabbitmq.conf"),
        {
            README_GATEHOUSE: gatehouse_url,
            README_MQTT_PORT: f"mqtt.listeners.tcp.default = 127.0.0.1:{mqtt_port}",
        },
    )
    return config, readme_block("[rabbitmq_mqtt,rabbitmq_auth_backend_http].")


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory, gatehouse: Server) -> Iterator[RabbitMQNode]:
    port = free_port()
    config, plugins = readme_config(gatehouse.url, port)
    node = RabbitMQNode(tmp_path_factory.mktemp("rabbitmq"), config, plugins, port)
    node.start()
    yield node
    node.stop()


@pytest.fixture(scope="module")
async def shared(gatehouse: Server) -> dict[str, dict[str, Any]]:
    """Devices that several parametrized tests log in as, issued once."""
    async with httpx.AsyncClient(base_url=gatehouse.url, timeout=10) as http:
        admin = GraphQLClient(http, ADMIN_LOGIN, ADMIN_PASSWORD)
        return {i: await issue(http, admin, i) for i in ("RMQ-2", "RMQ-5", "RMQ-6")}


@pytest.fixture
async def http(gatehouse: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gatehouse.url, timeout=10) as client:
        yield client


class Devices:
    """MQTT connections opened by one test, closed after it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.opened: list[Device] = []

    async def connect(self, username: str, password: str, client_id: str) -> Device:
        device = Device(self.port, username, password, client_id)
        self.opened.append(device)
        await asyncio.to_thread(device.connect)
        return device


@pytest.fixture
def mqtt(broker: RabbitMQNode) -> Iterator[Devices]:
    devices = Devices(broker.mqtt_port)
    yield devices
    for device in devices.opened:
        device.close()


async def connected(mqtt: Devices, issued: dict[str, Any], client_id: str | None = None) -> Device:
    device = await mqtt.connect(issued["username"], issued["password"], client_id or issued["id"])
    assert device.connack is not None and not device.connack.is_failure, device.connack
    return device


def test_the_readme_configuration_is_what_the_node_runs(broker: RabbitMQNode) -> None:
    written = (broker.folder / "rabbitmq.conf").read_text()
    assert "auth_http.http_method = post" in written
    assert "auth_backends.1 = http" in written
    assert "mqtt.allow_anonymous = false" in written


async def test_an_accepted_device_reaches_its_own_topics_and_a_message_goes_through(
    http: httpx.AsyncClient, admin: GraphQLClient, mqtt: Devices
) -> None:
    issued = await issue(http, admin, "RMQ-1")
    device = await connected(mqtt, issued)
    assert await asyncio.to_thread(device.subscribe, "devices/RMQ-1/#")
    assert await asyncio.to_thread(device.publish, "devices/RMQ-1/state", b"on")
    assert await asyncio.to_thread(device.message) == ("devices/RMQ-1/state", b"on")
    assert await asyncio.to_thread(device.subscribe, "devices/RMQ-1/+/cmd")
    # The tenant may be named in the username too.
    second = await mqtt.connect("management/device_RMQ-1", issued["password"], "RMQ-1")
    assert second.connack is not None and not second.connack.is_failure


@pytest.mark.parametrize(
    ("username", "password", "client_id"),
    [
        ("device_RMQ-2", "wrong-password", "RMQ-2"),
        ("device_RMQ-2", "{password}", "RMQ-OTHER"),  # another device's client id
        ("device_RMQ-NOBODY", "{password}", "RMQ-NOBODY"),
        (ADMIN_LOGIN, ADMIN_PASSWORD, "admin"),  # a user's login
    ],
)
async def test_wrong_credentials_get_connack_4(
    shared: dict[str, dict[str, Any]], mqtt: Devices, username: str, password: str, client_id: str
) -> None:
    password = password.format(password=shared["RMQ-2"]["password"])
    device = await mqtt.connect(username, password, client_id)
    assert device.refused_login, device.connack


async def _refused_within_a_second(mqtt: Devices, issued: dict[str, Any]) -> float:
    started = time.monotonic()
    while True:
        device = await mqtt.connect(issued["username"], issued["password"], issued["id"])
        if device.refused_login:
            return time.monotonic() - started
        assert time.monotonic() - started < 1.0, "still admitted a second after the change"
        await asyncio.sleep(0.05)


async def test_a_removed_device_is_refused_at_once(
    http: httpx.AsyncClient, admin: GraphQLClient, mqtt: Devices
) -> None:
    issued = await issue(http, admin, "RMQ-3")
    await connected(mqtt, issued)
    removed = await admin.data(REMOVE, id="RMQ-3")
    assert removed["removeRegistration"]["__typename"] == "Removed"
    await _refused_within_a_second(mqtt, issued)


async def test_a_reset_devices_old_password_is_refused_and_its_new_one_works(
    http: httpx.AsyncClient, admin: GraphQLClient, mqtt: Devices
) -> None:
    issued = await issue(http, admin, "RMQ-4")
    await connected(mqtt, issued)
    assert (await reset(admin, "RMQ-4"))["__typename"] == "Registration"
    await _refused_within_a_second(mqtt, issued)
    collected = await http.post(
        "/devicecontrol/deviceCredentials",
        json={"id": "RMQ-4"},
        auth=("management/devicebootstrap", BOOTSTRAP_PASSWORD),
    )
    assert collected.status_code == 201
    renewed = collected.json()
    device = await connected(mqtt, renewed)
    assert await asyncio.to_thread(device.publish, "devices/RMQ-4/state", b"back")


@pytest.mark.parametrize(
    "topic_filter", ["devices/RMQ-OTHER/state", "devices/+/state", "#", "devices/#"]
)
async def test_a_subscription_outside_the_namespace_closes_the_connection(
    shared: dict[str, dict[str, Any]], mqtt: Devices, topic_filter: str
) -> None:
    device = await connected(mqtt, shared["RMQ-5"])
    assert not await asyncio.to_thread(device.subscribe, topic_filter)
    assert device.wait_closed()


@pytest.mark.parametrize("topic", ["devices/RMQ-OTHER/state", "devices", "elsewhere/RMQ-6"])
async def test_a_publish_outside_the_namespace_closes_the_connection(
    shared: dict[str, dict[str, Any]], mqtt: Devices, topic: str
) -> None:
    device = await connected(mqtt, shared["RMQ-6"])
    assert not await asyncio.to_thread(device.publish, topic, b"x")
    assert device.wait_closed()


async def test_a_device_whose_id_holds_a_dot_connects_but_reaches_no_topic(
    http: httpx.AsyncClient, admin: GraphQLClient, mqtt: Devices
) -> None:
    issued = await issue(http, admin, "RMQ.7")
    device = await connected(mqtt, issued)
    assert not await asyncio.to_thread(device.publish, "devices/RMQ.7/state", b"x")
    other = await connected(mqtt, issued)
    assert not await asyncio.to_thread(other.subscribe, "devices/RMQ.7/#")
