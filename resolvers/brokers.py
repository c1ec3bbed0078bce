"""Brokers carry one notice between server processes: "tenant T has new events".

Events themselves never travel through a broker: a process that gets a notice
reads the log (``resolvers/live.py``), so a lost notice only delays an event
until the next periodic re-read, and never loses it.

- ``memory://``: one process; a notice goes straight to the local hub.
- ``redis://host:port/db``: Redis pub/sub on one channel. A process that loses
  its Redis connection keeps serving, reconnects with backoff by itself, and
  on reconnecting asks every local feed to catch up from the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

CHANNEL = "gatehouse:registration-events"
RECONNECT_DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0)

OnNotice = Callable[[str], None]
OnReconnect = Callable[[], None]


class Broker(Protocol):
    async def start(self, on_notice: OnNotice, on_reconnect: OnReconnect) -> None: ...

    async def publish(self, tenant_id: str) -> None: ...

    async def close(self) -> None: ...


class MemoryBroker:
    """Delivers notices within this process only."""

    def __init__(self) -> None:
        self._on_notice: OnNotice | None = None

    async def start(self, on_notice: OnNotice, on_reconnect: OnReconnect) -> None:
        self._on_notice = on_notice

    async def publish(self, tenant_id: str) -> None:
        if self._on_notice is not None:
            self._on_notice(tenant_id)

    async def close(self) -> None:
        self._on_notice = None


class RedisBroker:
    """Redis pub/sub: every process publishes and listens on :data:`CHANNEL`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._client = aioredis.Redis.from_url(url, socket_connect_timeout=2)
        self._listener: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def start(self, on_notice: OnNotice, on_reconnect: OnReconnect) -> None:
        self._listener = asyncio.create_task(self._listen(on_notice, on_reconnect))
        # Wait briefly for the first subscription so a server that starts with
        # Redis up hears notices from its first request on.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), timeout=2)

    async def _listen(self, on_notice: OnNotice, on_reconnect: OnReconnect) -> None:
        failures = 0
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                if failures:
                    log.info("reconnected to Redis; catching up from the event log")
                    on_reconnect()
                failures = 0
                self.connected.set()
                async for message in pubsub.listen():
                    data = message.get("data")
                    if isinstance(data, bytes):
                        on_notice(data.decode())
            except (RedisError, OSError) as error:
                self.connected.clear()
                delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
                if failures == 0:
                    log.warning("lost Redis connection (%s); reconnecting", error)
                failures += 1
                await asyncio.sleep(delay)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()

    async def publish(self, tenant_id: str) -> None:
        try:
            await self._client.publish(CHANNEL, tenant_id)
        except (RedisError, OSError) as error:
            # Subscribers on other processes see it at their next periodic re-read.
            log.warning("could not publish an event notice to Redis: %s", error)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._client.aclose()


def broker_for(url: str) -> Broker:
    """The broker a ``GATEHOUSE_BROKER_URL`` names."""
    if url.startswith(("redis://", "rediss://")):
        return RedisBroker(url)
    return MemoryBroker()
