"""Writing the registration event log (API.md §5.8).

Every change to a registration runs in a transaction that first calls
:func:`lock_tenant_log` and then appends its events. The lock (the tenant's row,
``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite serialises writers anyway) is
held until commit, so within a tenant event ``seq`` values are assigned and
committed in the same order: a reader that has seen ``seq`` N can never later
find a smaller one appear. The same lock makes every read-check-write of a
tenant's registrations safe, which is why the service takes it before reading.
"""

from __future__ import annotations

from datetime import datetime

from models.events import RegistrationEvent, RegistrationEventKind
from models.registrations import Registration, RegistrationStatus
from models.tenants import Tenant
from resolvers.errors import InvalidInput
from resolvers.pagination import Page, decode_cursor, encode_cursor, page_size
from resolvers.permissions import Actor, Permission


async def lock_tenant_log(tenant_id: str) -> None:
    """Serialise this transaction with every other change to the tenant's registrations."""
    # Not .values_list(): Tortoise drops FOR UPDATE from it. .only() keeps it.
    await Tenant.filter(id=tenant_id).select_for_update().only("id")


def new_event(
    tenant_id: str,
    device_id: str,
    kind: RegistrationEventKind,
    *,
    status: RegistrationStatus | None,
    previous_status: RegistrationStatus | None,
    actor: str | None,
    at: datetime,
) -> RegistrationEvent:
    return RegistrationEvent(
        tenant_id=tenant_id,
        device_id=device_id,
        kind=kind,
        status=status,
        previous_status=previous_status,
        actor=actor,
        at=at,
    )


async def append(*events: RegistrationEvent) -> None:
    """Insert events in one statement (inside the caller's locked transaction)."""
    if len(events) == 1:
        await events[0].save()
    elif events:
        await RegistrationEvent.bulk_create(list(events))


# ---------------------------------------------------------------- reading the log

CURSOR_KIND = "event"


def event_cursor(tenant_id: str, seq: int) -> str:
    """An opaque cursor naming one event of one tenant's log."""
    return encode_cursor(CURSOR_KIND, f"{tenant_id}:{seq}")


def parse_event_cursor(tenant_id: str, cursor: str) -> int:
    """The ``seq`` inside a cursor of ``tenant_id``'s log, or :class:`InvalidInput`."""
    owner, _, seq = decode_cursor(CURSOR_KIND, cursor).rpartition(":")
    if not seq.isascii() or not seq.isdigit():
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


async def events_after(tenant_id: str, seq: int, limit: int) -> list[RegistrationEvent]:
    """The tenant's events with a larger ``seq``, oldest first, at most ``limit``."""
    return await (
        RegistrationEvent.filter(tenant_id=tenant_id, seq__gt=seq).order_by("seq").limit(limit)
    )


async def list_events(
    actor: Actor, device_id: str | None, after: str | None, first: int | None
) -> Page[RegistrationEvent]:
    """The tenant's event log (audit trail), oldest first, optionally for one device."""
    actor.require(Permission.DEVICE_CONTROL_READ)
    size = page_size(first)
    query = RegistrationEvent.filter(tenant_id=actor.tenant_id)
    if device_id is not None:
        query = query.filter(device_id=device_id)
    if after is not None:
        query = query.filter(seq__gt=parse_event_cursor(actor.tenant_id, after))
    rows = await query.order_by("seq").limit(size + 1)
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
