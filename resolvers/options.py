"""Tenant options, stored per tenant, and the security token settings read from them.

Values are checked against the table of known options (``resolvers/known_options.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.options import TenantOption
from resolvers import known_options
from resolvers.known_options import MAX_FAILED_ATTEMPTS, SECURITY_TOKEN_POLICY, KnownOption
from resolvers.page_numbers import NumberedPage, PageRequest, numbered_page
from resolvers.permissions import Actor, Permission
from resolvers.token_policy import DEFAULT_POLICY, SecurityTokenPolicy


def _storable_name(text: str) -> bool:
    """Whether an option category or key of this length can exist (else: nothing to find)."""
    return 1 <= len(text) <= known_options.OPTION_NAME_MAX


async def get_option(actor: Actor, category: str, key: str) -> TenantOption | None:
    actor.require(Permission.OPTION_MANAGEMENT_READ)
    if not (_storable_name(category) and _storable_name(key)):
        return None
    return await TenantOption.get_or_none(tenant_id=actor.tenant_id, category=category, key=key)


async def list_options(actor: Actor, category: str | None = None) -> list[TenantOption]:
    actor.require(Permission.OPTION_MANAGEMENT_READ)
    if category is not None and not _storable_name(category):
        return []
    query = TenantOption.filter(tenant_id=actor.tenant_id)
    if category is not None:
        query = query.filter(category=category)
    return await query.order_by("category", "key")


async def set_option(actor: Actor, category: str, key: str, value: str) -> TenantOption:
    """Store an option of the caller's tenant, replacing any earlier value.

    Known options are validated (API.md §5.7) and raise ``InvalidOption``.
    """
    actor.require(Permission.OPTION_MANAGEMENT_ADMIN)
    known_options.check_option(category, key, value)
    match = TenantOption.filter(tenant_id=actor.tenant_id, category=category, key=key)
    if not await match.update(value=value, updated_at=datetime.now(UTC)):
        try:
            # Its own (nested: savepoint) transaction, so a lost race leaves the caller's usable.
            async with in_transaction():
                return await TenantOption.create(
                    tenant_id=actor.tenant_id, category=category, key=key, value=value
                )
        except IntegrityError:
            # A concurrent call inserted it first; last writer wins, as with updates.
            await match.update(value=value, updated_at=datetime.now(UTC))
    return await match.get()


async def option_page(
    actor: Actor, request: PageRequest, category: str | None = None
) -> NumberedPage[TenantOption]:
    """A numbered page of the tenant's options by category and key (``GET /tenant/options``)."""
    actor.require(Permission.OPTION_MANAGEMENT_READ)
    query = TenantOption.filter(tenant_id=actor.tenant_id)
    if category is not None:
        query = query.filter(category=category)
    return await numbered_page(query.order_by("category", "key"), request)


async def set_category(actor: Actor, category: str, values: dict[str, str]) -> list[TenantOption]:
    """Store several options of one category, all or nothing; returns the whole category.

    Every value is checked against the option table before anything is written,
    so one refused value (``InvalidOption``) leaves every option as it was.
    """
    actor.require(Permission.OPTION_MANAGEMENT_ADMIN)
    for key, value in values.items():
        known_options.check_option(category, key, value)
    async with in_transaction():
        for key, value in values.items():
            await set_option(actor, category, key, value)
    return await list_options(actor, category)


async def delete_option(actor: Actor, category: str, key: str) -> bool:
    """Delete an option of the caller's tenant; ``False`` when there was none.

    A deleted known option falls back to its default (the table's ``default``).
    """
    actor.require(Permission.OPTION_MANAGEMENT_ADMIN)
    if not (_storable_name(category) and _storable_name(key)):
        return False  # no option can have such a name
    deleted = await TenantOption.filter(
        tenant_id=actor.tenant_id, category=category, key=key
    ).delete()
    return bool(deleted)


async def security_token_policy(actor: Actor) -> SecurityTokenPolicy:
    """The policy in force for this caller: OPTIONAL when it may not read options."""
    if not actor.can(Permission.OPTION_MANAGEMENT_READ):
        return DEFAULT_POLICY
    return await tenant_policy(actor.tenant_id)


async def _stored(tenant_id: str, option: KnownOption) -> str | None:
    values = await TenantOption.filter(
        tenant_id=tenant_id, category=option.category, key=option.key
    ).values_list("value", flat=True)
    return str(values[0]) if values else None


async def tenant_policy(tenant_id: str) -> SecurityTokenPolicy:
    """The tenant's policy option as stored (its default when absent)."""
    return known_options.security_token_policy(await _stored(tenant_id, SECURITY_TOKEN_POLICY))


async def max_failed_attempts(tenant_id: str) -> int:
    """How many wrong tokens block a registration (the option, or its default)."""
    return known_options.max_failed_attempts(await _stored(tenant_id, MAX_FAILED_ATTEMPTS))
