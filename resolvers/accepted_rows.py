"""``acceptAll``'s writes: one UPDATE returning the rows, one INSERT of their events, and
the registrations of the answer built from those rows.

Accepting 10,000 registrations is bound by what is built per row, not by round
trips. Reading the candidates through the ORM and then updating them cost more
than twice the UPDATE itself: a SELECT of every column, and Tortoise's
``Model._init_from_db`` at about 20 µs a row (a ``to_python_value`` call for
each of six timestamps and the status) before anything was answered. Here the
UPDATE returns the rows it changed, with only the columns an answer can show
and the accept did not just set itself, and each becomes a partial
``Registration`` with one dictionary update: the driver has already given
Python values (asyncpg gives aware UTC datetimes), and the columns the accept
set (status, ``acceptedAt``, ``acceptedBy``, ``updatedAt``, the tenant) are the
same constants for every row. SQLite gives text and integers: its rows go
through the fields' own conversions, as the ORM would. The events' INSERT
(the database's work, as long as the UPDATE's) runs while the registrations are
built (this process's work).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, cast

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.fields import BooleanField, DatetimeField, Field

from models.registrations import Registration
from resolvers import events, lifecycle

#: The columns an answer can show that the accept leaves as they were. The secrets
#: (``token_hash``, ``device_username``, ``device_password_hash``) are never shown and not
#: read: the registrations built are partial models, which Tortoise refuses to save whole.
RETURNED = (
    "device_id",
    "group_id",
    "owner",
    "uses_token",
    "failed_attempts",
    "blocked_reason",
    "created_at",
    "connected_at",
    "credentials_delivered_at",
    "last_authenticated_at",
    "connected_from",
    "credentials_requested_again_at",
)


@cache
def _converted_fields() -> dict[str, Field[Any]]:
    """The returned columns whose SQLite value (text, 0/1) goes through its field's conversion.

    Read once the models are initialised (the foreign key columns exist only then)."""
    fields = Registration._meta.fields_map
    return {
        column: fields[column]
        for column in RETURNED
        if isinstance(fields[column], (DatetimeField, BooleanField))
    }


@cache
def _loaded_state() -> dict[str, Any]:
    """What ``Model._init_from_db`` sets on an instance read from the database, partially."""
    meta = Registration._meta
    return {
        "_partial": True,
        "_saved_in_db": True,
        "_custom_generated_pk": meta.db_pk_column not in meta.generated_db_fields,
    }


async def accept_pending(
    connection: BaseDBAsyncClient,
    tenant_id: str,
    uses_token: Sequence[bool],
    *,
    actor: str,
    at: datetime,
) -> list[Registration]:
    """Accept the tenant's pending registrations whose ``uses_token`` is one of ``uses_token``,
    and log an ACCEPTED event for each.

    Two statements, an UPDATE returning the rows and one INSERT of the events, whatever
    the number; the registrations come back in device id order (the database's order, as
    every listing's), as they now are, and the events are logged in that order.
    """
    accept = lifecycle.ACCEPT
    (pending,) = accept.sources
    assert accept.target is not None
    postgres = connection.capabilities.dialect == "postgres"
    params: list[Any] = []

    def mark(value: Any, cast: str = "") -> str:
        params.append(value)
        return f"${len(params)}{cast}" if postgres else "?"

    stamp = "::timestamptz"
    # Only constants and placeholders are formatted in; every value is a parameter.
    update = (
        f"UPDATE registrations SET status = {mark(accept.target.value)}, "  # noqa: S608
        f"accepted_at = {mark(at, stamp)}, accepted_by = {mark(actor)}, "
        f"updated_at = {mark(at, stamp)} "
        f"WHERE tenant_id = {mark(tenant_id)} AND status = {mark(pending.value)} "
        f"AND uses_token IN ({', '.join(mark(used) for used in uses_token)}) "
        f"RETURNING {', '.join(RETURNED)}"
    )
    # What every accepted row now holds, and Model._init_from_db's flags for a partial row.
    constants = {
        **_loaded_state(),
        "tenant_id": tenant_id,
        "status": accept.target,
        "accepted_at": at,
        "accepted_by": actor,
        "updated_at": at,
    }
    if postgres:
        # UPDATE ... RETURNING has no order; the database sorts, with its own collation.
        sql = (
            f"WITH accepted AS ({update}) "  # noqa: S608
            f"SELECT {', '.join(RETURNED)} FROM accepted ORDER BY device_id"
        )
        # Records, not dictionaries: each is read once, by position, into its registration.
        # (asyncpg's Records, which Tortoise's annotation calls dictionaries.)
        _, found_records = await connection.execute_query(sql, params)
        records = cast(list[Sequence[Any]], found_records)
        device_ids = [record[0] for record in records]
    else:
        found = await connection.execute_query_dict(update, params)
        # SQLite compares text byte by byte (BINARY), which is Python's order of str.
        found.sort(key=lambda row: row["device_id"])
        records = [_sqlite_record(row) for row in found]
        device_ids = [row["device_id"] for row in found]
    if not device_ids:
        return []
    # The events go to the database while this process builds the registrations: the
    # INSERT is sent (one yield lets it reach the socket, or aiosqlite's thread) before the
    # building starts, and awaited after it, so the two take the time of the longer.
    # Whatever happens here (a cancelled request included), the INSERT is awaited before
    # the transaction goes on or rolls back: the connection is never used twice at once.
    logged = asyncio.ensure_future(
        events.append_accepted(connection, tenant_id, device_ids, actor=actor, at=at)
    )
    try:
        await asyncio.sleep(0)
        accepted = [_registration(constants, record) for record in records]
    finally:
        await logged
    return accepted


def _registration(constants: dict[str, Any], record: Sequence[Any]) -> Registration:
    """A partial Registration as ``Model._init_from_db`` leaves one, without its per-field calls.

    ``record`` holds the RETURNED columns in their order.
    """
    registration = Registration.__new__(Registration)
    state = constants.copy()
    state["_await_when_save"] = {}
    state.update(zip(RETURNED, record, strict=True))
    # Past Model.__setattr__, which would look for relations among the attributes.
    object.__setattr__(registration, "__dict__", state)
    return registration


def _sqlite_record(row: dict[str, Any]) -> tuple[Any, ...]:
    """A row as SQLite gave it, as the ORM would convert it, in RETURNED's order."""
    for column, field in _converted_fields().items():
        row[column] = field.to_python_value(row[column])
    return tuple(row[column] for column in RETURNED)
