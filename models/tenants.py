"""Tenants and their users."""

from tortoise import fields
from tortoise.models import Model


class Tenant(Model):
    """A tenant: the management tenant (``id == "management"``) or one of its subtenants.

    The id alone says which: ``Actor.is_management`` reads it, and nothing else does.
    """

    id = fields.CharField(primary_key=True, max_length=32)
    name = fields.CharField(max_length=128)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "tenants"


class User(Model):
    """A person or machine that logs in as ``tenant/username``.

    ``password_hash`` is an argon2 hash; ``permissions`` a list of permission names.
    """

    id = fields.IntField(primary_key=True)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name="users", on_delete=fields.CASCADE
    )
    tenant_id: str
    username = fields.CharField(max_length=64)
    password_hash = fields.CharField(max_length=255)
    permissions: fields.Field[list[str]] = fields.JSONField(default=list)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "users"
        unique_together = (("tenant", "username"),)
