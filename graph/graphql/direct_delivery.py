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

from graph.graphql.errors import ClientErrors

if TYPE_CHECKING:
    from graphql.execution import Executor
    from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
        BaseGraphQLTransportWSHandler,
        Operation,
    )

#: Extensions whose ``on_stream_result`` changes only a result's errors (none here).
_ERRORS_ONLY_ON_STREAM = frozenset({ClientErrors})

#: The attribute of a root value that keeps its encoded messages (graph/graphql/events.py).
SHARED_MESSAGES_ATTRIBUTE = "shared_messages"

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
        socket = getattr(handler.websocket, "ws", None)
        self.socket = socket if isinstance(socket, WebSocket) else None
        self.executor: Executor | None = None
        self.context: contextvars.Context | None = None
        #: Where this subscription's message of an event is kept among the event's
        #: messages: its shared result's key and its operation id (None: not shared).
        self.message_key: tuple[object, str] | None = None

    def adopt(self, executor: Executor) -> None:
        self.executor = executor
        self.context = contextvars.copy_context()
        # The shared key depends on the operation, its variables and the connection's
        # actor, all fixed by now (shared_execution.py).
        shared_key = getattr(executor, "shared_key", None)
        key = shared_key() if shared_key is not None else None
        self.message_key = None if key is None else (key, self.operation.id)

    def live(self) -> WebSocket | None:
        """The operation's socket, while the usual path would still send to it."""
        operation = self.operation
        socket = self.socket
        if (
            operation.completed
            or self.handler.operations.get(operation.id) is not operation
            or socket is None
            or socket.application_state is not WebSocketState.CONNECTED
            or socket.client_state is not WebSocketState.CONNECTED
        ):
            return None
        return socket

    def _execute(self, root: object) -> Any:
        assert self.executor is not None
        return self.executor.build_per_event_executor(root).execute_operation(False)

    async def deliver(self, root: object) -> bool:
        """Send the ``next`` message of the event whose root value is ``root``, as the
        usual path would; False (nothing sent) where the usual path must do it."""
        socket = self.live()
        if self.executor is None or socket is None:
            return False
        # Subscribers that share a result and an operation id (clients number their
        # operations from 1) get the same text: it is made once per event.
        key = self.message_key
        messages = getattr(root, SHARED_MESSAGES_ATTRIBUTE, None) if key is not None else None
        found = messages.get(key) if messages is not None else None
        if found is None:
            found = await self._message(root)
            if found is None:
                return False
            if messages is not None:
                messages[key] = found
        try:
            # As strawberry's ASGIWebSocketAdapter.send_json sends an encoded message.
            if isinstance(found, bytes):
                await socket.send_bytes(found)
            else:
                await socket.send_text(found)
        except Exception:  # a socket closing: the usual path reports it
            return False
        return True

    async def _message(self, root: object) -> str | bytes | None:
        """The encoded ``next`` message strawberry would send for ``root``; None when the
        result is not one it sends unchanged (or the subscription ended meanwhile)."""
        assert self.context is not None
        result = self.context.run(self._execute, root)
        if inspect.isawaitable(result):
            try:
                result = await result
            except Exception:  # the usual path meets the same failure and reports it
                return None
            if self.live() is None:
                return None
        if not isinstance(result, GraphQLExecutionResult) or result.errors:
            return None
        # What Operation.send_next builds from strawberry's ExecutionResult(data, errors=None)
        # with no extensions, encoded as the handler's send_message encodes it.
        message = {"id": self.operation.id, "type": "next", "payload": {"data": result.data}}
        return self.handler.view.encode_json(message)


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
        target.adopt(executor)


def current() -> DirectTarget | None:
    """The direct target of the subscription being resolved, if it has an executor."""
    target = _target.get()
    return target if target is not None and target.executor is not None else None
