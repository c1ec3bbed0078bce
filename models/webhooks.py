"""Webhooks: where a tenant's events are pushed, and how far each delivery got."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.tenants import Tenant


class Webhook(Model):
    """A receiver of a tenant's events (API.md §10.1) and its delivery cursor.

    ``secret`` is the signing key (``whsec_...``) in the clear: an HMAC signature
    needs the key itself, so it cannot be kept as a hash. ``after_seq`` is the
    ``seq`` of the last event of the tenant's log that is done with (delivered, or
    not of ``kinds``). ``lease_owner`` and ``lease_until`` name the one process
    delivering for this webhook at a time.
    """

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="webhooks", on_delete=fields.CASCADE
    )
    tenant_id: str
    url = fields.CharField(max_length=2048)
    #: Event kind names delivered (none: every kind).
    kinds: fields.Field[list[str]] = fields.JSONField(default=list)
    description = fields.CharField(max_length=1000, null=True)
    secret = fields.CharField(max_length=128)
    created_at = fields.DatetimeField()
    after_seq = fields.BigIntField(default=0)
    last_delivered_at = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=1000, null=True)
    failing_since = fields.DatetimeField(null=True)
    #: Failed attempts in a row at the event after ``after_seq``.
    failures = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    lease_owner = fields.CharField(max_length=64, null=True)
    lease_until = fields.DatetimeField(null=True)

    class Meta:
        table = "webhooks"
        indexes = (("tenant_id", "id"),)
