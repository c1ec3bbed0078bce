"""Authentication of GraphQL over websockets (API.md §1).

Credentials come from the ``connection_init`` payload's ``Authorization`` where
it has one, otherwise from the upgrade request's ``Authorization`` header (what
a browser logged in to GraphiQL sends). ``graphql-transport-ws`` closes with
4401 for missing or wrong credentials, 4403 without DEVICE_CONTROL_READ and
4429 while the client's address is throttled for failed logins (API.md §9.2),
before ``connection_ack``; the legacy ``graphql-ws`` answers ``connection_error``.
"""

from __future__ import annotations

from typing import Any

from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage

from graph.graphql.context import Context
from graph.http.logins import authenticate_header
from resolvers.errors import Throttled
from resolvers.permissions import Permission

UNAUTHORIZED = 4401
FORBIDDEN = 4403
#: Too many failed logins from the client's address (API.md §9.2); the reason says when to retry.
TOO_MANY_REQUESTS = 4429


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
