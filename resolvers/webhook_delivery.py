"""Delivering the event log to webhooks: at least once, in log order, one process at a time.

There is no queue of outgoing messages: each webhook's row keeps a cursor
(``after_seq``, the last event of the tenant's log it is done with), and the
deliverer reads the log after it (``resolvers/events.py``). A 2xx answer moves
the cursor past the event; anything else, or no answer within the timeout,
leaves it where it is and schedules a retry of the same event after an
exponential backoff, so nothing is skipped and the order holds. The cursor
moves only after the receiver said yes, so a crash or a restart in between
sends that event again (at least once; receivers deduplicate by ``webhook-id``).

One process delivers for a webhook at a time: it claims the webhook's *lease*
(``lease_owner``, ``lease_until``) with one conditional ``UPDATE``, renews it
with every step, and lets go when the webhook is caught up, failing, or the
process stops. A process that dies keeps its claim until ``lease_until``; then
another takes over. The database decides, so this holds on SQLite and on
PostgreSQL alike, for any number of processes.

The deliverer wakes on the event hub's notices ("tenant T has new events",
from every process through the broker) and also every ``poll_interval``, so a
lost notice only delays a delivery. A database error is logged and retried;
it never ends the deliverer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from tortoise.expressions import Q

from models.events import RegistrationEvent
from models.registrations import Registration
from models.webhooks import Webhook
from resolvers import events
from resolvers.errors import InvalidInput
from resolvers.webhook_messages import encode_body, event_payload, signed_headers
from resolvers.webhook_urls import host_header, parse_webhook_url, pinned_url
from resolvers.webhooks import check_destination

log = logging.getLogger(__name__)

READ_BATCH = 100
ERROR_MAX = 1000
#: How long a stopping deliverer lets attempts in flight finish before cancelling them.
STOP_GRACE_SECONDS = 2.0


@dataclass(frozen=True)
class DeliveryConfig:
    """How the deliverer behaves (from ``GATEHOUSE_WEBHOOK*`` settings)."""

    allow_private: bool = False
    timeout: float = 10.0
    min_backoff: float = 1.0
    max_backoff: float = 3600.0
    poll_interval: float = 2.0
    lease_seconds: float = 60.0

    @property
    def lease(self) -> timedelta:
        # A claim outlives the longest attempt by a wide margin, whatever the settings.
        return timedelta(seconds=max(self.lease_seconds, 3 * self.timeout))


def retry_delay(failures: int, min_backoff: float, max_backoff: float) -> float:
    """Seconds to wait after the ``failures``-th failure in a row: doubling, capped."""
    exponent = min(max(failures - 1, 0), 64)
    return float(min(max_backoff, min_backoff * 2.0**exponent))


def _now() -> datetime:
    return datetime.now(UTC)


def _clip(message: str) -> str:
    return message if len(message) <= ERROR_MAX else message[: ERROR_MAX - 1] + "…"


class WebhookDeliverer:
    """This process's deliverer: a scanning loop and one task per webhook it holds."""

    def __init__(
        self, config: DeliveryConfig, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.config = config
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._transport = transport
        self._wake = asyncio.Event()
        self._tenants: set[str] = set()
        self._everything = True
        self._retry_at: dict[int, float] = {}
        #: Webhooks whose delivery broke on an error here, held back until then (loop time).
        self._held: dict[int, float] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._main: asyncio.Task[None] | None = None
        self._stopping = False

    # ------------------------------------------------------------------ lifetime

    def notice(self, tenant_id: str | None) -> None:
        """The tenant has new events (``None``: any tenant may have): look soon."""
        if tenant_id is None:
            self._everything = True
        else:
            self._tenants.add(tenant_id)
        self._wake.set()

    def start(self) -> None:
        if self._main is None:
            self._stopping = False
            self._main = asyncio.create_task(self._run(), name="webhook-deliverer")

    async def stop(self) -> None:
        """Stop scanning, let attempts in flight finish briefly, and let go of every claim."""
        self._stopping = True
        self._wake.set()
        if self._main is not None:
            self._main.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._main
            self._main = None
        running = list(self._tasks.values())
        if running:
            _, late = await asyncio.wait(running, timeout=STOP_GRACE_SECONDS)
            for task in late:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        try:
            await Webhook.filter(lease_owner=self.owner).update(lease_owner=None, lease_until=None)
        except Exception as error:  # the database may be gone already; the claims expire
            log.warning("could not release webhook claims on stopping: %s", error)

    # ------------------------------------------------------------------ scanning

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        failing = False
        while not self._stopping:
            self._wake.clear()
            tenants, everything = set(self._tenants), self._everything
            self._tenants.clear()
            self._everything = False
            try:
                await self.scan(None if everything else tenants)
                if failing:
                    log.info("webhook deliverer: the database answers again")
                failing = False
            except Exception as error:
                if not failing:
                    log.exception("webhook deliverer: scanning webhooks failed; will retry")
                else:
                    log.warning("webhook deliverer: scanning still fails: %s", error)
                failing = True
                self._everything = True
            wait = self.config.poll_interval
            upcoming = [*self._retry_at.values(), *self._held.values()]
            if upcoming:
                wait = min(wait, max(min(upcoming) - loop.time(), 0.0))
            try:
                async with asyncio.timeout(wait):
                    await self._wake.wait()
            except TimeoutError:
                self._everything = True

    async def scan(self, tenants: set[str] | None = None) -> None:
        """Claim every webhook (of ``tenants``, or all) that has events to deliver now."""
        if tenants is not None and not tenants:
            return
        query = Webhook.all() if tenants is None else Webhook.filter(tenant_id__in=tenants)
        rows = await query.values(
            "id", "tenant_id", "after_seq", "next_attempt_at", "lease_owner", "lease_until"
        )
        if tenants is None:
            present = {row["id"] for row in rows}
            self._retry_at = {k: v for k, v in self._retry_at.items() if k in present}
            self._held = {k: v for k, v in self._held.items() if k in present}
        latest: dict[str, int] = {}
        for tenant_id in {row["tenant_id"] for row in rows}:
            latest[tenant_id] = await events.latest_seq(tenant_id)
        loop_now = asyncio.get_running_loop().time()
        for row in rows:
            webhook_id: int = row["id"]
            if webhook_id in self._tasks or self._stopping:
                continue
            if self._held.get(webhook_id, 0.0) > loop_now:
                continue
            self._held.pop(webhook_id, None)
            self._retry_at.pop(webhook_id, None)
            if latest[row["tenant_id"]] <= row["after_seq"]:
                continue  # caught up
            now = _now()
            due: datetime | None = row["next_attempt_at"]
            if due is not None and due > now:
                self._retry_at[webhook_id] = loop_now + (due - now).total_seconds()
                continue
            until: datetime | None = row["lease_until"]
            if row["lease_owner"] not in (None, self.owner) and until is not None and until > now:
                # Another process delivers; look again when its claim would run out.
                log.debug("webhook %s: %s delivers for now", webhook_id, row["lease_owner"])
                self._retry_at[webhook_id] = loop_now + (until - now).total_seconds()
                continue
            if await self._claim(webhook_id, now):
                log.debug("webhook %s: delivering after event %s", webhook_id, row["after_seq"])
                task = asyncio.create_task(self._serve(webhook_id), name=f"webhook:{webhook_id}")
                self._tasks[webhook_id] = task
            else:
                # Another process claimed it just now: look again when that claim could end.
                lease = self.config.lease.total_seconds()
                self._retry_at[webhook_id] = loop_now + lease

    async def _claim(self, webhook_id: int, now: datetime) -> bool:
        free = Q(lease_owner=None) | Q(lease_until__lt=now) | Q(lease_owner=self.owner)
        due = Q(next_attempt_at=None) | Q(next_attempt_at__lte=now)
        claimed = await Webhook.filter(free, due, id=webhook_id).update(
            lease_owner=self.owner, lease_until=now + self.config.lease
        )
        return claimed == 1

    # ------------------------------------------------------------------ delivering

    async def _serve(self, webhook_id: int) -> None:
        """Deliver the webhook's backlog in order while this process holds its claim."""
        try:
            async with httpx.AsyncClient(
                transport=self._transport,
                timeout=self.config.timeout,
                follow_redirects=False,
                trust_env=False,
            ) as client:
                await self._deliver_backlog(client, webhook_id)
        except Exception:
            log.exception("webhook %s: delivery stopped by an error; will retry", webhook_id)
            # Not at once: a database that is down would fail again straight away.
            self._held[webhook_id] = asyncio.get_running_loop().time() + self.config.poll_interval
        finally:
            # Let go before leaving ``_tasks``: a scan in between must not claim it again here.
            with contextlib.suppress(Exception):
                await Webhook.filter(id=webhook_id, lease_owner=self.owner).update(
                    lease_owner=None, lease_until=None
                )
            self._tasks.pop(webhook_id, None)
            self._wake.set()  # events may have come in while this task was finishing
            self._everything = True

    async def _deliver_backlog(self, client: httpx.AsyncClient, webhook_id: int) -> None:
        while not self._stopping:
            hook = await Webhook.get_or_none(id=webhook_id, lease_owner=self.owner)
            if hook is None:
                return  # deleted, or the claim was lost
            batch = await events.events_after(hook.tenant_id, hook.after_seq, READ_BATCH)
            if not batch:
                return
            wanted = set(hook.kinds)
            done = hook.after_seq
            for event in batch:
                if self._stopping:
                    break
                if wanted and event.kind.value not in wanted:
                    done = event.seq  # not of its kinds: nothing to send
                    continue
                error = await self._attempt(client, hook, event)
                if error is not None:
                    await self._failed(hook, done, error)
                    return
                if not await self._delivered(hook, event.seq):
                    return
                done = event.seq
                # Fresh row before the next attempt: a rotated secret, or a deletion.
                fresh = await Webhook.get_or_none(id=webhook_id, lease_owner=self.owner)
                if fresh is None:
                    return
                hook = fresh
            if done > hook.after_seq and not await self._advance(hook, done):
                return

    async def _attempt(
        self, client: httpx.AsyncClient, hook: Webhook, event: RegistrationEvent
    ) -> str | None:
        """Send one event once; ``None`` when the receiver answered 2xx, else what went wrong."""
        try:
            target = parse_webhook_url(hook.url)
        except InvalidInput as problem:
            return problem.message
        url = hook.url
        extra_headers: dict[str, str] = {}
        extensions: dict[str, str] = {}
        if not self.config.allow_private:
            try:
                addresses = await check_destination(target, allow_private=False)
            except InvalidInput as problem:
                return f"not sent: {problem.message}"
            # Connect to the address just checked: a second lookup could answer otherwise.
            url = pinned_url(target, addresses[0])
            extra_headers["host"] = host_header(target)
            if target.scheme == "https" and target.address is None:
                extensions["sni_hostname"] = target.host
        registration = None
        if event.status is not None:
            registration = (
                await Registration.filter(tenant_id=hook.tenant_id, device_id=event.device_id)
                .select_related("group")
                .first()
            )
        group = registration.group if registration is not None else None
        cursor = events.event_cursor(event.tenant_id, event.seq)
        body = encode_body(event_payload(event, cursor, registration, group))
        headers = {**signed_headers(hook.secret, cursor, body, _now()), **extra_headers}
        timeout = self.config.timeout
        try:
            async with asyncio.timeout(timeout):
                async with client.stream(
                    "POST", url, content=body.encode(), headers=headers, extensions=extensions
                ) as response:
                    status, reason = response.status_code, response.reason_phrase
        except (TimeoutError, httpx.TimeoutException):
            return f"no answer within {timeout:g} s"
        except httpx.HTTPError as problem:
            return _clip(f"could not deliver: {type(problem).__name__} {problem}".strip())
        if 200 <= status < 300:
            log.debug("webhook %s: delivered event %s (HTTP %s)", hook.id, event.seq, status)
            return None
        return _clip(f"HTTP {status} {reason}".strip())

    async def _delivered(self, hook: Webhook, seq: int) -> bool:
        """Move the cursor past ``seq`` and clear the failure; ``False`` if the claim is gone."""
        now = _now()
        moved = await Webhook.filter(id=hook.id, lease_owner=self.owner).update(
            after_seq=seq,
            last_delivered_at=now,
            last_error=None,
            failing_since=None,
            failures=0,
            next_attempt_at=None,
            lease_until=now + self.config.lease,
        )
        if moved and hook.failing_since is not None:
            log.info("webhook %s delivers again (failing since %s)", hook.id, hook.failing_since)
        return moved == 1

    async def _advance(self, hook: Webhook, seq: int) -> bool:
        """Move the cursor over events not of the webhook's kinds."""
        now = _now()
        moved = await Webhook.filter(id=hook.id, lease_owner=self.owner).update(
            after_seq=seq, lease_until=now + self.config.lease
        )
        return moved == 1

    async def _failed(self, hook: Webhook, done: int, error: str) -> None:
        """Record the failure and when to try the same event again; let go of the claim."""
        now = _now()
        failures = hook.failures + 1
        delay = retry_delay(failures, self.config.min_backoff, self.config.max_backoff)
        await Webhook.filter(id=hook.id, lease_owner=self.owner).update(
            after_seq=done,
            last_error=error,
            failing_since=hook.failing_since or now,
            failures=failures,
            next_attempt_at=now + timedelta(seconds=delay),
            lease_owner=None,
            lease_until=None,
        )
        self._retry_at[hook.id] = asyncio.get_running_loop().time() + delay
        log.warning(
            "webhook %s to %s: attempt %s failed (%s); retrying in %s s",
            hook.id,
            hook.url,
            failures,
            error,
            _seconds(delay),
        )


def _seconds(value: float) -> str:
    return f"{value:.3g}" if value < 10 else str(math.ceil(value))
