"""Tenant options and the security token policy read from them."""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError

from models.options import TenantOption
from resolvers import validation
from resolvers.permissions import Actor, Permission
from resolvers.token_policy import (
    DEFAULT_MAX_FAILED_ATTEMPTS,
    DEFAULT_POLICY,
    MAX_FAILED_ATTEMPTS_KEY,
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
    return await tenant_policy(actor.tenant_id)


async def _option_value(tenant_id: str, key: str) -> str | None:
    values = await TenantOption.filter(
        tenant_id=tenant_id, category=OPTION_CATEGORY, key=key
    ).values_list("value", flat=True)
    return str(values[0]) if values else None


async def tenant_policy(tenant_id: str) -> SecurityTokenPolicy:
    """The tenant's policy option as stored (OPTIONAL when absent)."""
    value = await _option_value(tenant_id, POLICY_KEY)
    return SecurityTokenPolicy(value) if value else DEFAULT_POLICY


async def max_failed_attempts(tenant_id: str) -> int:
    """How many wrong tokens block a registration (option, default 5)."""
    value = await _option_value(tenant_id, MAX_FAILED_ATTEMPTS_KEY)
    return int(value) if value else DEFAULT_MAX_FAILED_ATTEMPTS
