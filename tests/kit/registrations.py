"""An operator's side of device registration: register, accept, and read registrations back."""

from __future__ import annotations

from typing import Any

from models.events import RegistrationEvent
from tests.kit.clients import GraphQLClient
from tests.kit.documents import (
    ACCEPT,
    ACCEPT_ALL,
    REGISTER,
    REGISTERED_IDS,
    REGISTRATION,
    REGISTRATIONS,
)


async def register(client: GraphQLClient, *devices: dict[str, Any]) -> dict[str, Any]:
    """The ``register`` result (``RegisterSuccess`` or ``RegisterFailure``) for ``devices``."""
    result: dict[str, Any] = (await client.data(REGISTER, devices=list(devices)))["register"]
    return result


async def accept(client: GraphQLClient, device_id: str, token: str | None = None) -> dict[str, Any]:
    """The ``accept`` result for ``device_id``, typed ``token`` (if any) included."""
    result: dict[str, Any] = (await client.data(ACCEPT, id=device_id, token=token))["accept"]
    return result


async def accept_all(client: GraphQLClient) -> dict[str, Any]:
    """The ``acceptAll`` result for ``client``'s tenant."""
    result: dict[str, Any] = (await client.data(ACCEPT_ALL))["acceptAll"]
    return result


async def state(client: GraphQLClient, device_id: str) -> dict[str, Any]:
    """The ``registration`` of ``device_id``, as ``client`` sees it."""
    found: dict[str, Any] = (await client.data(REGISTRATION, id=device_id))["registration"]
    return found


async def listing(client: GraphQLClient, **arguments: Any) -> dict[str, Any]:
    """The ``registrations`` connection for ``arguments`` (status, groupId, first, after)."""
    connection: dict[str, Any] = (await client.data(REGISTRATIONS, **arguments))["registrations"]
    return connection


def ids(connection: dict[str, Any]) -> list[str]:
    """The registration ids of a ``registrations`` connection, in order."""
    return [edge["node"]["id"] for edge in connection["edges"]]


async def registered_ids(client: GraphQLClient) -> list[str]:
    """Every registration id of ``client``'s tenant; asserts ``totalCount`` agrees."""
    connection = (await client.data(REGISTERED_IDS))["registrations"]
    found = [edge["node"]["id"] for edge in connection["edges"]]
    assert connection["totalCount"] == len(found)
    return found


def assert_mismatch(result: dict[str, Any], failed: int, left: int) -> None:
    """``result`` is a ``SecurityTokenMismatch`` with these attempt counts."""
    assert result["__typename"] == "SecurityTokenMismatch", result
    assert result["code"] == "SECURITY_TOKEN_MISMATCH"
    assert (result["failedAttempts"], result["attemptsLeft"]) == (failed, left)


async def event_kinds(device_id: str) -> list[str]:
    """The kinds of the events logged for ``device_id``, oldest first (read from the table)."""
    rows = await RegistrationEvent.filter(device_id=device_id).order_by("seq")
    return [row.kind.value for row in rows]
