"""The live event feed: replay then live, fan-out with one read, and slow subscribers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from resolvers import events, live
from resolvers.brokers import MemoryBroker
from resolvers.permissions import MANAGEMENT_ADMIN_PERMISSIONS, Actor
from resolvers.registrations import DeviceToRegister, register

ADMIN = Actor("management", "admin", MANAGEMENT_ADMIN_PERMISSIONS)


@pytest.fixture
async def hub(db: str) -> AsyncIterator[live.EventHub]:
    previous = live.current_hub()
    hub = live.EventHub(MemoryBroker(), poll_interval=0.05, queue_size=5, max_lag=0.3)
    live.install(hub)
    yield hub
    await hub.close()
    live.install(previous)


async def take(stream: AsyncIterator[live.LiveEvent], count: int) -> list[str]:
    return [(await asyncio.wait_for(anext(stream), 5)).event.device_id for _ in range(count)]


async def test_replay_after_cursor_then_live_without_duplicates(hub: live.EventHub) -> None:
    await register(ADMIN, [DeviceToRegister("a"), DeviceToRegister("b")])
    first = await events.list_events(ADMIN, None, None, 1)
    cursor = events.event_cursor("management", first.items[0].seq)
    stream = live.stream(ADMIN, cursor)
    assert await take(stream, 1) == ["b"]
    await register(ADMIN, [DeviceToRegister("c")])
    assert await take(stream, 1) == ["c"]
    await stream.aclose()
    assert hub.feeds == {}


async def test_many_subscribers_cost_one_log_read_per_notice(
    hub: live.EventHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    streams = [live.stream(ADMIN, None) for _ in range(20)]
    starters = [asyncio.ensure_future(anext(s)) for s in streams]
    await asyncio.sleep(0.1)
    reads = 0
    original = events.events_after

    async def counting(tenant_id: str, seq: int, limit: int) -> list[events.RegistrationEvent]:
        nonlocal reads
        reads += 1
        return await original(tenant_id, seq, limit)

    monkeypatch.setattr(events, "events_after", counting)
    for feed in hub.feeds.values():
        feed.poll_interval = 60  # only the notice may wake the feed now
    await asyncio.sleep(0.1)
    reads = 0
    await register(ADMIN, [DeviceToRegister("fan-out")])
    firsts = await asyncio.wait_for(asyncio.gather(*starters), 5)
    assert {item.event.device_id for item in firsts} == {"fan-out"}
    assert reads == 1
    for stream in streams:
        await stream.aclose()


async def test_subscriber_behind_longer_than_max_lag_is_told_too_slow(
    hub: live.EventHub,
) -> None:
    told: list[bool] = []
    stream = live.stream(ADMIN, None, on_too_slow=lambda: told.append(True))
    starter = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.1)
    await register(ADMIN, [DeviceToRegister(f"d{n}") for n in range(20)])  # 20 > queue of 5
    await asyncio.wait_for(starter, 5)
    await asyncio.sleep(0.4)  # longer than max_lag, without reading
    await register(ADMIN, [DeviceToRegister("one-more")])
    for _ in range(50):
        if told:
            break
        await asyncio.sleep(0.05)
    assert told == [True]
    with pytest.raises(live.SubscriberTooSlow):
        for _ in range(100):
            await asyncio.wait_for(anext(stream), 5)


async def test_direct_path_takes_events_while_the_consumer_waits_and_declined_ones_keep_order(
    hub: live.EventHub,
) -> None:
    taken: list[str] = []

    async def direct(item: live.LiveEvent) -> bool:
        if item.event.device_id == "d2":
            return False  # as when the event's result has errors: the consumer must send it
        taken.append(item.event.device_id)
        return True

    stream = live.stream(ADMIN, None, direct=direct)
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.1)
    await register(ADMIN, [DeviceToRegister(f"d{n}") for n in range(1, 5)])  # one batch of 4
    first = await asyncio.wait_for(waiting, 5)
    # d1 went directly; d2 was declined, so it and everything after it were queued.
    assert (taken, first.event.device_id) == (["d1"], "d2")
    assert await take(stream, 2) == ["d3", "d4"]
    waiting = asyncio.ensure_future(anext(stream))
    await asyncio.sleep(0.1)
    await register(ADMIN, [DeviceToRegister("d5")])  # the consumer waits again: direct
    for _ in range(50):
        if taken == ["d1", "d5"]:
            break
        await asyncio.sleep(0.05)
    assert taken == ["d1", "d5"] and not waiting.done()
    waiting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    await stream.aclose()
    assert hub.feeds == {}
