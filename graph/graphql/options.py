"""GraphQL for tenant options and the security token policy."""

from __future__ import annotations

from typing import Annotated

import strawberry

from graph.graphql.arguments import given
from graph.graphql.context import Info
from graph.graphql.permissions import can
from graph.graphql.problems import Problem
from models.options import TenantOption as OptionRow
from resolvers import errors, options
from resolvers.permissions import Permission
from resolvers.token_policy import SecurityTokenPolicy

strawberry.enum(SecurityTokenPolicy, name="SecurityTokenPolicy")


@strawberry.type
class TenantOption:
    category: str
    key: str
    value: str

    @classmethod
    def from_model(cls, option: OptionRow) -> TenantOption:
        return cls(category=option.category, key=option.key, value=option.value)


@strawberry.type
class InvalidOption(Problem):
    @classmethod
    def from_error(cls, error: errors.InvalidOption) -> InvalidOption:
        return cls(code=error.code, message=error.message)


SetTenantOptionResult = Annotated[
    TenantOption | InvalidOption, strawberry.union("SetTenantOptionResult")
]


@strawberry.type
class OptionQueries:
    @strawberry.field(permission_classes=[can(Permission.OPTION_MANAGEMENT_READ)])
    async def tenant_option(self, info: Info, category: str, key: str) -> TenantOption | None:
        option = await options.get_option(info.context.caller, category, key)
        return TenantOption.from_model(option) if option else None

    @strawberry.field(permission_classes=[can(Permission.OPTION_MANAGEMENT_READ)])
    async def tenant_options(
        self, info: Info, category: str | None = strawberry.UNSET
    ) -> list[TenantOption]:
        found = await options.list_options(info.context.caller, given(category))
        return [TenantOption.from_model(option) for option in found]

    @strawberry.field(
        description="The policy in force for this caller: the tenant option, "
        "or OPTIONAL when the caller lacks OPTION_MANAGEMENT_READ."
    )
    async def security_token_policy(self, info: Info) -> SecurityTokenPolicy:
        return await options.security_token_policy(info.context.caller)


@strawberry.type
class OptionMutations:
    @strawberry.mutation(permission_classes=[can(Permission.OPTION_MANAGEMENT_ADMIN)])
    async def set_tenant_option(
        self, info: Info, category: str, key: str, value: str
    ) -> SetTenantOptionResult:
        try:
            option = await options.set_option(info.context.caller, category, key, value)
        except errors.InvalidOption as error:
            return InvalidOption.from_error(error)
        return TenantOption.from_model(option)

    @strawberry.mutation(
        permission_classes=[can(Permission.OPTION_MANAGEMENT_ADMIN)],
        description="Delete an option of the caller's tenant; true when there was one. "
        "A known option then holds its default again.",
    )
    async def delete_tenant_option(self, info: Info, category: str, key: str) -> bool:
        return await options.delete_option(info.context.caller, category, key)
