"""Device groups (the tenant's inventory), nested through ``parent``."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from models.tenants import Tenant


class Group(Model):
    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="groups", on_delete=fields.CASCADE
    )
    tenant_id: str
    name = fields.CharField(max_length=255)
    parent: fields.ForeignKeyNullableRelation[Group] = fields.ForeignKeyField(
        "models.Group", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    parent_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "groups"
        # Keyset pagination of a tenant's groups walks this index.
        indexes = (("tenant_id", "id"),)
