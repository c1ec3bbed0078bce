"""Authentication of GraphQL over websockets (API.md §1).

Credentials come from the ``connection_init`` payload's ``Authorization`` where
it has one, otherwise from the upgrade request's ``Authorization`` header (what
a browser logged in to GraphiQL sends). ``graphql-transport-ws`` closes with
4401 for missing or wrong credentials, 4403 without DEVICE_CONTROL_READ and
4429 while the client's address is throttled for failed logins (API.md §9.2),
before ``connection_ack``; the legacy ``graphql-ws`` answers ``connection_error``.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, cast

from graphql import GraphQLError
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import (
    NonJsonMessageReceived,
    NonTextMessageReceived,
    WebSocketDisconnected,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import (
    ConnectionInitMessage as LegacyInitMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.types import OperationMessage
from strawberry.types.unset import UnsetType

from graph.graphql import direct_delivery
from graph.graphql.context import Context
from graph.graphql.ws_messages import message_problem
from graph.http.logins import authenticate_header
from resolvers.errors import Throttled
from resolvers.permissions import Permission

UNAUTHORIZED = 4401
FORBIDDEN = 4403
#: Too many failed logins from the client's address (API.md §9.2); the reason says when to retry.
TOO_MANY_REQUESTS = 4429
BAD_REQUEST = 4400
INIT_TIMEOUT = 4408
#: How long a legacy ``graphql-ws`` socket may stay open without ``connection_init``
#: (``graphql-transport-ws`` has the same wait, set on the view).
CONNECTION_INIT_SECONDS = 10.0


class WebSocketRejected(ConnectionRejectionError):
    def __init__(self, close_code: int, reason: str) -> None:
        super().__init__({"message": reason, "code": close_code})
        self.close_code = close_code
        self.reason = reason


def _header_from_payload(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return None
    for key, value in payload.items():
        if isinstance(key, str) and key.lower() == "authorization" and isinstance(value, str):
            return value
    return None


async def authenticate_websocket(context: Context, payload: Any) -> None:
    """Set ``context.actor`` from the init payload or the upgrade header, or raise."""
    header = _header_from_payload(payload) or context.request.headers.get("authorization")
    client_address = context.request.scope.get("state", {}).get("client_address")
    try:
        actor = await authenticate_header(context.authenticator, header, client_address)
    except Throttled as throttled:
        raise WebSocketRejected(
            TOO_MANY_REQUESTS, f"Too many failed logins; retry after {throttled.retry_after} s"
        ) from None
    if actor is None:
        raise WebSocketRejected(UNAUTHORIZED, "Unauthorized")
    if not actor.can(Permission.DEVICE_CONTROL_READ):
        raise WebSocketRejected(FORBIDDEN, "Forbidden")
    context.actor = actor


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    async def handle_message(self, message: Message) -> None:
        problem = message_problem(message, legacy=False)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        # This is the operation's own task: its live events may be sent to it directly.
        if getattr(self.view, "direct_delivery", False):
            direct_delivery.start(self, operation)
        await super().run_operation(operation)

    @staticmethod
    def _get_pre_execution_close_reason(error: GraphQLError) -> str | None:
        # A document over the token limit is refused for its operation alone (API.md §9.6):
        # an error message for that id, the socket and its other operations go on.
        if "Parsing aborted" in error.message:
            return None
        return BaseGraphQLTransportWSHandler._get_pre_execution_close_reason(error)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload")
        if payload is None:
            # GraphiQL sends an empty connection_init; credentials then come from the upgrade.
            message = {"type": "connection_init", "payload": {}}
            payload = {}
        if isinstance(payload, dict) and not self.connection_init_received:
            try:
                await authenticate_websocket(self.context, payload)
            except WebSocketRejected as rejected:
                if self.connection_init_timeout_task:
                    self.connection_init_timeout_task.cancel()
                await self.websocket.close(code=rejected.close_code, reason=rejected.reason)
                return
        await super().handle_connection_init(message)


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """The legacy ``graphql-ws`` protocol, with what strawberry's handler lacks: a socket
    that sends no ``connection_init`` within 10 seconds is closed (4408), and a message
    that is not JSON or not of the protocol's shape closes it with 4400."""

    async def handle(self) -> None:
        timeout = asyncio.create_task(self._close_without_init())
        try:
            try:
                async for message in self.websocket.iter_json():
                    await self.handle_message(cast(OperationMessage, message))
            except NonTextMessageReceived:
                await self.websocket.close(BAD_REQUEST, "WebSocket message type must be text")
            except NonJsonMessageReceived:
                await self.websocket.close(BAD_REQUEST, "WebSocket message must be valid JSON")
        except WebSocketDisconnected:
            pass
        finally:
            timeout.cancel()
            if self.keep_alive_task:
                self.keep_alive_task.cancel()
                with contextlib.suppress(BaseException):
                    await self.keep_alive_task
            await self.cleanup()

    async def _close_without_init(self) -> None:
        await asyncio.sleep(CONNECTION_INIT_SECONDS)
        if not self.connection_acknowledged:
            with contextlib.suppress(Exception):
                await self.websocket.close(INIT_TIMEOUT, "Connection initialisation timeout")

    async def handle_connection_init(self, message: LegacyInitMessage) -> None:
        # As strawberry's, but a refused login closes with 4401/4403 like
        # graphql-transport-ws, not with 1011 (which says the server failed).
        self.context.connection_params = message.get("payload")
        try:
            ack_payload = await self.view.on_ws_connect(self.context)
        except WebSocketRejected as rejected:
            await self.send_message({"type": "connection_error", "payload": rejected.payload})
            await self.websocket.close(code=rejected.close_code, reason=rejected.reason)
            return
        if ack_payload is None or isinstance(ack_payload, UnsetType):
            await self.send_message({"type": "connection_ack"})
        else:
            await self.send_message({"type": "connection_ack", "payload": ack_payload})
        self.connection_acknowledged = True
        if self.keep_alive:
            self.keep_alive_task = asyncio.create_task(self.handle_keep_alive())

    async def handle_message(self, message: OperationMessage) -> None:
        problem = message_problem(message, legacy=True)
        if problem is not None:
            await self.websocket.close(BAD_REQUEST, problem)
            return
        await super().handle_message(message)
