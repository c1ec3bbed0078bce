"""Registrations read for showing, as tuples instead of model objects.

Tortoise builds a model object per row through ``Model._init_from_db`` (an
attribute write per column, each through ``Model.__setattr__``): for a page of
500 registrations that was about a third of the request's time in the
profile, twice what reading the same rows with ``values_list`` costs. A page
is only shown, never changed or saved, so its rows are read as
:class:`RegistrationRecord`, a named tuple with the attribute names of the
model: whatever reads a page reads it as it read model objects.

Only the columns a caller may see are read; the secrets (``token_hash``,
``device_password_hash``, ``device_username``) stay in the database.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from tortoise.queryset import QuerySet

from models.registrations import Registration, RegistrationStatus


class RegistrationRecord(NamedTuple):
    device_id: str
    tenant_id: str
    group_id: int | None
    status: RegistrationStatus
    owner: str
    uses_token: bool
    failed_attempts: int
    blocked_reason: str | None
    created_at: datetime
    updated_at: datetime
    connected_at: datetime | None
    connected_from: str | None
    accepted_at: datetime | None
    accepted_by: str | None
    credentials_delivered_at: datetime | None
    last_authenticated_at: datetime | None
    credentials_requested_again_at: datetime | None


#: The model fields of a record, in its order.
FIELDS = RegistrationRecord._fields


async def read_records(query: QuerySet[Registration]) -> list[RegistrationRecord]:
    """The rows of ``query`` (its filters, order and limit) as records: the same values,
    converted by the ORM's fields as for a model object, one statement."""
    rows = await query.values_list(*FIELDS)
    make = RegistrationRecord._make
    return [make(row) for row in rows]
