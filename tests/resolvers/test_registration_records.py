"""Registration records read what model objects read: every column, in every state, same types.

``resolvers/registration_records.py`` reads pages of registrations without
model objects and converts only the columns a backend's driver does not
already return as Python values; a conversion skipped wrongly would show as a
different value or type here (a timestamp as text on SQLite, a status as a
string, a boolean as an integer).
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from models.registrations import Registration, RegistrationStatus
from resolvers.registration_records import FIELDS, RegistrationRecord, read_records
from tests.kit.clients import GraphQLClient
from tests.kit.devices import poll
from tests.kit.groups import create_group
from tests.kit.registrations import accept, register


async def test_records_hold_what_model_objects_hold(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    group = await create_group(admin, "Records")
    await register(
        admin,
        {"id": "rec-waiting"},
        {"id": "rec-grouped", "groupId": group},
        {"id": "rec-pending"},
        {"id": "rec-accepted", "groupId": group},
        {"id": "rec-blocked"},
    )
    for device_id in ("rec-pending", "rec-accepted", "rec-blocked"):
        assert (await poll(http, device_id, token="a-token")).status_code == 404
    assert (await accept(admin, "rec-accepted", "a-token"))["__typename"] == "Registration"
    assert (await poll(http, "rec-accepted", token="a-token")).status_code == 201
    await Registration.filter(device_id="rec-blocked").update(
        status=RegistrationStatus.BLOCKED,
        blocked_reason="too many wrong tokens",
        failed_attempts=5,
        last_authenticated_at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        credentials_requested_again_at=datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC),
    )
    query = Registration.filter(device_id__startswith="rec-").order_by("device_id")

    records = await read_records(query)
    models = [RegistrationRecord(*(getattr(m, name) for name in FIELDS)) for m in await query]

    assert len(records) == 5
    assert records == models
    for record, model in zip(records, models, strict=True):
        assert [type(v) for v in record] == [type(v) for v in model], record.device_id
        assert [v.tzinfo for v in record if isinstance(v, datetime)] == [
            v.tzinfo for v in model if isinstance(v, datetime)
        ]
    accepted = next(r for r in records if r.device_id == "rec-accepted")
    assert accepted.status is RegistrationStatus.ACCEPTED
    assert accepted.uses_token is True
    assert accepted.credentials_delivered_at is not None
    assert accepted.group_id == int(group)
    assert await read_records(query.filter(device_id="none")) == []
