"""What the server counts, for ``GET /metrics`` (API.md §9.4; served by ``graph/rest/metrics.py``).

Each metric is counted where its decision is made, in the service layer:
device polls in ``resolvers/credentials.py``, accepts in
``resolvers/registrations.py``, failed logins in ``resolvers/auth.py`` and
``resolvers/users.py``, broker and gateway callbacks in
``resolvers/device_logins.py``, subscribers in ``resolvers/live.py``; the
request durations in the gate (``graph/http/gate.py``), which every route
passes. The label values are fixed and created here, so every series exists
(at 0) from the start and a hot path only increments a counter it already
holds. ``gatehouse_registrations`` is read from the database at scrape time
(one ``GROUP BY``), so it is exact whichever process answers.

Several worker processes (``gatehouse serve --workers N``) use prometheus-client's
multiprocess mode: ``gatehouse serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` to a fresh
private directory before the workers start (``graph/serving.py``); each worker then
keeps its values in memory-mapped files there, and a scrape of any worker adds up
every worker's files (subscribers: of the live workers only). prometheus-client
decides on the mode when it is first imported, so the variable must be set before
that, which is why only a process that is about to start workers sets it. One
process needs no directory: its values are plain in-memory numbers.
"""

from __future__ import annotations

import asyncio
import enum
import os
from collections.abc import Iterable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from tortoise.functions import Count

from models.registrations import Registration, RegistrationStatus

#: The variable that puts prometheus-client in multiprocess mode, read when it is imported.
MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
#: The directory this process writes its values to, or ``None`` (one process, in memory).
MULTIPROCESS_DIR = os.environ.get(MULTIPROCESS_VARIABLE) or None

# ``*_created`` series double the output and say nothing a restart does not.
disable_created_metrics()

#: This process's metrics (not prometheus-client's default registry, whose process and
#: garbage-collector metrics would describe only the worker that happened to answer).
REGISTRY = CollectorRegistry(auto_describe=True)


class PollResult(enum.Enum):
    """What one device poll came to (``gatehouse_device_polls_total{result}``)."""

    #: 404: unknown, not yet accepted, blocked, already delivered, or a wrong token at delivery.
    NOT_FOUND = "not_found"
    #: First contact: the registration left WAITING_FOR_CONNECTION (the device still sees 404).
    CONNECTED = "connected"
    #: 201: the device collected its credentials.
    DELIVERED = "delivered"
    #: 429: beyond the poll limit; nothing was read.
    THROTTLED = "throttled"


class AcceptResult(enum.Enum):
    """What one operator's accept of one registration came to (``gatehouse_accept_total``)."""

    ACCEPTED = "accepted"
    #: A wrong or missing token: one failed attempt, below the limit.
    TOKEN_REJECTED = "token_rejected"
    #: The failed attempt that reached the limit and blocked the registration.
    BLOCKED = "blocked"


#: Registrations per status, as a scrape reads them.
RegistrationCounts = dict[RegistrationStatus, int]

#: The ``broker`` label of the callbacks: the surface that asked (API.md §6).
BROKERS = ("rabbitmq", "emqx", "mosquitto", "http")

_polls = Counter(
    "gatehouse_device_polls",
    "Device polls for credentials (REST and requestDeviceCredentials), by what they came to.",
    ["result"],
    registry=REGISTRY,
)
POLLS = {result: _polls.labels(result.value) for result in PollResult}

_accepts = Counter(
    "gatehouse_accept",
    "Operators' accepts (accept, acceptAll) of one registration each, by outcome.",
    ["result"],
    registry=REGISTRY,
)
ACCEPTS = {result: _accepts.labels(result.value) for result in AcceptResult}

_delivery_rejections = Counter(
    "gatehouse_delivery_token_rejections",
    "Security tokens refused at the poll that would collect the credentials, by outcome.",
    ["result"],
    registry=REGISTRY,
)
DELIVERY_REJECTIONS = {
    result: _delivery_rejections.labels(result.value)
    for result in (AcceptResult.TOKEN_REJECTED, AcceptResult.BLOCKED)
}

LOGIN_FAILURES = Counter(
    "gatehouse_login_failures",
    "Failed logins (a wrong password or an unknown user, uncached), on every surface.",
    registry=REGISTRY,
)

_callbacks = Counter(
    "gatehouse_auth_callbacks",
    "Broker and gateway callbacks about devices (logins and authorizations), by answer.",
    ["broker", "result"],
    registry=REGISTRY,
)
CALLBACKS = {
    (broker, allowed): _callbacks.labels(broker, "allow" if allowed else "deny")
    for broker in BROKERS
    for allowed in (True, False)
}

SUBSCRIBERS = Gauge(
    "gatehouse_subscribers",
    "Live registrationEvents subscriptions.",
    registry=REGISTRY,
    multiprocess_mode="livesum",
)

REQUEST_DURATION = Histogram(
    "gatehouse_http_request_duration_seconds",
    "Time from a request's arrival at its route to the end of its answer, by route template.",
    ["route", "method", "status"],
    registry=REGISTRY,
)


def callback_answered(broker: str, allowed: bool) -> None:
    """Count one callback decision of ``broker`` (an unknown name counts as ``http``)."""
    counter = CALLBACKS.get((broker, allowed))
    if counter is None:
        counter = CALLBACKS[("http", allowed)]
    counter.inc()


# ---------------------------------------------------------------- at scrape time


async def registration_counts(within: float) -> RegistrationCounts:
    """Registrations per status, every status present: one ``GROUP BY`` within ``within`` s."""
    async with asyncio.timeout(within):
        rows = await (
            Registration.all()
            .annotate(count=Count("device_id"))
            .group_by("status")
            .values_list("status", "count")
        )
    counts = dict.fromkeys(RegistrationStatus, 0)
    for status, count in rows:
        counts[RegistrationStatus(status)] = int(count)
    return counts


class _Snapshot(Collector):
    """Gauges computed for one scrape (from the database), beside the counted metrics."""

    def __init__(self, counts: RegistrationCounts | None) -> None:
        self.counts = counts

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "gatehouse_database_up",
            "1 when this scrape could read the registrations from the database, else 0.",
            value=0 if self.counts is None else 1,
        )
        if self.counts is None:
            return [up]
        registrations = GaugeMetricFamily(
            "gatehouse_registrations",
            "Registrations in each status, all tenants, as the database holds them.",
            labels=["status"],
        )
        for status, count in self.counts.items():
            registrations.add_metric([status.value], count)
        return [registrations, up]


def scrape_registry(counts: RegistrationCounts | None) -> CollectorRegistry:
    """What one scrape exposes: every process's counted metrics, and ``counts``.

    With a multiprocess directory, the counted metrics are read from the files of
    every worker (file reads: call it off the event loop).
    """
    registry = CollectorRegistry(auto_describe=False)
    if MULTIPROCESS_DIR is not None:
        MultiProcessCollector(registry, path=MULTIPROCESS_DIR)
    else:
        registry.register(_Counted())
    registry.register(_Snapshot(counts))
    return registry


class _Counted(Collector):
    """This process's counted metrics (one process, no multiprocess directory)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()
