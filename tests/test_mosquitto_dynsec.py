"""A real Mosquitto 2 with dynamic security, configured from the README, kept in step (§10.2).

One private broker per module (``/usr/sbin/mosquitto`` with Debian's
``mosquitto_dynamic_security.so``, its own port, configuration and
dynamic-security file made by ``mosquitto_ctrl dynsec init`` in a temporary
folder) and a real ``gatehouse serve`` with ``GATEHOUSE_MOSQUITTO_URL``. The
device is bootstrapped over REST and connects with a real MQTT 3.1.1 client
(paho-mqtt); a second client of the test's own, logged in as the admin, watches
what gets through. The broker is stopped, frozen and started again on the same
port. Fails instead of skipping when Mosquitto cannot start under
``GATEHOUSE_TEST_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shlex
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from bench.processes import free_port
from tests.kit.accounts import ADMIN_PASSWORD, BOOTSTRAP_PASSWORD
from tests.kit.clients import GraphQLClient
from tests.kit.components import readme_block, replace_all
from tests.kit.device_logins import issue, logged_kinds, reset
from tests.kit.devices import poll
from tests.kit.documents import REMOVE
from tests.kit.mosquitto import MosquittoBroker
from tests.kit.mqtt import Connections, Device
from tests.kit.registrations import accept, register, state
from tests.kit.servers import Server, run_env, start_server

README_CONFIG = "# mosquitto.conf: devices log in with the clients Gatehouse creates on delivery"
README_LISTENER = "listener 1883"
README_FILE = "/var/lib/mosquitto/dynamic-security.json"
#: Passwords with characters a URL must percent-encode, as operators' passwords have.
ADMIN_SECRET = f"adm-{secrets.token_urlsafe(12)}@:/%"

#: Every password this module saw (device and admin): none may appear in the server's output.
SEEN: set[str] = {ADMIN_SECRET}


def readme_init_command() -> list[str]:
    """The README's ``mosquitto_ctrl dynsec init FILE ADMIN PASSWORD``, split."""
    line = next(
        line
        for line in readme_block("mosquitto_ctrl dynsec init").splitlines()
        if line.startswith("mosquitto_ctrl dynsec init")
    )
    return shlex.split(line)


def readme_config(port: int, dynsec_file: str) -> str:
    """``mosquitto.conf`` as the README shows it, on our port and file."""
    config = replace_all(
        readme_block(README_CONFIG),
        {README_LISTENER: f"listener {port} 127.0.0.1", README_FILE: dynsec_file},
    )
    if os.geteuid() == 0:
        config += "user root\n"  # the README's note: a broker started as root needs it
    return config


@pytest.fixture(scope="module")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoBroker]:
    folder = tmp_path_factory.mktemp("mosquitto")
    port = free_port()
    admin = readme_init_command()[4]
    broker = MosquittoBroker(
        folder,
        readme_config(port, str(folder / "dynamic-security.json")),
        port,
        admin,
        ADMIN_SECRET,
    )
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="module")
def gatehouse(
    tmp_path_factory: pytest.TempPathFactory, mosquitto: MosquittoBroker
) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("gatehouse")
    login = f"{quote(mosquitto.admin, safe='')}:{quote(ADMIN_SECRET, safe='')}"
    env = run_env(
        GATEHOUSE_DATABASE_URL=f"sqlite://{folder / 'gatehouse.db'}",
        GATEHOUSE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        GATEHOUSE_BOOTSTRAP_PASSWORD=BOOTSTRAP_PASSWORD,
        GATEHOUSE_MOSQUITTO_URL=f"mqtt://{login}@127.0.0.1:{mosquitto.port}",
        GATEHOUSE_BROKER_RETRY_MIN_MS="100",
        GATEHOUSE_BROKER_RETRY_MAX_SECONDS="1",
        # Devices here poll again at once after each 503; the poll limit is tested elsewhere.
        GATEHOUSE_POLL_LIMIT="0",
        GATEHOUSE_LOG_LEVEL="DEBUG",
    )
    server = start_server(folder, env)
    server.log = deque(server.log, maxlen=200_000)  # every line, for the secrets check
    yield server
    server.stop()


@pytest.fixture
async def http(gatehouse: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gatehouse.url, timeout=20) as client:
        yield client


@pytest.fixture
def mqtt(mosquitto: MosquittoBroker) -> Iterator[Connections]:
    connections = Connections(mosquitto.port)
    yield connections
    connections.close()


@pytest.fixture
def running(mosquitto: MosquittoBroker) -> Iterator[MosquittoBroker]:
    """The broker, started again after the test if the test stopped or froze it."""
    yield mosquitto
    if mosquitto.process is not None:
        mosquitto.resume()
    if not mosquitto.running():
        mosquitto.start()


async def issued(http: httpx.AsyncClient, admin: GraphQLClient, device_id: str) -> dict[str, Any]:
    credentials = await issue(http, admin, device_id)
    SEEN.add(credentials["password"])
    return credentials


async def connect(mqtt: Connections, username: str, password: str, client_id: str) -> Device:
    return await asyncio.to_thread(mqtt.open, username, password, client_id)


async def connected(mqtt: Connections, credentials: dict[str, Any]) -> Device:
    device = await connect(
        mqtt, credentials["username"], credentials["password"], credentials["id"]
    )
    assert device.connack is not None and not device.connack.is_failure, device.connack
    return device


async def accepted(http: httpx.AsyncClient, admin: GraphQLClient, device_id: str) -> None:
    """Registered, first contact made, accepted: the next poll delivers."""
    assert (await register(admin, {"id": device_id}))["__typename"] == "RegisterSuccess"
    assert (await poll(http, device_id)).status_code == 404
    assert (await accept(admin, device_id))["__typename"] == "Registration"


async def collected_within(
    http: httpx.AsyncClient, device_id: str, seconds: float
) -> dict[str, Any]:
    """Poll as a device does (every 0.2 s here) until the credentials come; them."""
    deadline = time.monotonic() + seconds
    while True:
        answer = await poll(http, device_id)
        if answer.status_code == 201:
            body: dict[str, Any] = answer.json()
            SEEN.add(body["password"])
            return body
        assert answer.status_code == 503, answer.text
        assert time.monotonic() < deadline, "no credentials while Mosquitto is back"
        await asyncio.sleep(0.2)


async def refused_within(mqtt: Connections, credentials: dict[str, Any], seconds: float) -> float:
    """Seconds until Mosquitto refuses these credentials (fails past ``seconds``)."""
    started = time.monotonic()
    while True:
        device = await connect(
            mqtt, credentials["username"], credentials["password"], credentials["id"]
        )
        if device.refused_login:
            return time.monotonic() - started
        assert time.monotonic() - started < seconds, "the old credentials still work"
        await asyncio.sleep(0.1)


def test_the_readme_configuration_is_what_the_broker_runs(mosquitto: MosquittoBroker) -> None:
    written = mosquitto.config_file.read_text()
    assert "plugin /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so" in written
    assert f"plugin_opt_config_file {mosquitto.dynsec_file}" in written
    assert "allow_anonymous false" in written
    assert readme_init_command()[:3] == ["mosquitto_ctrl", "dynsec", "init"]
    # The admin made by dynsec init, whose role the README names: Gatehouse's login.
    admin = mosquitto.client(mosquitto.admin)
    assert admin is not None and admin["roles"] == [{"rolename": "admin"}]


async def test_a_bootstrapped_device_connects_and_reaches_only_its_namespace(
    http: httpx.AsyncClient, admin: GraphQLClient, mqtt: Connections, mosquitto: MosquittoBroker
) -> None:
    credentials = await issued(http, admin, "MQ-1")
    assert credentials["username"] == "device_MQ-1"
    # What Mosquitto holds: the client id rule and a role of the device's own.
    client = mosquitto.client("device_MQ-1")
    assert client is not None
    assert client["clientid"] == "MQ-1"
    assert client["roles"] == [{"rolename": "gatehouse:device_MQ-1", "priority": 0}]
    role = mosquitto.role("gatehouse:device_MQ-1")
    assert role is not None
    assert {(acl["acltype"], acl["topic"]) for acl in role["acls"]} == {
        ("publishClientSend", "devices/MQ-1/#"),
        ("publishClientReceive", "devices/MQ-1/#"),
        ("subscribePattern", "devices/MQ-1/#"),
    }

    watcher = await connect(mqtt, mosquitto.admin, ADMIN_SECRET, "watcher-MQ-1")
    assert await asyncio.to_thread(watcher.subscribe, "devices/#")
    device = await connected(mqtt, credentials)
    for inside in ("devices/MQ-1/#", "devices/MQ-1/+/state", "devices/MQ-1"):
        assert not await asyncio.to_thread(device.subscription_refused, inside), inside
    for outside in ("devices/MQ-OTHER/state", "devices/+/state", "devices/#", "#", "+/MQ-1/x"):
        assert await asyncio.to_thread(device.subscription_refused, outside), outside
    # A QoS 1 publish outside gets its PUBACK (MQTT 3.1.1) but is dropped; inside it goes
    # through. The watcher, subscribed to everything below devices/, sees only the inside one.
    assert await asyncio.to_thread(device.publish, "devices/MQ-OTHER/cmd", b"outside")
    assert await asyncio.to_thread(device.publish, "elsewhere", b"outside")
    assert await asyncio.to_thread(device.publish, "devices/MQ-1/state", b"inside")
    assert await asyncio.to_thread(watcher.message) == ("devices/MQ-1/state", b"inside")
    assert await asyncio.to_thread(device.message) == ("devices/MQ-1/state", b"inside")
    await asyncio.sleep(0.3)
    assert watcher.messages == [("devices/MQ-1/state", b"inside")]


async def test_another_client_id_or_a_wrong_password_is_refused(
    http: httpx.AsyncClient, admin: GraphQLClient, mqtt: Connections, mosquitto: MosquittoBroker
) -> None:
    credentials = await issued(http, admin, "MQ-2")
    wrong_id = await connect(mqtt, "device_MQ-2", credentials["password"], "MQ-OTHER")
    assert wrong_id.refused_login, wrong_id.connack
    wrong_password = await connect(mqtt, "device_MQ-2", "not-the-password", "MQ-2")
    assert wrong_password.refused_login, wrong_password.connack
    await connected(mqtt, credentials)

    # Two deliveries so far, one admin connection (it runs before any restart of the broker).
    logins = [line for line in mosquitto.log_lines() if " as gatehouse-" in line]
    assert len(logins) == 1, logins


async def test_remove_registration_disconnects_the_device(
    http: httpx.AsyncClient, admin: GraphQLClient, mqtt: Connections, mosquitto: MosquittoBroker
) -> None:
    credentials = await issued(http, admin, "MQ-3")
    device = await connected(mqtt, credentials)
    started = time.monotonic()
    removed = await admin.data(REMOVE, id="MQ-3")
    assert removed["removeRegistration"]["__typename"] == "Removed"
    assert await asyncio.to_thread(device.wait_closed, 5), "still connected 5 s after removal"
    print(f"disconnected {time.monotonic() - started:.3f} s after removeRegistration")
    assert (await connect(mqtt, "device_MQ-3", credentials["password"], "MQ-3")).refused_login
    assert mosquitto.client("device_MQ-3") is None
    assert mosquitto.role("gatehouse:device_MQ-3") is None


async def test_reset_shuts_out_the_old_password_and_the_next_delivery_works(
    http: httpx.AsyncClient, admin: GraphQLClient, mqtt: Connections
) -> None:
    old = await issued(http, admin, "MQ-4")
    device = await connected(mqtt, old)
    assert (await reset(admin, "MQ-4"))["__typename"] == "Registration"
    assert await asyncio.to_thread(device.wait_closed, 5), "still connected 5 s after the reset"
    assert (await connect(mqtt, "device_MQ-4", old["password"], "MQ-4")).refused_login
    new = await collected_within(http, "MQ-4", 5)
    assert new["password"] != old["password"]
    device = await connected(mqtt, new)
    assert await asyncio.to_thread(device.subscribe, "devices/MQ-4/#")
    assert await asyncio.to_thread(device.publish, "devices/MQ-4/state", b"back")
    assert await asyncio.to_thread(device.message) == ("devices/MQ-4/state", b"back")


async def test_mosquitto_stopped_at_delivery_time_gets_503_and_delivers_nothing(
    http: httpx.AsyncClient, admin: GraphQLClient, mqtt: Connections, running: MosquittoBroker
) -> None:
    await accepted(http, admin, "MQ-5")
    running.stop()
    answer = await poll(http, "MQ-5")
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"] == "general/Service Unavailable"
    assert "password" not in answer.json()
    assert answer.headers["retry-after"] == "5"
    registration = await state(admin, "MQ-5")
    assert registration["status"] == "ACCEPTED"
    assert registration["credentialsDeliveredAt"] is None
    assert "CREDENTIALS_DELIVERED" not in await logged_kinds(admin, "MQ-5")
    # Back: the device's next polls collect them, and they work.
    running.start()
    credentials = await collected_within(http, "MQ-5", 15)
    await connected(mqtt, credentials)
    assert (await logged_kinds(admin, "MQ-5")).count("CREDENTIALS_DELIVERED") == 1


async def test_mosquitto_that_does_not_answer_gets_503_after_5_seconds(
    http: httpx.AsyncClient, admin: GraphQLClient, mqtt: Connections, running: MosquittoBroker
) -> None:
    await accepted(http, admin, "MQ-6")
    running.pause()
    started = time.monotonic()
    answer = await poll(http, "MQ-6")
    waited = time.monotonic() - started
    assert answer.status_code == 503, answer.text
    assert 4.5 <= waited < 8, waited
    # Not one more wait per poll: the link is known broken until it answers again.
    started = time.monotonic()
    assert (await poll(http, "MQ-6")).status_code == 503
    assert time.monotonic() - started < 1.5
    assert (await state(admin, "MQ-6"))["credentialsDeliveredAt"] is None
    running.resume()
    credentials = await collected_within(http, "MQ-6", 20)
    await connected(mqtt, credentials)


async def test_a_removal_while_mosquitto_is_stopped_reaches_it_once_it_is_back(
    http: httpx.AsyncClient, admin: GraphQLClient, mqtt: Connections, running: MosquittoBroker
) -> None:
    removed_device = await issued(http, admin, "MQ-7")
    reset_device = await issued(http, admin, "MQ-8")
    running.stop()
    assert (await admin.data(REMOVE, id="MQ-7"))["removeRegistration"]["__typename"] == "Removed"
    assert (await reset(admin, "MQ-8"))["__typename"] == "Registration"
    await asyncio.sleep(1.5)  # a few retries fail meanwhile
    running.start()
    # Mosquitto kept both clients in its file; Gatehouse deletes them once it is back.
    await refused_within(mqtt, removed_device, 10)
    await refused_within(mqtt, reset_device, 10)
    assert running.client("device_MQ-7") is None
    assert running.client("device_MQ-8") is None
    renewed = await collected_within(http, "MQ-8", 5)
    await connected(mqtt, renewed)


async def test_a_delivery_takes_over_a_deletion_still_waiting(
    http: httpx.AsyncClient, admin: GraphQLClient, mqtt: Connections, running: MosquittoBroker
) -> None:
    """Reset while Mosquitto is down, then the device polls as soon as it is back: the new
    client is never deleted by the old reset's queued deletion."""
    old = await issued(http, admin, "MQ-9")
    running.stop()
    assert (await reset(admin, "MQ-9"))["__typename"] == "Registration"
    running.start()
    new = await collected_within(http, "MQ-9", 15)
    device = await connected(mqtt, new)
    await asyncio.sleep(2)  # long enough for any queued deletion to have landed
    assert not device.closed.is_set()
    assert running.client("device_MQ-9") is not None
    assert (await connect(mqtt, "device_MQ-9", old["password"], "MQ-9")).refused_login


def test_no_password_reaches_the_servers_output(gatehouse: Server) -> None:
    """Run last: every device password issued here, and the admin's, against every line."""
    output = "".join(gatehouse.log)
    assert "Mosquitto" in output  # the module's server did talk about its broker
    assert len(SEEN) > 5
    for secret in SEEN:
        assert secret not in output
        assert quote(secret, safe="") not in output
