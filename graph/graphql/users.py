"""GraphQL for users: ``me``, ``users`` and the user mutations (API.md §2, §9.1)."""

from __future__ import annotations

import strawberry

from graph.graphql.arguments import given
from graph.graphql.context import Info
from graph.graphql.pagination import PageInfo
from graph.graphql.permissions import can
from models.tenants import User as UserRow
from resolvers import users
from resolvers.pagination import CountedPage, encode_cursor
from resolvers.permissions import Actor, Permission, parse_permissions

strawberry.enum(Permission, name="Permission")


@strawberry.type
class User:
    tenant_id: str
    username: str
    permissions: list[Permission]

    @classmethod
    def from_actor(cls, actor: Actor) -> User:
        return cls(
            tenant_id=actor.tenant_id,
            username=actor.username,
            permissions=sorted(actor.permissions, key=lambda p: p.value),
        )

    @classmethod
    def from_model(cls, user: UserRow) -> User:
        return cls(
            tenant_id=user.tenant_id,
            username=user.username,
            permissions=sorted(parse_permissions(user.permissions), key=lambda p: p.value),
        )


@strawberry.type
class UserEdge:
    cursor: str
    node: User


@strawberry.type
class UserConnection:
    edges: list[UserEdge]
    page_info: PageInfo
    total_count: int

    @classmethod
    def from_page(cls, page: CountedPage[UserRow]) -> UserConnection:
        edges = [
            UserEdge(cursor=encode_cursor(users.CURSOR_KIND, u.id), node=User.from_model(u))
            for u in page.items
        ]
        return cls(
            edges=edges,
            page_info=PageInfo.after([e.cursor for e in edges], page.has_next_page),
            total_count=page.total_count,
        )


@strawberry.type
class UserQueries:
    @strawberry.field(description="The caller: tenant, username and permissions.")
    def me(self, info: Info) -> User:
        return User.from_actor(info.context.caller)

    @strawberry.field(
        permission_classes=[can(Permission.USER_MANAGEMENT_ADMIN)],
        description="The users of the caller's tenant, oldest first.",
    )
    async def users(
        self, info: Info, first: int | None = 50, after: str | None = strawberry.UNSET
    ) -> UserConnection:
        page = await users.list_users(info.context.caller, first, given(after))
        return UserConnection.from_page(page)


@strawberry.type
class UserMutations:
    @strawberry.mutation(
        permission_classes=[can(Permission.USER_MANAGEMENT_ADMIN)],
        description="A user in the caller's own tenant.",
    )
    async def create_user(
        self, info: Info, username: str, password: str, permissions: list[Permission]
    ) -> User:
        user = await users.create_user(info.context.caller, username, password, permissions)
        return User.from_model(user)

    @strawberry.mutation(
        permission_classes=[can(Permission.USER_MANAGEMENT_ADMIN)],
        description="Replace another user's permissions (not your own); in effect at once.",
    )
    async def update_user(self, info: Info, username: str, permissions: list[Permission]) -> User:
        return User.from_model(await users.update_user(info.context.caller, username, permissions))

    @strawberry.mutation(
        permission_classes=[can(Permission.USER_MANAGEMENT_ADMIN)],
        description="Give a user of your tenant a new password; the old one stops working at once.",
    )
    async def set_user_password(self, info: Info, username: str, password: str) -> User:
        user = await users.set_user_password(info.context.caller, username, password)
        return User.from_model(user)

    @strawberry.mutation(
        permission_classes=[can(Permission.USER_MANAGEMENT_ADMIN)],
        description="Delete another user of your tenant (not yourself); returns the username.",
    )
    async def delete_user(self, info: Info, username: str) -> strawberry.ID:
        return strawberry.ID(await users.delete_user(info.context.caller, username))

    @strawberry.mutation(description="Any logged-in user: a new password, given the current one.")
    async def change_my_password(
        self, info: Info, current_password: str, new_password: str
    ) -> bool:
        context = info.context
        await users.change_my_password(
            context.caller,
            current_password,
            new_password,
            throttles=context.throttles,
            client_address=context.client_address,
        )
        return True
