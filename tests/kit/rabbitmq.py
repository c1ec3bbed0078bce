"""A private RabbitMQ node for one test module: own node name, ports, config, data, cookie.

Debian's ``/usr/sbin/rabbitmq-server`` switches to the ``rabbitmq`` user and
drops the environment, so the node is started with
``/usr/lib/rabbitmq/bin/rabbitmq-server`` and every ``RABBITMQ_*`` variable
pointing into a temporary folder (an empty ``RABBITMQ_CONF_ENV_FILE``: the
system one names the system node). It never touches the machine's own node.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path

from bench.processes import free_port
from tests.kit.components import unavailable, wait_for_port

SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
CTL = Path("/usr/lib/rabbitmq/bin/rabbitmqctl")
#: RabbitMQ 3.10 opens its MQTT port about 11 s after start; a busy machine needs more.
STARTUP_SECONDS = 90


class RabbitMQNode:
    """A running node; :attr:`mqtt_port` is where devices connect."""

    def __init__(
        self,
        folder: Path,
        config: str,
        enabled_plugins: str,
        mqtt_port: int,
        management_port: int | None = None,
    ) -> None:
        self.folder = folder
        self.mqtt_port = mqtt_port
        #: Where ``rabbitmq_management`` listens, when the config enables it on its own port.
        self.management_port = management_port
        self.node = f"gatehouse-test-{os.getpid()}-{secrets.token_hex(3)}@localhost"
        for name in ("home", "mnesia", "log"):
            (folder / name).mkdir(parents=True, exist_ok=True)
        (folder / "rabbitmq-env.conf").write_text("")
        (folder / "rabbitmq.conf").write_text(config)
        (folder / "enabled_plugins").write_text(enabled_plugins)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(folder / "home"),
            "RABBITMQ_CONF_ENV_FILE": str(folder / "rabbitmq-env.conf"),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(free_port()),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_MNESIA_BASE": str(folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(folder / "log"),
            "RABBITMQ_CONFIG_FILE": str(folder / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(folder / "enabled_plugins"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }
        self.output = (folder / "node.out").open("w")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if not SERVER.exists():
            unavailable(f"RabbitMQ is not installed ({SERVER}; apt-get install rabbitmq-server)")
        self.process = subprocess.Popen(
            [str(SERVER)],
            env=self.env,
            stdout=self.output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if not wait_for_port(self.mqtt_port, STARTUP_SECONDS, self.running):
            self.stop()
            tail = (self.folder / "node.out").read_text()[-3000:]
            unavailable(f"the private RabbitMQ node did not open its MQTT port:\n{tail}")
        if self.management_port is not None and not wait_for_port(
            self.management_port, STARTUP_SECONDS, self.running
        ):
            self.stop()
            tail = (self.folder / "node.out").read_text()[-3000:]
            unavailable(f"the private RabbitMQ node did not open its management port:\n{tail}")

    def ctl(self, *args: str) -> str:
        """``rabbitmqctl`` against this node; its output (fails on an error)."""
        done = subprocess.run(
            [str(CTL), "-n", self.node, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"rabbitmqctl {args[0]} failed: {done.stderr}"
        return done.stdout

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            subprocess.run(
                [str(CTL), "-n", self.node, "stop"],
                env=self.env,
                capture_output=True,
                timeout=60,
                check=False,
            )
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(timeout=10)
        self.output.close()
        self.process = None
