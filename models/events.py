"""The append-only registration event log: the audit trail and the source of subscriptions."""

from __future__ import annotations

import enum

from tortoise import fields
from tortoise.models import Model

from models.registrations import RegistrationStatus
from models.tenants import Tenant


class RegistrationEventKind(enum.Enum):
    REGISTERED = "REGISTERED"
    CONNECTED = "CONNECTED"
    ACCEPTED = "ACCEPTED"
    TOKEN_REJECTED = "TOKEN_REJECTED"
    BLOCKED = "BLOCKED"
    CREDENTIALS_DELIVERED = "CREDENTIALS_DELIVERED"
    REMOVED = "REMOVED"
    CREDENTIALS_RESET = "CREDENTIALS_RESET"
    CREDENTIALS_REQUESTED_AGAIN = "CREDENTIALS_REQUESTED_AGAIN"


class RegistrationEvent(Model):
    """One change to one registration. ``seq`` strictly increases in commit order per tenant."""

    seq = fields.BigIntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="events", on_delete=fields.CASCADE
    )
    tenant_id: str
    device_id = fields.CharField(max_length=255)
    kind = fields.CharEnumField(RegistrationEventKind, max_length=32)
    status = fields.CharEnumField(RegistrationStatus, max_length=32, null=True)
    previous_status = fields.CharEnumField(RegistrationStatus, max_length=32, null=True)
    actor = fields.CharField(max_length=300, null=True)
    at = fields.DatetimeField()

    class Meta:
        table = "registration_events"
        indexes = (("tenant_id", "seq"), ("tenant_id", "device_id", "seq"))
