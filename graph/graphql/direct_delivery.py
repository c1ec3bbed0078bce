"""Live events sent by the feed straight to the sockets of waiting subscriptions.

Through strawberry, an event reaches each subscriber along a chain of its own:
the feed wakes the subscription's task, which steps through half a dozen async
generators (the live stream, the resolver, graphql-core's mapping, strawberry's
stream with its extension hooks, the protocol handler) before the message is
written. At 5,000 subscribers that chain was most of a fan-out's time, and the
objects of thousands of chains alive at once were promoted by the garbage
collector until a full collection stalled the process for seconds.

For a ``graphql-transport-ws`` subscription whose consumer waits with nothing
queued, the feed calls :meth:`DirectTarget.deliver` instead, one subscriber
after another (``resolvers/live.py``). It executes the event with the
subscription's own graphql-core executor, in the subscription task's context
variables (so once per operation, variables and audience, shared:
``shared_execution.py``), and when the result is one that strawberry would send
unchanged (data and no errors, and a schema whose extensions add nothing to
such a result: :func:`passes_results_through`) it sends the same ``next``
message through the same handler. Anything else (errors to mask and log, a
failed execution, a closing socket, a completed operation) returns False: the
event and those after it take the usual path, in order.
"""

from __future__ import annotations

import contextvars
import inspect
from typing import TYPE_CHECKING, Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import OperationType
from starlette.websockets import WebSocket, WebSocketState
from strawberry import Schema
from strawberry.extensions import SchemaExtension
from strawberry.schema import BaseSchema
from strawberry.types import ExecutionResult

from graph.graphql.errors import ClientErrors

if TYPE_CHECKING:
    from graphql.execution import Executor
    from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
        BaseGraphQLTransportWSHandler,
        Operation,
    )

#: Extensions whose ``on_stream_result`` changes only a result's errors (none here).
_ERRORS_ONLY_ON_STREAM = frozenset({ClientErrors})

_target: contextvars.ContextVar[DirectTarget | None] = contextvars.ContextVar(
    "gatehouse_direct_target", default=None
)


def passes_results_through(schema: BaseSchema) -> bool:
    """Whether strawberry sends an error-free subscription result of ``schema`` as
    graphql-core made it: no extension adds ``extensions`` to it or touches it on
    its way out (``on_stream_result``) other than to rewrite errors."""
    if not isinstance(schema, Schema):
        return False
    for extension in schema.get_extensions():
        kind = type(extension)
        if kind.get_results is not SchemaExtension.get_results:
            return False
        stream_hook = kind.on_stream_result is SchemaExtension.on_stream_result
        if not stream_hook and kind not in _ERRORS_ONLY_ON_STREAM:
            return False
    return True


class DirectTarget:
    """One subscription operation of a ``graphql-transport-ws`` connection."""

    def __init__(
        self, handler: BaseGraphQLTransportWSHandler[Any, Any], operation: Operation[Any, Any]
    ) -> None:
        self.handler = handler
        self.operation = operation
        self.executor: Executor | None = None
        self.context: contextvars.Context | None = None

    def live(self) -> bool:
        operation = self.operation
        if operation.completed or self.handler.operations.get(operation.id) is not operation:
            return False
        socket = getattr(self.handler.websocket, "ws", None)
        return (
            isinstance(socket, WebSocket)
            and socket.application_state == WebSocketState.CONNECTED
            and socket.client_state == WebSocketState.CONNECTED
        )

    def _execute(self, root: object) -> Any:
        assert self.executor is not None
        return self.executor.build_per_event_executor(root).execute_operation(False)

    async def deliver(self, root: object) -> bool:
        """Send the ``next`` message of the event whose root value is ``root``, as the
        usual path would; False (nothing sent) where the usual path must do it."""
        if self.executor is None or self.context is None or not self.live():
            return False
        result = self.context.run(self._execute, root)
        if inspect.isawaitable(result):
            try:
                result = await result
            except Exception:  # the usual path meets the same failure and reports it
                return False
            if not self.live():
                return False
        if not isinstance(result, GraphQLExecutionResult) or result.errors:
            return False
        try:
            await self.operation.send_next(ExecutionResult(data=result.data, errors=None))
        except Exception:  # a socket closing: the usual path reports it
            return False
        return True


def start(handler: BaseGraphQLTransportWSHandler[Any, Any], operation: Operation[Any, Any]) -> None:
    """Make ``operation`` a direct target within the current task (its operation task)."""
    _target.set(DirectTarget(handler, operation))


def adopt(executor: Executor) -> None:
    """Called by the executor of a subscription in its operation task: the target's
    events are executed with it, in (a copy of) this task's context variables."""
    target = _target.get()
    if (
        target is not None
        and target.executor is None
        and executor.operation.operation == OperationType.SUBSCRIPTION
    ):
        target.executor = executor
        target.context = contextvars.copy_context()


def current() -> DirectTarget | None:
    """The direct target of the subscription being resolved, if it has an executor."""
    target = _target.get()
    return target if target is not None and target.executor is not None else None
