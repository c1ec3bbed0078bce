"""Tenant options and the security token policy read from them."""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError

from models.options import TenantOption
from resolvers import validation
from resolvers.permissions import Actor, Permission
from resolvers.token_policy import (
    DEFAULT_POLICY,
    OPTION_CATEGORY,
    POLICY_KEY,
    SecurityTokenPolicy,
)


async def get_option(actor: Actor, category: str, key: str) -> TenantOption | None:
    actor.require(Permission.OPTION_MANAGEMENT_READ)
    return await TenantOption.get_or_none(tenant_id=actor.tenant_id, category=category, key=key)


async def list_options(actor: Actor, category: str | None = None) -> list[TenantOption]:
    actor.require(Permission.OPTION_MANAGEMENT_READ)
    query = TenantOption.filter(tenant_id=actor.tenant_id)
    if category is not None:
        query = query.filter(category=category)
    return await query.order_by("category", "key")


async def set_option(actor: Actor, category: str, key: str, value: str) -> TenantOption:
    """Store an option of the caller's tenant, replacing any earlier value.

    Known options are validated (API.md §5.7) and raise ``InvalidOption``.
    """
    actor.require(Permission.OPTION_MANAGEMENT_ADMIN)
    validation.tenant_option(category, key, value)
    match = TenantOption.filter(tenant_id=actor.tenant_id, category=category, key=key)
    if not await match.update(value=value, updated_at=datetime.now(UTC)):
        try:
            return await TenantOption.create(
                tenant_id=actor.tenant_id, category=category, key=key, value=value
            )
        except IntegrityError:
            # A concurrent call inserted it first; last writer wins, as with updates.
            await match.update(value=value, updated_at=datetime.now(UTC))
    return await match.get()


async def security_token_policy(actor: Actor) -> SecurityTokenPolicy:
    """The policy in force for this caller: OPTIONAL when it may not read options."""
    if not actor.can(Permission.OPTION_MANAGEMENT_READ):
        return DEFAULT_POLICY
    value = await TenantOption.filter(
        tenant_id=actor.tenant_id, category=OPTION_CATEGORY, key=POLICY_KEY
    ).values_list("value", flat=True)
    return SecurityTokenPolicy(value[0]) if value else DEFAULT_POLICY
