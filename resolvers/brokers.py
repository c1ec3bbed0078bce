"""Brokers carry two kinds of notice between server processes.

- "tenant T has new events". Events themselves never travel through a broker:
  a process that gets a notice reads the log (``resolvers/live.py``), so a
  lost notice only delays an event until the next periodic re-read, and never
  loses it.
- "forget what you cached about K" (an *invalidation* on a topic such as
  logins or device credentials): a changed password or a revoked device takes
  effect on every process at once instead of when its cache entry expires. A
  process that was cut off from the broker may have missed some, so on
  reconnecting it is told to forget everything it cached.

- ``memory://``: one process; a notice goes straight to the local hub.
- ``redis://host:port/db``: Redis pub/sub on one channel. A process that loses
  its Redis connection keeps serving, reconnects with backoff by itself, and
  on reconnecting asks every local feed to catch up from the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

CHANNEL = "gatehouse:registration-events"
INVALIDATIONS = "gatehouse:invalidations"
RECONNECT_DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0)


class Listener(Protocol):
    """What a broker tells its process (the event hub, ``resolvers/live.py``)."""

    def on_events(self, tenant_id: str) -> None: ...

    def on_invalidation(self, topic: str, key: str) -> None: ...

    def on_reconnect(self) -> None: ...


class Broker(Protocol):
    async def start(self, listener: Listener) -> None: ...

    async def publish(self, tenant_id: str) -> None:
        """Tell every process, this one included, that the tenant has new events."""

    async def invalidate(self, topic: str, key: str) -> None:
        """Tell every *other* process to forget ``key`` (the hub forgets it here itself)."""

    async def close(self) -> None: ...


class MemoryBroker:
    """Delivers notices within this process only."""

    def __init__(self) -> None:
        self._listener: Listener | None = None

    async def start(self, listener: Listener) -> None:
        self._listener = listener

    async def publish(self, tenant_id: str) -> None:
        if self._listener is not None:
            self._listener.on_events(tenant_id)

    async def invalidate(self, topic: str, key: str) -> None:
        """Nothing to do: there is no other process, and the hub has applied it here."""

    async def close(self) -> None:
        self._listener = None


class RedisBroker:
    """Redis pub/sub: every process publishes and listens on :data:`CHANNEL` and
    :data:`INVALIDATIONS` (a JSON ``[sender, topic, key]`` per message, where the
    sender is the publishing broker's ``client_name``, so it skips its own)."""

    def __init__(self, url: str) -> None:
        self.url = url
        #: Shown by Redis's ``CLIENT LIST``, so an operator can tell the processes apart.
        self.client_name = f"gatehouse:{os.getpid()}:{secrets.token_hex(4)}"
        self._client = aioredis.Redis.from_url(
            url, socket_connect_timeout=2, client_name=self.client_name
        )
        self._listener: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()

    async def start(self, listener: Listener) -> None:
        self._listener = asyncio.create_task(self._listen(listener))
        # Wait briefly for the first subscription so a server that starts with
        # Redis up hears notices from its first request on.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), timeout=2)

    async def _listen(self, listener: Listener) -> None:
        failures = 0
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL, INVALIDATIONS)
                if failures:
                    log.info("reconnected to Redis; catching up from the event log")
                    listener.on_reconnect()
                failures = 0
                self.connected.set()
                async for message in pubsub.listen():
                    self._dispatch(listener, message)
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

    def _dispatch(self, listener: Listener, message: dict[str, object]) -> None:
        channel, data = message.get("channel"), message.get("data")
        if not isinstance(data, bytes):
            return
        if channel == CHANNEL.encode():
            listener.on_events(data.decode())
            return
        try:
            sender, topic, key = json.loads(data)
        except ValueError:
            log.warning("ignored a malformed invalidation message")
            return
        if sender != self.client_name and isinstance(topic, str) and isinstance(key, str):
            listener.on_invalidation(topic, key)

    async def invalidate(self, topic: str, key: str) -> None:
        try:
            message = json.dumps([self.client_name, topic, key])
            await self._client.publish(INVALIDATIONS, message)
        except (RedisError, OSError) as error:
            # Other processes forget the entry when it expires, or all of it on reconnecting.
            log.warning("could not publish an invalidation to Redis: %s", error)

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
