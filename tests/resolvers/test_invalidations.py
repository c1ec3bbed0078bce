"""Invalidations through the broker: every process forgets a cached entry at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from resolvers import live
from resolvers.brokers import MemoryBroker, RedisBroker
from tests.kit.services import REDIS_VARIABLE, service_url


class Forgotten:
    """Records the keys a cache was told to forget."""

    def __init__(self) -> None:
        self.keys: list[str | None] = []
        self.changed = asyncio.Event()

    def __call__(self, key: str | None) -> None:
        self.keys.append(key)
        self.changed.set()

    async def wait_for(self, key: str | None, timeout: float = 1.0) -> None:
        async with asyncio.timeout(timeout):
            while key not in self.keys:
                self.changed.clear()
                await self.changed.wait()


async def test_memory_broker_tells_the_forgetters_of_the_topic_only() -> None:
    hub = live.EventHub(MemoryBroker())
    logins, devices = Forgotten(), Forgotten()
    hub.on_invalidate("login", logins)
    hub.on_invalidate("device", devices)
    await hub.invalidate("login", "acme/operator")
    assert logins.keys == ["acme/operator"]
    assert devices.keys == []
    await hub.close()


@pytest.fixture
async def two_redis_hubs() -> AsyncIterator[tuple[live.EventHub, live.EventHub]]:
    url = service_url(REDIS_VARIABLE)
    first, second = live.EventHub(RedisBroker(url)), live.EventHub(RedisBroker(url))
    await first.start()
    await second.start()
    yield first, second
    await first.close()
    await second.close()


async def test_an_invalidation_reaches_another_process_within_a_second(
    two_redis_hubs: tuple[live.EventHub, live.EventHub],
) -> None:
    first, second = two_redis_hubs
    here, there = Forgotten(), Forgotten()
    first.on_invalidate("device", here)
    second.on_invalidate("device", there)
    await first.invalidate("device", "SN-0042")
    assert here.keys == ["SN-0042"]  # this process at once, before the broker round trip
    await there.wait_for("SN-0042", timeout=1.0)


async def test_a_process_that_reconnects_to_redis_forgets_everything(
    two_redis_hubs: tuple[live.EventHub, live.EventHub],
) -> None:
    first, _ = two_redis_hubs
    forgotten = Forgotten()
    first.on_invalidate("login", forgotten)
    broker = first.broker
    assert isinstance(broker, RedisBroker)
    # Cut this broker's listening connection: whatever was published meanwhile may be lost.
    for client in await broker._client.client_list():
        if client.get("name") == broker.client_name and int(client.get("sub", 0)) > 0:
            await broker._client.client_kill_filter(_id=client["id"])
    await forgotten.wait_for(None, timeout=5.0)
