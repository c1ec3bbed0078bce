"""Device registrations: one row per device ID, unique across the platform."""

from __future__ import annotations

import enum

from tortoise import fields
from tortoise.models import Model

from models.groups import Group
from models.tenants import Tenant


class RegistrationStatus(enum.Enum):
    WAITING_FOR_CONNECTION = "WAITING_FOR_CONNECTION"
    PENDING_ACCEPTANCE = "PENDING_ACCEPTANCE"
    ACCEPTED = "ACCEPTED"
    BLOCKED = "BLOCKED"


class Registration(Model):
    """A device ID an operator registered, and how far the device got.

    ``token_hash`` is the argon2 hash of the security token the device presented
    at first contact; ``device_password_hash`` the SHA-256 of the generated
    device password (a random 128-bit secret). Neither ever leaves the server.
    """

    device_id = fields.CharField(primary_key=True, max_length=255)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="registrations", on_delete=fields.CASCADE
    )
    tenant_id: str
    group: fields.ForeignKeyNullableRelation[Group] = fields.ForeignKeyField(
        "models.Group", related_name="registrations", null=True, on_delete=fields.SET_NULL
    )
    group_id: int | None
    status = fields.CharEnumField(RegistrationStatus, max_length=32)
    owner = fields.CharField(max_length=100)
    uses_token = fields.BooleanField(default=False)
    token_hash = fields.CharField(max_length=255, null=True)
    failed_attempts = fields.IntField(default=0)
    blocked_reason = fields.CharField(max_length=255, null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    connected_at = fields.DatetimeField(null=True)
    accepted_at = fields.DatetimeField(null=True)
    accepted_by = fields.CharField(max_length=100, null=True)
    credentials_delivered_at = fields.DatetimeField(null=True)
    device_username = fields.CharField(max_length=300, null=True)
    device_password_hash = fields.CharField(max_length=64, null=True)
    # The last time a broker or gateway callback accepted the device's credentials,
    # written at most once a minute (``resolvers/device_logins.py``).
    last_authenticated_at = fields.DatetimeField(null=True)
    #: The client address of the first contact (API.md §9.6), shown before acceptance.
    connected_from = fields.CharField(max_length=100, null=True)
    #: When a poll after delivery last wrote CREDENTIALS_REQUESTED_AGAIN (once an hour at most).
    credentials_requested_again_at = fields.DatetimeField(null=True)

    class Meta:
        table = "registrations"
        indexes = (
            # The registration list, filtered by status, keyset-paginated by id.
            ("tenant_id", "status", "device_id"),
            ("tenant_id", "device_id"),
            ("group_id", "device_id"),
        )
