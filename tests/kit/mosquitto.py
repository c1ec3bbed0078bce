"""A private Mosquitto 2 with dynamic security for one test module, and its admin's commands.

Debian's ``/usr/sbin/mosquitto`` with ``mosquitto_dynamic_security.so``, its
own configuration, port and dynamic-security file in a temporary folder (the
file initialised with ``mosquitto_ctrl dynsec init``); it never touches the
machine's own Mosquitto. The broker can be stopped and started again on the
same port with the same file (clients survive, as on a real restart), and
paused (``SIGSTOP``: connected but answering nothing).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from tests.kit.components import unavailable, wait_for_port

SERVER = Path("/usr/sbin/mosquitto")
CTRL = Path("/usr/bin/mosquitto_ctrl")
PLUGIN = Path("/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so")
STARTUP_SECONDS = 15
REQUEST = "$CONTROL/dynamic-security/v1"
RESPONSE = "$CONTROL/dynamic-security/v1/response"


class MosquittoBroker:
    """A private broker: :attr:`port` for devices and the admin, :attr:`dynsec_file` its list."""

    def __init__(
        self, folder: Path, config: str, port: int, admin: str, admin_password: str
    ) -> None:
        self.folder = folder
        self.port = port
        self.admin = admin
        self.admin_password = admin_password
        self.dynsec_file = folder / "dynamic-security.json"
        self.config_file = folder / "mosquitto.conf"
        self.config_file.write_text(config)
        self.log_file = folder / "mosquitto.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        for needed, package in (
            (SERVER, "mosquitto"),
            (CTRL, "mosquitto"),
            (PLUGIN, "mosquitto"),
        ):
            if not needed.exists():
                unavailable(f"Mosquitto is not installed ({needed}; apt-get install {package})")
        if not self.dynsec_file.exists():
            initialised = subprocess.run(
                [
                    str(CTRL),
                    "dynsec",
                    "init",
                    str(self.dynsec_file),
                    self.admin,
                    self.admin_password,
                ],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            if initialised.returncode != 0:
                unavailable(f"mosquitto_ctrl dynsec init failed: {initialised.stderr}")
        with self.log_file.open("ab") as output:
            self.process = subprocess.Popen(
                [str(SERVER), "-c", str(self.config_file)],
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if not wait_for_port(self.port, STARTUP_SECONDS, self.running):
            self.stop()
            unavailable(f"the private Mosquitto did not open its port:\n{self.log_tail()}")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_lines(self) -> list[str]:
        """What the broker logged so far (``New client connected ... as <client id>`` and so on)."""
        return self.log_file.read_text(errors="replace").splitlines()

    def log_tail(self) -> str:
        return self.log_file.read_text(errors="replace")[-3000:] if self.log_file.exists() else ""

    def stop(self) -> None:
        """Stop the broker (its clients and roles stay in its file)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None

    def pause(self) -> None:
        """Freeze the broker: connections stay open, nothing is answered."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def commands(self, *commands: dict[str, Any], seconds: float = 10) -> list[dict[str, Any]]:
        """Run dynamic-security commands as the admin (a client of the test's own)."""
        return dynsec_request(self.port, self.admin, self.admin_password, list(commands), seconds)

    def client(self, username: str) -> dict[str, Any] | None:
        """What Mosquitto holds for ``username`` (``None``: no such client)."""
        (answer,) = self.commands({"command": "getClient", "username": username})
        if answer.get("error") == "Client not found":
            return None
        assert "error" not in answer, answer
        client: dict[str, Any] = answer["data"]["client"]
        return client

    def role(self, rolename: str) -> dict[str, Any] | None:
        (answer,) = self.commands({"command": "getRole", "rolename": rolename})
        if answer.get("error") == "Role not found":
            return None
        assert "error" not in answer, answer
        role: dict[str, Any] = answer["data"]["role"]
        return role


def dynsec_request(
    port: int, username: str, password: str, commands: list[dict[str, Any]], seconds: float
) -> list[dict[str, Any]]:
    """One request on a fresh paho connection; the responses."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"test-admin-{os.getpid()}-{time.monotonic_ns()}"
    )
    client.username_pw_set(username, password)
    answered = threading.Event()
    subscribed = threading.Event()
    responses: list[dict[str, Any]] = []

    def on_message(client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        responses.extend(json.loads(message.payload)["responses"])
        answered.set()

    client.on_message = on_message
    client.on_subscribe = lambda *args: subscribed.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        client.subscribe(RESPONSE, qos=1)
        assert subscribed.wait(seconds), "the test's admin client could not subscribe"
        client.publish(REQUEST, json.dumps({"commands": commands}), qos=1)
        assert answered.wait(seconds), "Mosquitto did not answer the test's admin client"
        return responses
    finally:
        client.disconnect()
        client.loop_stop()
