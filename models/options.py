"""Tenant options: free-form ``category``/``key`` → ``value`` settings of a tenant."""

from tortoise import fields
from tortoise.models import Model

from models.tenants import Tenant


class TenantOption(Model):
    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="options", on_delete=fields.CASCADE
    )
    tenant_id: str
    category = fields.CharField(max_length=128)
    key = fields.CharField(max_length=128)
    value = fields.TextField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "tenant_options"
        unique_together = (("tenant", "category", "key"),)
