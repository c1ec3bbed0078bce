"""Live registration events: one reader per tenant per process, fanned out to subscribers.

A :class:`TenantFeed` exists while its tenant has subscribers in this process.
On a broker notice (or every ``poll_interval`` seconds, which bounds the delay
of a lost notice) it reads the new events from the log once, with the current
registrations in one more query, and offers the batch to every local
subscriber. The database sees one read per notice, not one per subscriber.

:func:`stream` gives a subscriber the events after its cursor with no gap and
no duplicate: it joins the feed first, then replays the log after the cursor,
then takes the live queue, skipping what the replay already gave. Within a
tenant, events commit in ``seq`` order (``resolvers/events.py``), which is
what makes this exact.

Each subscriber has a bounded queue. One that falls behind is marked
:class:`SubscriberTooSlow`; it never slows the feed or the other subscribers,
and can resume from its last cursor.

A subscriber may also have a *direct* path (:data:`Direct`): while its
consumer waits on an empty queue, the feed hands it each event itself, in
order, instead of queueing the event and waking the consumer's task. The
websocket layer uses it to send an event to thousands of waiting subscribers
from one loop (``graph/graphql/direct_delivery.py``); when the direct path
declines an event, that event and the rest of the batch are queued as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass, field

from models.events import RegistrationEvent
from models.registrations import Registration, RegistrationStatus
from resolvers import events
from resolvers.brokers import Broker, MemoryBroker
from resolvers.metrics import SUBSCRIBERS
from resolvers.permissions import Actor, Permission

log = logging.getLogger(__name__)

READ_BATCH = 500

#: Drops what a cache holds under a key (``None``: everything); see ``EventHub.on_invalidate``.
Forget = Callable[[str | None], None]
#: Delivers one event to a waiting consumer at once: True if it did, False if the event
#: must be queued instead (see :meth:`Subscriber.deliver`).
Direct = Callable[["LiveEvent"], Awaitable[bool]]


class SubscriberTooSlow(Exception):
    """The subscriber stayed behind too long; it must reconnect and resume from its cursor."""


@dataclass(frozen=True)
class LiveEvent:
    """One event as every local subscriber of its tenant receives it (shared, read-only)."""

    event: RegistrationEvent
    registration: Registration | None  # current state; None once removed
    #: Renderings of this event, computed once and shared by all subscribers.
    views: dict[str, object] = field(default_factory=dict, compare=False, repr=False)


class Subscriber:
    """One subscription's bounded queue of live events.

    A batch that does not fit marks the subscriber *lagging*: nothing more is
    queued, and once it has taken what is queued it reads the rest from the log
    itself, so a burst (an ``acceptAll`` of thousands) costs no memory and
    loses nothing. A subscriber still lagging ``max_lag`` seconds after it
    first fell behind cannot keep up: ``on_too_slow`` is called (the websocket
    layer closes the connection with a documented code) and it is dropped.
    """

    def __init__(self, queue_size: int, max_lag: float, tenant_id: str = "") -> None:
        self.queue: asyncio.Queue[LiveEvent] = asyncio.Queue(maxsize=queue_size)
        self.max_lag = max_lag
        self.lagging = False
        self.behind_since: float | None = None
        self.too_slow = asyncio.Event()
        self.on_too_slow: Callable[[], None] | None = None
        #: What the consumer asked for: the tenant, and the statuses (None: all).
        self.tenant_id = tenant_id
        self.wanted: Collection[RegistrationStatus] | None = None
        #: The seq of the last event the consumer has taken (delivered or skipped).
        self.last_seq = 0
        self.direct: Direct | None = None
        #: The consumer waits in :meth:`next` for the queue (it has nothing in hand).
        self.waiting = False

    def takes_directly(self) -> bool:
        """Whether an event may go by the direct path now: the consumer is waiting with
        nothing queued, so nothing it has yet to send can be overtaken."""
        return (
            self.direct is not None
            and self.waiting
            and self.queue.empty()
            and not self.lagging
            and not self.too_slow.is_set()
        )

    def wants(self, event: RegistrationEvent) -> bool | None:
        """As the consumer would judge ``event``: None if it skips it unseen (already
        taken, or another tenant's), else whether it passes the status filter."""
        if event.seq <= self.last_seq or event.tenant_id != self.tenant_id:
            return None
        return self.wanted is None or event.status in self.wanted

    async def deliver(self, batch: list[LiveEvent]) -> None:
        """Hand ``batch`` to the direct path, in order, as the consumer would take it;
        from the first event it declines (or once the consumer stops waiting), queue
        the rest."""
        assert self.direct is not None
        for index, item in enumerate(batch):
            if not self.takes_directly():
                self.offer(batch[index:])
                return
            wanted = self.wants(item.event)
            if wanted is None:
                continue
            if wanted and not await self._direct(item):
                self.offer(batch[index:])
                return
            self.last_seq = item.event.seq

    def offer(self, batch: list[LiveEvent]) -> None:
        if self.too_slow.is_set():
            return
        if self.lagging:
            self._check_lag()
            return
        for item in batch:
            try:
                self.queue.put_nowait(item)
            except asyncio.QueueFull:
                self.lagging = True
                if self.behind_since is None:
                    self.behind_since = time.monotonic()
                return

    async def _direct(self, item: LiveEvent) -> bool:
        assert self.direct is not None
        try:
            return await self.direct(item)
        except Exception:  # the event goes by the queue; the feed must go on
            log.exception("direct delivery of an event of tenant %s failed", self.tenant_id)
            return False

    def _check_lag(self) -> None:
        if self.behind_since is not None and time.monotonic() - self.behind_since > self.max_lag:
            self.too_slow.set()
            if self.on_too_slow is not None:
                self.on_too_slow()

    def caught_up(self) -> None:
        """The consumer has delivered everything up to the feed: it is keeping up again."""
        if not self.lagging:
            self.behind_since = None

    async def next(self) -> LiveEvent | None:
        """The next queued event; ``None`` when the consumer must read the log to catch up."""
        if self.too_slow.is_set():
            raise SubscriberTooSlow
        if not self.queue.empty():
            return self.queue.get_nowait()
        if self.lagging:
            self.lagging = False  # before reading, so a new overflow during the read counts
            return None
        self.caught_up()
        # Only a lagging subscriber can become too slow, and a lagging one never waits
        # here (it reads the log instead), so waiting on the queue alone is enough.
        self.waiting = True
        try:
            return await self.queue.get()
        finally:
            self.waiting = False


class TenantFeed:
    def __init__(self, tenant_id: str, last_seq: int, poll_interval: float) -> None:
        self.tenant_id = tenant_id
        self.last_seq = last_seq
        self.poll_interval = poll_interval
        self.subscribers: set[Subscriber] = set()
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"event-feed:{self.tenant_id}")

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=self.poll_interval)
            self.wake.clear()
            try:
                await self.read_new()
            except Exception:  # a database hiccup must not end the feed; retry next round
                log.exception("reading new events of tenant %s failed", self.tenant_id)

    async def read_new(self) -> None:
        while True:
            rows = await events.events_after(self.tenant_id, self.last_seq, READ_BATCH)
            if not rows:
                return
            current = await events.current_registrations(self.tenant_id, rows)
            batch = [LiveEvent(row, _state_after(row, current)) for row in rows]
            for subscriber in list(self.subscribers):
                if subscriber.takes_directly():
                    await subscriber.deliver(batch)
                else:
                    subscriber.offer(batch)
            self.last_seq = rows[-1].seq
            if len(rows) < READ_BATCH:
                return


def _state_after(row: RegistrationEvent, current: dict[str, Registration]) -> Registration | None:
    if row.status is None:
        return None
    return current.get(row.device_id)


class EventHub:
    """This process's feeds, woken by the broker, and its caches' invalidations."""

    def __init__(
        self,
        broker: Broker | None = None,
        *,
        poll_interval: float = 2.0,
        queue_size: int = 1000,
        max_lag: float = 30.0,
    ) -> None:
        self.broker: Broker = broker or MemoryBroker()
        self.poll_interval = poll_interval
        self.queue_size = queue_size
        self.max_lag = max_lag
        self.feeds: dict[str, TenantFeed] = {}
        self.forgetters: dict[str, list[Forget]] = {}
        self.event_watchers: list[Callable[[str | None], None]] = []
        self._lock = asyncio.Lock()
        self._started = False

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        await self.broker.start(self)

    async def close(self) -> None:
        for feed in list(self.feeds.values()):
            if feed.task:
                feed.task.cancel()
        self.feeds.clear()
        await self.broker.close()

    def on_events(self, tenant_id: str) -> None:
        feed = self.feeds.get(tenant_id)
        if feed is not None:
            feed.wake.set()
        for watch in self.event_watchers:
            watch(tenant_id)

    def on_invalidation(self, topic: str, key: str) -> None:
        for forget in self.forgetters.get(topic, ()):
            forget(key)

    def on_reconnect(self) -> None:
        for feed in self.feeds.values():
            feed.wake.set()
        for watch in self.event_watchers:
            watch(None)  # notices may have been missed while cut off
        # Invalidations may have been missed while cut off: forget every cached entry.
        for forgetters in self.forgetters.values():
            for forget in forgetters:
                forget(None)

    async def publish(self, tenant_id: str) -> None:
        await self.start()
        await self.broker.publish(tenant_id)

    def watch_events(self, watch: Callable[[str | None], None]) -> None:
        """Call ``watch(tenant_id)`` on every notice of new events of a tenant, from any
        process, and ``watch(None)`` (any tenant may have some) after the broker reconnects.

        For background readers of the log (the webhook deliverer); ``watch`` must not block.
        """
        self.event_watchers.append(watch)

    def on_invalidate(self, topic: str, forget: Forget) -> None:
        """Call ``forget(key)`` for each invalidation of ``topic`` on any process, and
        ``forget(None)`` (forget everything) after the broker reconnects."""
        self.forgetters.setdefault(topic, []).append(forget)

    async def invalidate(self, topic: str, key: str) -> None:
        """Make every process (this one at once) forget what it cached under ``key``."""
        self.on_invalidation(topic, key)
        await self.start()
        await self.broker.invalidate(topic, key)

    async def join(self, tenant_id: str) -> tuple[TenantFeed, Subscriber]:
        await self.start()
        async with self._lock:
            feed = self.feeds.get(tenant_id)
            if feed is None:
                feed = TenantFeed(tenant_id, await events.latest_seq(tenant_id), self.poll_interval)
                self.feeds[tenant_id] = feed
                feed.start()
            subscriber = Subscriber(self.queue_size, self.max_lag, tenant_id)
            feed.subscribers.add(subscriber)
            SUBSCRIBERS.inc()
            return feed, subscriber

    def leave(self, feed: TenantFeed, subscriber: Subscriber) -> None:
        if subscriber in feed.subscribers:
            feed.subscribers.discard(subscriber)
            SUBSCRIBERS.dec()
        if not feed.subscribers and self.feeds.get(feed.tenant_id) is feed:
            del self.feeds[feed.tenant_id]
            if feed.task:
                feed.task.cancel()


#: This process's hub. It is module state on purpose, like Tortoise's registry of
#: database connections: every service function that commits a change notifies
#: through it (``resolvers/changes.py``), whichever surface called it, and a
#: process has one broker connection. Passing it down instead would add an
#: argument to every service function for a value that never varies within a
#: process. ``create_app`` installs its hub (the same object as
#: ``app.state.services.hub``); a fresh default serves scripts and tests.
_hub = EventHub()


def install(hub: EventHub) -> None:
    """Make ``hub`` this process's event hub (the app does this when it is built)."""
    global _hub
    _hub = hub


def current_hub() -> EventHub:
    return _hub


async def notify(*tenant_ids: str) -> None:
    """Tell every process that these tenants have new committed events."""
    for tenant_id in dict.fromkeys(tenant_ids):
        await _hub.publish(tenant_id)


async def invalidate(topic: str, key: str) -> None:
    """Tell every process to forget what it cached under ``key`` (after the change committed)."""
    await _hub.invalidate(topic, key)


async def stream(
    actor: Actor,
    after: str | None,
    statuses: Collection[RegistrationStatus] | None = None,
    on_too_slow: Callable[[], None] | None = None,
    direct: Direct | None = None,
) -> AsyncGenerator[LiveEvent, None]:
    """The tenant's events after ``after`` (or from now on), then live, in commit order.

    Raises :class:`SubscriberTooSlow` (after calling ``on_too_slow``) when the
    consumer stays behind longer than the hub's ``max_lag``. With ``direct``,
    live events that arrive while the consumer waits are given to ``direct``
    instead of being yielded (those it declines are yielded, in order).
    """
    actor.require(Permission.DEVICE_CONTROL_READ)
    start_seq = events.parse_event_cursor(actor.tenant_id, after) if after else None
    hub = _hub
    feed, subscriber = await hub.join(actor.tenant_id)
    subscriber.on_too_slow = on_too_slow
    subscriber.wanted = set(statuses) if statuses else None
    try:
        if start_seq is None:
            subscriber.last_seq = await events.latest_seq(actor.tenant_id)
        else:
            subscriber.last_seq = start_seq
            subscriber.lagging = True  # start by reading the log after the cursor
        # Set only now: until the consumer first waits, events are queued as before.
        subscriber.direct = direct
        while True:
            item = await subscriber.next()
            if item is not None:  # the live path: one event at a time, kept lean
                wanted = subscriber.wants(item.event)
                if wanted is not None:
                    subscriber.last_seq = item.event.seq
                    if wanted:
                        yield item
                continue
            async for page in _log_pages(actor.tenant_id, subscriber.last_seq):  # catching up
                for live_event in page:
                    wanted = subscriber.wants(live_event.event)
                    if wanted is None:
                        continue  # already delivered (replay and live overlap), or not ours
                    subscriber.last_seq = live_event.event.seq
                    if wanted:
                        yield live_event
    finally:
        hub.leave(feed, subscriber)


async def _log_pages(tenant_id: str, after_seq: int) -> AsyncIterator[list[LiveEvent]]:
    """The log after ``after_seq`` to its end, a page at a time (catching up)."""
    while True:
        rows = await events.events_after(tenant_id, after_seq, READ_BATCH)
        if not rows:
            return
        current = await events.current_registrations(tenant_id, rows)
        yield [LiveEvent(row, _state_after(row, current)) for row in rows]
        after_seq = rows[-1].seq
        if len(rows) < READ_BATCH:
            return
