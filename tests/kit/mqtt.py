"""A real MQTT 3.1.1 client (paho-mqtt) acting as a device, with bounded waits."""

from __future__ import annotations

import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

WAIT_SECONDS = 10


class Device:
    """One MQTT connection: what the broker answered, what arrived, whether it was closed."""

    def __init__(self, port: int, username: str, password: str, client_id: str) -> None:
        self.port = port
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311
        )
        self.client.username_pw_set(username, password)
        self.connack: ReasonCode | None = None
        self.closed = threading.Event()
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        #: The return codes of the last SUBACK (0x80, a failure, where refused).
        self.granted: list[ReasonCode] = []
        self.messages: list[tuple[str, bytes]] = []
        self.arrived = threading.Event()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    def _on_connect(self, client: Any, userdata: Any, flags: Any, code: Any, props: Any) -> None:
        self.connack = code
        self.connected.set()

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, code: Any, props: Any) -> None:
        self.closed.set()
        self.connected.set()  # a refused CONNECT ends here too

    def _on_subscribe(self, client: Any, userdata: Any, mid: Any, codes: Any, props: Any) -> None:
        self.granted = list(codes)
        self.subscribed.set()

    def _on_message(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.messages.append((message.topic, bytes(message.payload)))
        self.arrived.set()

    def connect(self) -> bool:
        """Whether the broker accepted the CONNECT (CONNACK 0)."""
        self.client.reconnect_delay_set(60, 60)  # never retry within a test
        self.client.connect("127.0.0.1", self.port, keepalive=30)
        self.client.loop_start()
        assert self.connected.wait(WAIT_SECONDS), "no CONNACK within the wait"
        return self.connack is not None and not self.connack.is_failure and not self.closed.is_set()

    @property
    def refused_login(self) -> bool:
        """CONNACK 4 (MQTT 3.1.1's "bad user name or password"), or 5 (not authorized)."""
        return self.connack is not None and self.connack.getName() in (
            "Bad user name or password",
            "Not authorized",
        )

    def subscribe(self, topic_filter: str) -> bool:
        """Whether the subscription was granted (``False``: the broker closed the connection)."""
        self.subscribed.clear()
        self.client.subscribe(topic_filter, qos=1)
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if self.closed.is_set():
                return False
            if self.subscribed.wait(0.05):
                return not self.closed.is_set()
        raise AssertionError(f"no answer to SUBSCRIBE {topic_filter!r} within the wait")

    def subscription_refused(self, topic_filter: str) -> bool:
        """Whether the broker answered SUBSCRIBE with 0x80 and kept the connection open."""
        assert self.subscribe(topic_filter), f"the connection closed at SUBSCRIBE {topic_filter!r}"
        return bool(self.granted) and all(code.is_failure for code in self.granted)

    def publish(self, topic: str, payload: bytes) -> bool:
        """Whether the broker acknowledged the QoS 1 publish (``False``: it closed the socket)."""
        info = self.client.publish(topic, payload, qos=1)
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if self.closed.is_set():
                return False
            if info.is_published():
                return not self.closed.is_set()
            time.sleep(0.05)
        raise AssertionError(f"no answer to PUBLISH {topic!r} within the wait")

    def message(self, seconds: float = WAIT_SECONDS) -> tuple[str, bytes] | None:
        """The first message received, waiting up to ``seconds``."""
        self.arrived.wait(seconds)
        return self.messages[0] if self.messages else None

    def wait_closed(self, seconds: float = WAIT_SECONDS) -> bool:
        return self.closed.wait(seconds)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Connections:
    """The MQTT connections one test opens to a broker on ``port``, closed after it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.opened: list[Device] = []

    def open(self, username: str, password: str, client_id: str) -> Device:
        """A device connection (blocking: call it in a thread from async tests)."""
        device = Device(self.port, username, password, client_id)
        self.opened.append(device)
        device.connect()
        return device

    def close(self) -> None:
        for device in self.opened:
            device.close()
        self.opened.clear()
