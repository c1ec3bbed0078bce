"""The registration event log (API.md §5.8): its lock, its writers, its readers.

Every change to a registration runs inside ``resolvers/changes.tenant_change``,
which first calls :func:`lock_tenant_log` and on leaving appends the change's
events. The lock (the tenant's row, ``SELECT ... FOR UPDATE`` on PostgreSQL;
SQLite serialises writers anyway) is held until commit, so within a tenant
event ``seq`` values are assigned and committed in the same order: a reader
that has seen ``seq`` N can never later find a smaller one appear. The same
lock makes every read-check-write of a tenant's registrations safe, which is
why the service takes it before reading.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import F

from models.events import RegistrationEvent
from models.registrations import Registration
from models.tenants import Tenant
from resolvers import lifecycle, validation
from resolvers.errors import InvalidInput
from resolvers.pagination import MAX_INT_CURSOR, Page, decode_cursor, encode_cursor, page_size
from resolvers.permissions import Actor, Permission


async def lock_tenant_log(tenant_id: str) -> None:
    """Serialise this transaction with every other change to the tenant's registrations."""
    tenant = Tenant.filter(id=tenant_id)
    if not Tenant._meta.db.capabilities.support_for_update:
        # SQLite: a write as the transaction's first statement takes the database's write
        # lock at once, waiting out another process's write within the busy timeout. A
        # read first would make the later write fail at once ("database is locked")
        # whenever another process wrote in between, whatever the timeout.
        await tenant.update(name=F("name"))
        return
    # Not .values_list(): Tortoise drops FOR UPDATE from it. .only() keeps it.
    await tenant.select_for_update().only("id")


async def append(*events: RegistrationEvent) -> None:
    """Insert events in one statement (inside the caller's locked transaction).

    Service functions record events through ``TenantChange.record``
    (``resolvers/changes.py``), which appends them here on leaving the change.
    """
    if len(events) == 1:
        await events[0].save()
    elif events:
        await RegistrationEvent.bulk_create(list(events))


_EVENTS_TABLE = "registration_events"
_EVENT_COLUMNS = "tenant_id, device_id, kind, status, previous_status, actor, at"


async def append_accepted(
    connection: BaseDBAsyncClient,
    tenant_id: str,
    device_ids: Sequence[str],
    *,
    actor: str,
    at: datetime,
) -> None:
    """An ACCEPTED event (from PENDING_ACCEPTANCE) for each of ``device_ids``, in their order.

    One ``INSERT ... SELECT`` over one array parameter (``unnest`` on PostgreSQL,
    ``json_each`` on SQLite): ``acceptAll`` logs thousands in one round trip.
    """
    accept = lifecycle.ACCEPT
    (pending,) = accept.sources
    assert accept.target is not None
    constants = [tenant_id, accept.kind.value, accept.target.value, pending.value, actor]
    # Only constants and placeholders are formatted in; every value is a parameter.
    if connection.capabilities.dialect == "postgres":
        sql = (
            f"INSERT INTO {_EVENTS_TABLE} ({_EVENT_COLUMNS}) "  # noqa: S608
            "SELECT $1, u.device_id, $2, $3, $4, $5, $6::timestamptz "
            "FROM unnest($7::text[]) WITH ORDINALITY AS u(device_id, n) ORDER BY u.n"
        )
        params: list[object] = [*constants, at, list(device_ids)]
    else:
        sql = (
            f"INSERT INTO {_EVENTS_TABLE} ({_EVENT_COLUMNS}) "  # noqa: S608
            "SELECT ?, value, ?, ?, ?, ?, ? FROM json_each(?) ORDER BY key"
        )
        params = [*constants, at, json.dumps(list(device_ids))]
    await connection.execute_query(sql, params)


# ---------------------------------------------------------------- reading the log

CURSOR_KIND = "event"


def event_cursor(tenant_id: str, seq: int) -> str:
    """An opaque cursor naming one event of one tenant's log."""
    return encode_cursor(CURSOR_KIND, f"{tenant_id}:{seq}")


def parse_event_cursor(tenant_id: str, cursor: str) -> int:
    """The ``seq`` inside a cursor of ``tenant_id``'s log, or :class:`InvalidInput`."""
    owner, _, seq = decode_cursor(CURSOR_KIND, cursor).rpartition(":")
    if not seq.isascii() or not seq.isdigit() or len(seq) > 19 or int(seq) > MAX_INT_CURSOR:
        raise InvalidInput(f"invalid event cursor {cursor[:60]!r}")
    if owner != tenant_id:
        raise InvalidInput("this event cursor belongs to another tenant's log")
    return int(seq)


async def latest_seq(tenant_id: str) -> int:
    """The ``seq`` of the tenant's newest committed event (0 when it has none)."""
    newest = (
        await RegistrationEvent.filter(tenant_id=tenant_id)
        .order_by("-seq")
        .limit(1)
        .values_list("seq", flat=True)
    )
    return int(str(newest[0])) if newest else 0


async def newest_cursor(tenant_id: str) -> str | None:
    """The cursor of the tenant's newest committed event; ``None`` while its log is empty.

    Read before a page of registrations (``RegistrationConnection.eventCursor``),
    so a client that subscribes ``after`` it misses nothing that the page lacks.
    """
    seq = await latest_seq(tenant_id)
    return event_cursor(tenant_id, seq) if seq else None


async def events_after(tenant_id: str, seq: int, limit: int) -> list[RegistrationEvent]:
    """The tenant's events with a larger ``seq``, oldest first, at most ``limit``."""
    return await (
        RegistrationEvent.filter(tenant_id=tenant_id, seq__gt=seq).order_by("seq").limit(limit)
    )


async def list_events(
    actor: Actor,
    device_id: str | None,
    after: str | None,
    first: int | None,
    *,
    newest_first: bool = False,
) -> Page[RegistrationEvent]:
    """The tenant's event log (audit trail), optionally for one device.

    Oldest first, or with ``newest_first`` newest first; either way ``after``
    continues the list in its own order (older events, when newest first).
    """
    actor.require(Permission.DEVICE_CONTROL_READ)
    size = page_size(first)
    query = RegistrationEvent.filter(tenant_id=actor.tenant_id)
    after_seq = parse_event_cursor(actor.tenant_id, after) if after is not None else None
    if device_id is not None:
        if validation.device_id_problem(device_id) is not None:
            return Page(items=[], has_next_page=False)  # no device has such an id
        query = query.filter(device_id=device_id)
    if after_seq is not None:
        query = query.filter(seq__lt=after_seq) if newest_first else query.filter(seq__gt=after_seq)
    rows = await query.order_by("-seq" if newest_first else "seq").limit(size + 1)
    return Page(items=rows[:size], has_next_page=len(rows) > size)


async def current_registrations(
    tenant_id: str, rows: list[RegistrationEvent]
) -> dict[str, Registration]:
    """The current registration of each device in ``rows``, in one query."""
    device_ids = {row.device_id for row in rows if row.status is not None}
    if not device_ids:
        return {}
    found = await Registration.filter(tenant_id=tenant_id, device_id__in=device_ids)
    return {r.device_id: r for r in found}
