"""Delivering the outbox of broker-side revocations: retried until confirmed, one process a row.

``resetCredentials`` and ``removeRegistration`` write a :class:`BrokerTask` row
per configured broker in their own transaction (``resolvers/broker_sync.py``);
:class:`OutboxDeliverer` sends them in the background through a
:class:`Revoker` per broker (``resolvers/revokers.py``) and deletes a row once
its broker confirmed. A failure leaves the row and schedules it again after an
exponential backoff (``GATEHOUSE_BROKER_RETRY_*``), so an unreachable broker
delays a revocation but never loses it, and a restart picks up where the last
process left off: the rows are the queue.

One process delivers a row at a time: a batch of due rows is claimed with one
conditional ``UPDATE`` that sets a *lease* (a token of this claim, and a time
it runs out), the broker is asked, and the outcome is written only where this
claim still holds. A process that dies keeps its rows until the lease runs
out; then another takes them. The database decides, on SQLite and PostgreSQL
alike, and the broker calls happen outside any transaction.

The deliverer wakes when a change queued something (``wake``), when a broker
connection comes back (``wake(target, due_now=True)``: what waited for it is
due at once, whatever its backoff), and every ``poll_interval`` for rows other
processes left behind. A database error is logged and retried; it never ends
the deliverer.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import secrets
import socket
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from tortoise.expressions import Q

from models.broker_outbox import BrokerTarget, BrokerTask
from resolvers.webhook_delivery import retry_delay

log = logging.getLogger(__name__)

ERROR_MAX = 1000
#: How long a stopping deliverer lets the batch in flight finish before cancelling it.
STOP_GRACE_SECONDS = 2.0


def _now() -> datetime:
    return datetime.now(UTC)


def _clip(message: str) -> str:
    return message if len(message) <= ERROR_MAX else message[: ERROR_MAX - 1] + "…"


@dataclass(frozen=True)
class Outcome:
    """What became of one row: done, failed (retry after a backoff), or not finished yet."""

    done: bool = False
    error: str | None = None
    #: Not finished, nothing wrong: look again at this time (RabbitMQ's watch window).
    again_at: datetime | None = None


DONE = Outcome(done=True)


class Revoker(Protocol):
    """Carries out one broker's revocations."""

    target: BrokerTarget
    #: The broker's name in logs.
    name: str

    def ready(self) -> bool:
        """Whether trying now makes sense (a connection that is down: not yet)."""

    async def revoke(self, tasks: Sequence[BrokerTask], now: datetime) -> dict[int, Outcome]:
        """Revoke each task's device on the broker; an outcome per task id."""


@dataclass(frozen=True)
class OutboxConfig:
    """How the deliverer behaves (``GATEHOUSE_BROKER_RETRY_*`` and the event poll interval)."""

    min_backoff: float = 1.0
    max_backoff: float = 60.0
    poll_interval: float = 2.0
    lease_seconds: float = 30.0
    batch: int = 100

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)


class OutboxDeliverer:
    """This process's deliverer of the broker outbox: one loop over the configured brokers."""

    def __init__(self, revokers: Sequence[Revoker], config: OutboxConfig) -> None:
        self.revokers = list(revokers)
        self.config = config
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._claims = itertools.count(1)
        self._wake = asyncio.Event()
        self._due_now: set[BrokerTarget] = set()
        self._soonest: datetime | None = None
        self._main: asyncio.Task[None] | None = None
        self._stopping = False

    # ------------------------------------------------------------------ lifetime

    def wake(self, target: BrokerTarget | None = None, *, due_now: bool = False) -> None:
        """Look at the outbox soon; with ``due_now``, retry ``target``'s rows at once."""
        if due_now and target is not None:
            self._due_now.add(target)
        self._wake.set()

    def start(self) -> None:
        if self._main is None:
            self._stopping = False
            self._main = asyncio.create_task(self._run(), name="broker-outbox")

    async def stop(self) -> None:
        """Finish the batch in flight (briefly), then let go of every claim of this process."""
        self._stopping = True
        self._wake.set()
        if self._main is not None:
            done, _ = await asyncio.wait({self._main}, timeout=STOP_GRACE_SECONDS)
            if not done:
                self._main.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._main
            self._main = None
        try:
            await BrokerTask.filter(lease_owner__startswith=f"{self.owner}:").update(
                lease_owner=None, lease_until=None
            )
        except Exception as error:  # the database may be gone already; the leases run out
            log.warning("could not release broker outbox claims on stopping: %s", error)

    async def _run(self) -> None:
        failing = False
        with contextlib.suppress(Exception):
            await self._warn_about_unconfigured()
        if not self.revokers:
            return  # no broker configured: nothing to deliver, ever
        while not self._stopping:
            self._wake.clear()
            try:
                await self.deliver_due()
                if failing:
                    log.info("broker outbox: the database answers again")
                failing = False
            except Exception as error:
                if not failing:
                    log.exception("broker outbox: reading the outbox failed; will retry")
                else:
                    log.warning("broker outbox: reading still fails: %s", error)
                failing = True
            wait = self.config.poll_interval
            if self._soonest is not None:
                wait = min(wait, max((self._soonest - _now()).total_seconds(), 0.0))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()

    async def _warn_about_unconfigured(self) -> None:
        configured = {revoker.target for revoker in self.revokers}
        for target in BrokerTarget:
            if target in configured:
                continue
            waiting = await BrokerTask.filter(target=target).count()
            if waiting:
                setting = {
                    BrokerTarget.MOSQUITTO: "GATEHOUSE_MOSQUITTO_URL",
                    BrokerTarget.RABBITMQ: "GATEHOUSE_RABBITMQ_MANAGEMENT_URL",
                }[target]
                log.warning(
                    "%s revocation(s) for %s wait in the broker outbox, but %s is not set",
                    waiting,
                    target.value,
                    setting,
                )

    # ------------------------------------------------------------------ delivering

    async def deliver_due(self) -> None:
        """Deliver every row that is due now, batch by batch, broker by broker."""
        soonest: datetime | None = None
        for revoker in self.revokers:
            target = revoker.target
            if target in self._due_now:
                self._due_now.discard(target)
                now = _now()
                await BrokerTask.filter(target=target, next_attempt_at__gt=now).update(
                    next_attempt_at=now
                )
            while not self._stopping and revoker.ready():
                claimed = await self._claim(target)
                if not claimed:
                    break
                await self._deliver(revoker, claimed)
                if len(claimed) < self.config.batch:
                    break
            upcoming = (
                await BrokerTask.filter(target=target)
                .order_by("next_attempt_at")
                .first()
                .values_list("next_attempt_at", flat=True)
            )
            if isinstance(upcoming, datetime) and (soonest is None or upcoming < soonest):
                soonest = upcoming
        self._soonest = soonest

    async def _claim(self, target: BrokerTarget) -> list[BrokerTask]:
        now = _now()
        free = Q(lease_owner=None) | Q(lease_until__lt=now)
        ids = (
            await BrokerTask.filter(free, target=target, next_attempt_at__lte=now)
            .order_by("id")
            .limit(self.config.batch)
            .values_list("id", flat=True)
        )
        if not ids:
            return []
        token = f"{self.owner}:{next(self._claims)}"
        await BrokerTask.filter(free, id__in=list(ids)).update(
            lease_owner=token, lease_until=now + self.config.lease
        )
        return await BrokerTask.filter(lease_owner=token).order_by("id")

    async def _deliver(self, revoker: Revoker, tasks: list[BrokerTask]) -> None:
        token = tasks[0].lease_owner
        now = _now()
        try:
            # Well inside the lease: the outcome is written while this claim still holds.
            async with asyncio.timeout(self.config.lease_seconds / 2):
                outcomes = await revoker.revoke(tasks, now)
        except Exception as error:
            problem = _clip(str(error) or type(error).__name__)
            if isinstance(error, TimeoutError):
                problem = (
                    f"{revoker.name} did not confirm within {self.config.lease_seconds / 2:g} s"
                )
            else:  # revokers turn what brokers answer into outcomes: this is a bug
                log.exception("%s: revoking failed unexpectedly; will retry", revoker.name)
            outcomes = {task.id: Outcome(error=problem) for task in tasks}
        done = [t for t in tasks if outcomes.get(t.id, Outcome(error="no outcome")).done]
        if done:
            await BrokerTask.filter(id__in=[t.id for t in done], lease_owner=token).delete()
            _log_done(revoker, done)
        later: dict[datetime, list[int]] = defaultdict(list)
        failed: dict[tuple[int, str], list[BrokerTask]] = defaultdict(list)
        for task in tasks:
            outcome = outcomes.get(task.id, Outcome(error="no outcome"))
            if outcome.done:
                continue
            if outcome.error is None and outcome.again_at is not None:
                later[outcome.again_at].append(task.id)
            else:
                failed[(task.attempts + 1, _clip(outcome.error or "failed"))].append(task)
        for at, ids in later.items():
            await BrokerTask.filter(id__in=ids, lease_owner=token).update(
                next_attempt_at=at, last_error=None, lease_owner=None, lease_until=None
            )
        for (attempts, problem), group in failed.items():
            delay = retry_delay(attempts, self.config.min_backoff, self.config.max_backoff)
            await BrokerTask.filter(id__in=[t.id for t in group], lease_owner=token).update(
                attempts=attempts,
                last_error=problem,
                next_attempt_at=now + timedelta(seconds=delay),
                lease_owner=None,
                lease_until=None,
            )
            log.warning(
                "%s: %s revocation(s) not confirmed (devices %s; attempt %s): %s; retrying in %s s",
                revoker.name,
                len(group),
                _devices(group),
                attempts,
                problem,
                f"{delay:.3g}",
            )


def _devices(tasks: Sequence[BrokerTask], shown: int = 5) -> str:
    ids = list(dict.fromkeys(t.device_id for t in tasks))
    more = f" and {len(ids) - shown} more" if len(ids) > shown else ""
    return ", ".join(ids[:shown]) + more


def _log_done(revoker: Revoker, tasks: Sequence[BrokerTask]) -> None:
    retried = [t for t in tasks if t.attempts]
    log.info(
        "%s confirmed %s revocation(s) (devices %s)%s",
        revoker.name,
        len(tasks),
        _devices(tasks),
        f", {len(retried)} after failures" if retried else "",
    )
