"""Executing a subscription event once for every subscriber that asked the same thing.

graphql-core executes the subscription's selection set once per subscriber
and event. With a thousand subscribers of one tenant watching the same screen,
that is a thousand identical executions of the same event. Every live event's
GraphQL object is shared by all local subscribers (``graph/graphql/events.py``); this
executor keeps, on that object, each result by operation text, variables and
audience (tenant and permissions), and hands the same result to every
subscriber whose key matches. Results are read-only from here on: the JSON
encoding and error masking of each connection work on copies of the envelope.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterable, Awaitable
from typing import Any, TypeVar, cast

from graphql import ExecutionResult
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graph.graphql import direct_delivery
from graph.graphql.json_text import json_text

SHARED_RESULTS_ATTRIBUTE = "shared_results"
T = TypeVar("T")


def _audience(context: Any) -> object:
    actor = getattr(context, "actor", None)
    if actor is None:
        return None
    return (actor.tenant_id, actor.permissions)


_UNKNOWN = object()


class SharedEventExecution(StrawberryGraphQLCoreExecutionContext):
    _shared_key: object = None
    #: The key, once known: it is the same for every event of a subscription (its
    #: operation, variables and connection's actor do not change), and each per-event
    #: executor is a copy of the subscription's, so it is computed once per subscription.
    _known_key: object = _UNKNOWN

    def shared_key(self) -> object:
        """What identifies this subscription's result of any event among subscribers
        (None: it is not shared)."""
        return self._key()

    def _key(self) -> object:
        if self._known_key is not _UNKNOWN:
            return self._known_key
        location = self.operation.loc
        key = (
            None
            if location is None
            else (
                location.source.body,
                location.start,
                repr(self.variable_values),
                _audience(self.context_value),
            )
        )
        self._known_key = key
        return key

    def cancellable_iterable(self, iterable: AsyncIterable[T]) -> AsyncIterable[T]:
        # graphql-core maps a subscription's source stream here, in its operation task:
        # the feed may now execute the subscription's events itself (direct_delivery.py).
        direct_delivery.adopt(self)
        return super().cancellable_iterable(iterable)

    def build_per_event_executor(self, payload: Any) -> Any:
        shared = getattr(payload, SHARED_RESULTS_ATTRIBUTE, None)
        key = self._key() if isinstance(shared, dict) else None
        if key is not None and shared is not None and key in shared:
            # Already executed for an identical subscription: skip building an executor.
            return _Executed(shared[key])
        executor = cast(SharedEventExecution, super().build_per_event_executor(payload))
        executor._shared_key = key
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        shared = getattr(self.root_value, SHARED_RESULTS_ATTRIBUTE, None)
        key = self._shared_key
        if key is None or not isinstance(shared, dict):
            return super().execute_operation(serially)
        if key in shared:
            return _Executed(shared[key]).execute_operation(serially)
        result = super().execute_operation(serially)
        if not self.is_awaitable(result):
            shared[key] = result
            return result
        running = asyncio.ensure_future(_resolve(result))
        shared[key] = running
        return asyncio.shield(running)


class _Executed:
    """Stands in for a per-event executor whose result is already known or on its way."""

    def __init__(self, found: object) -> None:
        self.found = found

    def execute_operation(self, serially: bool | None = None) -> Any:
        if isinstance(self.found, asyncio.Future):
            return asyncio.shield(self.found)
        return self.found


async def _resolve(result: Awaitable[ExecutionResult]) -> ExecutionResult:
    return await result


class SharedJson:
    """JSON text of result data shared by many subscribers, encoded once.

    A shared result's ``data`` is one object sent to every matching subscriber;
    its text is kept (under the object's identity, with the object itself held
    so the identity cannot be reused) for the next few events.
    """

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._texts: OrderedDict[int, tuple[object, str]] = OrderedDict()

    def encode(self, data: object) -> str:
        found = self._texts.get(id(data))
        if found is not None and found[0] is data:
            return found[1]
        text = json_text(data)
        self._texts[id(data)] = (data, text)
        if len(self._texts) > self.size:
            self._texts.popitem(last=False)
        return text

    def next_message(self, message: object) -> str | None:
        """The text of a ``next`` message that carries only data, or ``None`` for others."""
        if not isinstance(message, dict) or message.get("type") != "next" or len(message) != 3:
            return None
        payload = message.get("payload")
        operation_id = message.get("id")
        if not isinstance(payload, dict) or len(payload) != 1 or "data" not in payload:
            return None
        if not isinstance(operation_id, str):
            return None
        data = self.encode(payload["data"])
        return f'{{"id":{json_text(operation_id)},"type":"next","payload":{{"data":{data}}}}}'
