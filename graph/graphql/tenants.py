"""GraphQL for tenants: ``createTenant``. Users (and ``me``) are in ``graph/graphql/users.py``."""

from __future__ import annotations

import strawberry

from graph.graphql.context import Info
from graph.graphql.permissions import can
from models.tenants import Tenant as TenantRow
from resolvers import permissions as domain
from resolvers import tenants


@strawberry.type
class Tenant:
    id: strawberry.ID
    name: str

    @classmethod
    def from_model(cls, tenant: TenantRow) -> Tenant:
        return cls(id=strawberry.ID(tenant.id), name=tenant.name)


@strawberry.type
class TenantMutations:
    @strawberry.mutation(
        permission_classes=[can(domain.Permission.TENANT_MANAGEMENT_ADMIN)],
        description="Management tenant only: a subtenant and its <id>/admin user, "
        "with every permission but TENANT_MANAGEMENT_ADMIN and DEVICE_BOOTSTRAP.",
    )
    async def create_tenant(self, info: Info, id: str, name: str, admin_password: str) -> Tenant:
        tenant = await tenants.create_tenant(info.context.caller, id, name, admin_password)
        return Tenant.from_model(tenant)
