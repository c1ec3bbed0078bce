"""Tenants: first-start bootstrap and ``createTenant``. Users are in ``resolvers/users.py``."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.tenants import Tenant, User
from resolvers import validation
from resolvers.errors import AlreadyExists, Forbidden, InvalidInput
from resolvers.pagination import CountedPage, decode_cursor, page_size
from resolvers.passwords import generate_password, hash_password
from resolvers.permissions import (
    MANAGEMENT_ADMIN_PERMISSIONS,
    MANAGEMENT_TENANT,
    TENANT_ADMIN_PERMISSIONS,
    Actor,
    Permission,
    permission_names,
)

log = logging.getLogger(__name__)

ADMIN_USERNAME = "admin"
BOOTSTRAP_USERNAME = "devicebootstrap"
TENANT_CURSOR_KIND = "tenant"


@dataclass(frozen=True)
class GeneratedLogin:
    """A login created with a random password, to be shown to the operator once."""

    login: str
    password: str


async def bootstrap(
    admin_password: str | None, bootstrap_password: str | None
) -> list[GeneratedLogin]:
    """Create the management tenant, ``management/admin`` and ``management/devicebootstrap``.

    Does nothing for what already exists, so it runs at every start. A password
    from the environment is used as given (it must meet the password rules);
    otherwise one is generated and returned here, the only place it ever appears.
    """
    accounts = (
        (ADMIN_USERNAME, MANAGEMENT_ADMIN_PERMISSIONS, admin_password),
        (BOOTSTRAP_USERNAME, frozenset({Permission.DEVICE_BOOTSTRAP}), bootstrap_password),
    )
    for _, _, given in accounts:
        if given is not None:
            validation.password(given)
    generated: list[GeneratedLogin] = []
    try:
        async with in_transaction():
            await Tenant.get_or_create(id=MANAGEMENT_TENANT, defaults={"name": "Management"})
            for username, permissions, given in accounts:
                if await User.exists(tenant_id=MANAGEMENT_TENANT, username=username):
                    continue
                password = given or generate_password()
                await User.create(
                    tenant_id=MANAGEMENT_TENANT,
                    username=username,
                    password_hash=await hash_password(password),
                    permissions=permission_names(permissions),
                )
                log.info("created %s/%s", MANAGEMENT_TENANT, username)
                if given is None:
                    generated.append(GeneratedLogin(f"{MANAGEMENT_TENANT}/{username}", password))
    except IntegrityError:
        # Another process bootstrapped the same database at the same moment.
        log.info("management tenant was created by another process")
        return []
    return generated


async def create_tenant(actor: Actor, tenant_id: str, name: str, admin_password: str) -> Tenant:
    """Management tenant only: a new subtenant and its ``<id>/admin``.

    The admin gets every permission but TENANT_MANAGEMENT_ADMIN and DEVICE_BOOTSTRAP.
    """
    actor.require(Permission.TENANT_MANAGEMENT_ADMIN)
    if not actor.is_management:
        raise InvalidInput("only the management tenant can create tenants")
    validation.tenant_id(tenant_id)
    name = validation.display_name(name, "tenant name", 128)
    validation.password(admin_password)
    password_hash = await hash_password(admin_password)
    try:
        async with in_transaction():
            tenant = await Tenant.create(id=tenant_id, name=name)
            await User.create(
                tenant=tenant,
                username=ADMIN_USERNAME,
                password_hash=password_hash,
                permissions=permission_names(TENANT_ADMIN_PERMISSIONS),
            )
    except IntegrityError:
        raise AlreadyExists(f"tenant {tenant_id!r} already exists") from None
    log.info("%s created tenant %s", actor.name, tenant_id)
    return tenant


async def list_tenants(actor: Actor, first: int | None, after: str | None) -> CountedPage[Tenant]:
    """Every tenant of the platform by id, management tenant included (API.md §7).

    Only a management-tenant user with TENANT_MANAGEMENT_ADMIN may list them: the
    console's "Tenant" select for registering into a subtenant.
    """
    actor.require(Permission.TENANT_MANAGEMENT_ADMIN)
    if not actor.is_management:
        raise Forbidden("only the management tenant can list tenants")
    size = page_size(first)
    query = Tenant.all()
    total = await query.count()
    if after is not None:
        query = query.filter(id__gt=decode_cursor(TENANT_CURSOR_KIND, after))
    rows = await query.order_by("id").limit(size + 1)
    return CountedPage(items=rows[:size], has_next_page=len(rows) > size, total_count=total)
