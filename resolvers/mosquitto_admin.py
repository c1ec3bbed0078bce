"""This process's one connection to Mosquitto's dynamic security (API.md §10.2).

:class:`MosquittoAdmin` keeps a single MQTT connection (aiomqtt) as the admin
client of ``GATEHOUSE_MOSQUITTO_URL``, subscribed to the plugin's response
topic, and reconnects by itself with backoff when it is lost. :meth:`run`
publishes one request (several commands, ``resolvers/dynsec.py``) and waits for
its answer, matched by ``correlationData``, for at most ``timeout`` seconds.

While the connection is down :meth:`run` fails at once (it does not wait for a
reconnection): a device poll then answers 503 straight away and the outbox
waits. A request left unanswered marks the connection broken and it is
reconnected, so a broker that stopped answering costs one timeout, not one per
request. Each process logs in with a client id of its own, so several server
processes can share the admin user.

The password of a device travels inside a request and nowhere else: requests
are never logged, and neither is the admin password (:meth:`BrokerLogin.shown`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import secrets
import ssl
from collections.abc import Callable, Sequence
from typing import Any

import aiomqtt

from resolvers import dynsec
from resolvers.broker_urls import BrokerLogin

log = logging.getLogger(__name__)

#: How long a delivery waits for Mosquitto's answer before the poll answers 503 (API.md §10.2).
ANSWER_SECONDS = 5.0
RECONNECT_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)
#: Long enough to notice a dead broker soon, short enough not to matter on the wire.
KEEPALIVE_SECONDS = 10


class MosquittoUnavailable(Exception):
    """Mosquitto did not confirm: not connected, no answer in time, or the link broke."""


class MosquittoAdmin:
    """A reconnecting admin connection and the requests waiting for their answers."""

    def __init__(self, login: BrokerLogin, *, answer_seconds: float = ANSWER_SECONDS) -> None:
        self.login = login
        self.answer_seconds = answer_seconds
        self.identifier = f"gatehouse-{os.getpid()}-{secrets.token_hex(4)}"
        self._requests = itertools.count(1)
        self._pending: dict[str, asyncio.Future[list[Any]]] = {}
        self._client: aiomqtt.Client | None = None
        self._up = asyncio.Event()
        self._broken = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: Called (without arguments, must not block) each time the connection comes up.
        self.on_connect: list[Callable[[], None]] = []

    @property
    def connected(self) -> bool:
        return self._client is not None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="mosquitto-admin")

    async def wait_connected(self, seconds: float) -> bool:
        """Whether the connection is up within ``seconds`` (for a server's first requests)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._up.wait()
        return self.connected

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    # ------------------------------------------------------------------ requests

    async def run(
        self, commands: Sequence[dynsec.Command], seconds: float | None = None
    ) -> list[Any]:
        """Send ``commands`` as one request; their responses, in order.

        :class:`MosquittoUnavailable` when not connected or not answered within
        ``seconds`` (default :data:`ANSWER_SECONDS`).
        """
        client = self._client
        if client is None:
            raise MosquittoUnavailable("not connected to Mosquitto")
        tag = f"{self.identifier}:{next(self._requests)}"
        payload = json.dumps({"commands": dynsec.with_correlation(commands, tag)})
        answer: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._pending[tag] = answer
        wait = self.answer_seconds if seconds is None else seconds
        try:
            async with asyncio.timeout(wait):
                await client.publish(dynsec.REQUEST_TOPIC, payload, qos=1)
                return await answer
        except TimeoutError:
            # An answer that does not come means a broker or a link that no longer works.
            self._broken.set()
            raise MosquittoUnavailable(f"Mosquitto did not answer within {wait:g} s") from None
        except aiomqtt.MqttError as error:
            raise MosquittoUnavailable(f"the connection to Mosquitto failed: {error}") from None
        finally:
            self._pending.pop(tag, None)

    def _answer(self, payload: bytes | bytearray) -> None:
        try:
            body = json.loads(payload)
        except ValueError:
            log.warning("Mosquitto sent a dynamic-security response that is not JSON")
            return
        tag = dynsec.correlation_prefix(body)
        waiting = self._pending.get(tag) if tag is not None else None
        if waiting is not None and not waiting.done():
            waiting.set_result(body["responses"])

    # ------------------------------------------------------------------ the connection

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                await self._session()
                failures = 0  # it was up and closed on its own: reconnect promptly
            except aiomqtt.MqttError as error:
                if failures == 0:
                    log.warning(
                        "Mosquitto dynamic security at %s: %s; reconnecting",
                        self.login.shown(),
                        error,
                    )
                failures += 1
            finally:
                self._down()
            await asyncio.sleep(RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)])

    async def _session(self) -> None:
        self._broken.clear()
        tls = ssl.create_default_context() if self.login.tls else None
        async with aiomqtt.Client(
            self.login.host,
            self.login.port,
            username=self.login.username,
            password=self.login.password,
            identifier=self.identifier,
            keepalive=KEEPALIVE_SECONDS,
            timeout=self.answer_seconds,
            tls_context=tls,
            logger=logging.getLogger(f"{__name__}.mqtt"),
        ) as client:
            await client.subscribe(dynsec.RESPONSE_TOPIC, qos=1)
            self._client = client
            self._up.set()
            log.info("connected to Mosquitto's dynamic security at %s", self.login.shown())
            for callback in self.on_connect:
                callback()
            reader = asyncio.create_task(self._read(client))
            broken = asyncio.create_task(self._broken.wait())
            try:
                await asyncio.wait({reader, broken}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (reader, broken):
                    task.cancel()
                await asyncio.gather(reader, broken, return_exceptions=True)
            self._client = None
            if reader.done() and not reader.cancelled() and reader.exception() is not None:
                raise aiomqtt.MqttError(str(reader.exception()))
            if self._broken.is_set():
                log.warning("Mosquitto stopped answering; reconnecting")

    async def _read(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            if message.topic.matches(dynsec.RESPONSE_TOPIC) and isinstance(
                message.payload, bytes | bytearray
            ):
                self._answer(message.payload)

    def _down(self) -> None:
        self._client = None
        self._up.clear()
        for tag, waiting in list(self._pending.items()):
            if not waiting.done():
                waiting.set_exception(MosquittoUnavailable("the connection to Mosquitto was lost"))
            self._pending.pop(tag, None)
