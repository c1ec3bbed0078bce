"""The shape of websocket messages, checked before a protocol handler reads them.

strawberry's handlers index into each message as the protocol describes it; a
message of another shape (a JSON array, an ``id`` that is a number, a
``payload`` that is a string) raised inside them, and the socket died with
1006/1011 instead of the protocol's answer. Each message is checked here
first, and one that does not fit closes the socket with 4400 naming what is
wrong (API.md §9.6).
"""

from __future__ import annotations

from collections.abc import Mapping

#: Message types of ``graphql-transport-ws`` that carry an operation ``id``.
_TRANSPORT_WITH_ID = {"subscribe", "complete"}
#: Message types of the legacy ``graphql-ws`` that carry an operation ``id``.
_LEGACY_WITH_ID = {"start", "stop"}
#: Message types with an operation payload (``{"query", "variables", "operationName"}``).
_OPERATIONS = {"subscribe", "start"}


def _optional(payload: Mapping[str, object], key: str, kind: type | tuple[type, ...]) -> bool:
    value = payload.get(key)
    return value is None or isinstance(value, kind)


def operation_payload_problem(payload: object) -> str | None:
    if not isinstance(payload, dict):
        return "the payload of an operation must be an object"
    if not isinstance(payload.get("query"), str):
        return "the payload of an operation must have a query string"
    if not _optional(payload, "variables", dict):
        return "variables must be an object"
    if not _optional(payload, "operationName", str):
        return "operationName must be a string"
    if not _optional(payload, "extensions", dict):
        return "extensions must be an object"
    return None


def message_problem(message: object, *, legacy: bool) -> str | None:
    """Why ``message`` cannot be handled, or ``None`` when it has the protocol's shape."""
    if not isinstance(message, dict):
        return "a message must be a JSON object"
    kind = message.get("type")
    if not isinstance(kind, str):
        return "a message must have a type string"
    with_id = _LEGACY_WITH_ID if legacy else _TRANSPORT_WITH_ID
    if kind in with_id:
        operation_id = message.get("id")
        if not isinstance(operation_id, str) or not operation_id:
            return f"a {kind} message must have a non-empty id string"
        if len(operation_id) > 256:
            return "an operation id may have at most 256 characters"
    if kind in _OPERATIONS:
        return operation_payload_problem(message.get("payload"))
    if kind == "connection_init" and not _optional(message, "payload", dict):
        return "the connection_init payload must be an object"
    return None
