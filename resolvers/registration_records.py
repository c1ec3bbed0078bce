"""Registrations read for showing, as tuples instead of model objects.

Tortoise builds a model object per row through ``Model._init_from_db`` (an
attribute write per column, each through ``Model.__setattr__``): for a page of
500 registrations that was about a third of the request's time in the
profile. ``values_list`` halves that, and still calls a converter for each
column of each row in a generator. A page is only shown, never changed or
saved, so its rows are read as :class:`RegistrationRecord`, a named tuple with
the attribute names of the model (whatever reads a page reads it as it read
model objects), by the statement ``values_list`` builds, with the same
conversions, done only where they do something: none for the columns the
driver already returns as Python values (Tortoise's ``db_native_fields`` of
the backend), none for a null timestamp, the field's time zone move alone for
an aware one, and a dictionary lookup for the status instead of an enum call.
``tests/resolvers/test_registration_records.py`` compares records with model
objects on both backends.

Only the columns a caller may see are read; the secrets (``token_hash``,
``device_password_hash``, ``device_username``) stay in the database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from tortoise import timezone
from tortoise.fields import DatetimeField
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


#: A status by its column value (what the status field's conversion returns, looked up).
STATUS_BY_VALUE = {status.value: status for status in RegistrationStatus}


def _status(value: Any) -> Any:
    found = STATUS_BY_VALUE.get(value)
    return (
        found
        if found is not None
        else Registration._meta.fields_map["status"].to_python_value(value)
    )


def _timestamp(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A timestamp field's conversion: a null stays null, and an aware datetime (what
    asyncpg returns) is moved to the configured time zone as the field's conversion does,
    without its per-value settings look-ups; anything else goes through the field."""
    use_tz, zone = timezone.get_use_tz(), timezone.get_default_timezone()

    def converted(value: Any) -> Any:
        if value is None:
            return None
        if use_tz and type(value) is datetime and value.utcoffset() is not None:
            return value.astimezone(zone)
        return convert(value)

    return converted


def _conversions() -> list[tuple[int, Callable[[Any], Any]]]:
    """(column, conversion) of each column the backend's driver does not return as it
    would be on a model; the backend is the one Tortoise was initialised with."""
    meta = Registration._meta
    native = {name for _, name, _ in meta.db_native_fields}
    conversions: list[tuple[int, Callable[[Any], Any]]] = []
    for column, name in enumerate(FIELDS):
        if name in native:
            continue
        field = meta.fields_map[name]
        if name == "status":
            conversions.append((column, _status))
        elif isinstance(field, DatetimeField):
            conversions.append((column, _timestamp(field.to_python_value)))
        else:
            conversions.append((column, field.to_python_value))
    return conversions


async def read_records(query: QuerySet[Registration]) -> list[RegistrationRecord]:
    """The rows of ``query`` (its filters, order and limit) as records: one statement, the
    one ``values_list`` sends, and the same values it would give."""
    values = query.values_list(*FIELDS)
    # What awaiting ``values`` does before it converts (``ValuesListQuery.__await__``): the
    # connection, the statement, built once.
    values._choose_db_if_not_chosen()
    values._make_query()
    statement, parameters = values.query.get_parameterized_sql()
    _, rows = await values._db.execute_query(statement, parameters)
    conversions = _conversions()
    make = RegistrationRecord._make
    records = []
    for row in rows:
        columns = list(row)
        for column, convert in conversions:
            columns[column] = convert(columns[column])
        records.append(make(columns))
    return records
