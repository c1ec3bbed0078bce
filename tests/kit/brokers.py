"""Stand-ins for the brokers in the tests' own process, and a look at the outbox.

The real brokers are exercised by ``tests/test_mosquitto_dynsec.py`` and
``tests/test_rabbitmq_connections.py``; these let the in-process tests script
what a broker answers (confirm, refuse, not answer, be away) and watch the
outbox's rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from models.broker_outbox import BrokerTarget, BrokerTask
from resolvers.broker_outbox import DONE, Outcome
from resolvers.mosquitto_admin import MosquittoUnavailable


class ScriptedMosquitto:
    """Answers dynamic-security requests as Mosquitto would, or fails as told."""

    def __init__(self) -> None:
        self.connected = True
        #: ``None``: confirm; a string: answer each command with that error; "unavailable": raise.
        self.answer: str | None = None
        self.requests: list[list[dict[str, Any]]] = []

    async def run(
        self, commands: Sequence[dict[str, Any]], seconds: float | None = None
    ) -> list[Any]:
        self.requests.append([dict(c) for c in commands])
        if self.answer == "unavailable":
            raise MosquittoUnavailable("Mosquitto did not answer within 5 s")
        if self.answer is None:
            return [{"command": c["command"]} for c in commands]
        return [{"command": c["command"], "error": self.answer} for c in commands]

    def created(self) -> list[dict[str, Any]]:
        """Every createClient command sent, in order."""
        return [c for r in self.requests for c in r if c["command"] == "createClient"]


@dataclass
class RecordingRevoker:
    """A broker whose revocations take ``seconds``; fails the first ``failures`` attempts."""

    target: BrokerTarget = BrokerTarget.MOSQUITTO
    name: str = "TestBroker"
    seconds: float = 0.0
    failures: int = 0
    up: bool = True
    #: Each attempt: (who, task ids, loop time at start, loop time at end).
    attempts: list[tuple[str, list[int], float, float]] = field(default_factory=list)
    revoked: list[int] = field(default_factory=list)
    #: Every attempt hangs (a broker that never answers).
    hang: bool = False
    who: str = "a"

    def ready(self) -> bool:
        return self.up

    async def revoke(self, tasks: Sequence[BrokerTask], now: datetime) -> dict[int, Outcome]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        if self.hang:
            await asyncio.sleep(3600)
        await asyncio.sleep(self.seconds)
        ids = [t.id for t in tasks]
        self.attempts.append((self.who, ids, started, loop.time()))
        if self.failures > 0:
            self.failures -= 1
            return {i: Outcome(error="connection refused") for i in ids}
        self.revoked.extend(ids)
        return dict.fromkeys(ids, DONE)


async def outbox_rows(target: BrokerTarget | None = None) -> list[BrokerTask]:
    query = BrokerTask.all() if target is None else BrokerTask.filter(target=target)
    return await query.order_by("id")
