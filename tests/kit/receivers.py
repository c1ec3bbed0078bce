"""A real webhook receiver: an HTTP server on a free 127.0.0.1 port in the test's own loop.

It verifies every request with the ``standardwebhooks`` package against the
secrets the test gave it, keeps every request (duplicates included) in arrival
order, and answers as the test planned: ``500`` for a while, no answer at all
(``HANG``), then ``200``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from standardwebhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.kit.servers import free_port

#: A planned answer: keep the request open without answering (until the server stops).
HANG = -1
HANG_SECONDS = 30


@dataclass(frozen=True)
class Delivery:
    """One request the receiver got."""

    webhook_id: str
    headers: dict[str, str]
    body: str
    #: The secret that verified the signature (``None``: none did).
    verified_by: str | None
    answered: int
    #: When it arrived (the loop's clock).
    at: float

    @property
    def payload(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.payload["data"]
        return data


class Receiver:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.secrets: list[str] = []
        self.plan: list[int] = []
        self.default = 200
        #: Seconds to wait before each answer (a receiver that takes its time).
        self.delay = 0.0
        self.deliveries: list[Delivery] = []
        self.arrived = asyncio.Event()
        #: Requests being answered right now, and the most there ever were at once.
        self.in_flight = 0
        self.most_in_flight = 0

    async def _receive(self, request: Request) -> Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return await self._answer(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: Request) -> Response:
        body = (await request.body()).decode()
        headers = dict(request.headers)
        verified_by = None
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            verified_by = secret
            break
        answer = self.plan.pop(0) if self.plan else self.default
        arrived_at = asyncio.get_running_loop().time()
        delivery = Delivery(
            headers.get("webhook-id", ""), headers, body, verified_by, answer, arrived_at
        )
        self.deliveries.append(delivery)
        self.arrived.set()
        if answer == HANG:
            await asyncio.sleep(HANG_SECONDS)
            return Response(status_code=200)
        if self.delay:
            await asyncio.sleep(self.delay)
        return Response(status_code=answer)

    def unique(self) -> list[Delivery]:
        """The first delivery of each ``webhook-id``, in order of arrival (a receiver's dedup)."""
        seen: set[str] = set()
        first = []
        for delivery in self.deliveries:
            if delivery.webhook_id not in seen and 200 <= delivery.answered < 300:
                seen.add(delivery.webhook_id)
                first.append(delivery)
        return first

    def accepted(self) -> list[Delivery]:
        """Every request answered 2xx, duplicates included."""
        return [d for d in self.deliveries if 200 <= d.answered < 300]

    async def wait_accepted(self, count: int, timeout: float = 10) -> list[Delivery]:
        """Wait until ``count`` distinct events were accepted; they, in order."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.unique()) < count:
            left = deadline - loop.time()
            if left <= 0:
                got = [(d.data["kind"], d.data["id"], d.answered) for d in self.deliveries]
                raise AssertionError(f"expected {count} deliveries within {timeout} s, got {got}")
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), min(left, 0.5))
        return self.unique()

    async def wait_requests(self, count: int, timeout: float = 10) -> list[Delivery]:
        """Wait until ``count`` requests arrived, whatever they were answered."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.deliveries) < count:
            left = deadline - loop.time()
            assert left > 0, f"expected {count} requests within {timeout} s"
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), min(left, 0.5))
        return list(self.deliveries)

    async def nothing_within(self, seconds: float) -> bool:
        """Whether no request arrives for ``seconds``."""
        before = len(self.deliveries)
        await asyncio.sleep(seconds)
        return len(self.deliveries) == before


class _Server(uvicorn.Server):
    """uvicorn in the test's loop, leaving the test runner's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@asynccontextmanager
async def running_receiver(app: Any = None, port: int | None = None) -> AsyncIterator[Receiver]:
    """A :class:`Receiver` (or ``app``, an ASGI app of the test's) serving on 127.0.0.1."""
    receiver = Receiver(port)
    asgi = app or Starlette(routes=[Route("/hook", receiver._receive, methods=["POST"])])
    config = uvicorn.Config(
        asgi,
        host="127.0.0.1",
        port=receiver.port,
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    assert server.started, "the webhook receiver did not start"
    try:
        yield receiver
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
