"""GraphQL for tenants: ``createTenant``. Users (and ``me``) are in ``graph/graphql/users.py``."""

from __future__ import annotations

import strawberry

from graph.graphql.arguments import given
from graph.graphql.context import Info
from graph.graphql.pagination import PageInfo
from graph.graphql.permissions import can
from models.tenants import Tenant as TenantRow
from resolvers import permissions as domain
from resolvers import tenants
from resolvers.pagination import CountedPage, encode_cursor


@strawberry.type
class Tenant:
    id: strawberry.ID
    name: str

    @classmethod
    def from_model(cls, tenant: TenantRow) -> Tenant:
        return cls(id=strawberry.ID(tenant.id), name=tenant.name)


@strawberry.type
class TenantEdge:
    cursor: str
    node: Tenant


@strawberry.type
class TenantConnection:
    edges: list[TenantEdge]
    page_info: PageInfo
    total_count: int

    @classmethod
    def from_page(cls, page: CountedPage[TenantRow]) -> TenantConnection:
        edges = [
            TenantEdge(
                cursor=encode_cursor(tenants.TENANT_CURSOR_KIND, t.id), node=Tenant.from_model(t)
            )
            for t in page.items
        ]
        return cls(
            edges=edges,
            page_info=PageInfo.after([e.cursor for e in edges], page.has_next_page),
            total_count=page.total_count,
        )


@strawberry.type
class TenantQueries:
    @strawberry.field(
        permission_classes=[can(domain.Permission.TENANT_MANAGEMENT_ADMIN)],
        description="Management tenant only: every tenant of the platform by id, "
        "the management tenant included.",
    )
    async def tenants(
        self, info: Info, first: int | None = 50, after: str | None = strawberry.UNSET
    ) -> TenantConnection:
        page = await tenants.list_tenants(info.context.caller, first, given(after))
        return TenantConnection.from_page(page)


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
