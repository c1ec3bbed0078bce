"""GraphQL for groups: ``group``, ``groups``, ``createGroup``."""

from __future__ import annotations

import strawberry

from graph.graphql.arguments import given
from graph.graphql.context import Info
from graph.graphql.pagination import PageInfo
from graph.graphql.permissions import can
from graph.graphql.registrations import RegistrationConnection
from graph.graphql.selections import selects
from models.groups import Group as GroupRow
from resolvers import groups, registrations
from resolvers.pagination import CountedPage, encode_cursor
from resolvers.permissions import Permission


@strawberry.type
class Group:
    id: strawberry.ID
    name: str
    parent_id: strawberry.Private[int | None]

    @strawberry.field
    async def parent(self, info: Info) -> Group | None:
        if self.parent_id is None:
            return None
        parent = await info.context.loaders.group.load(self.parent_id)
        return Group.from_model(parent) if parent else None

    @strawberry.field(
        permission_classes=[can(Permission.DEVICE_CONTROL_READ)],
        description="The group's registrations of every status.",
    )
    async def registrations(
        self, info: Info, first: int | None = strawberry.UNSET, after: str | None = strawberry.UNSET
    ) -> RegistrationConnection:
        page = await registrations.list_group_registrations(
            info.context.caller,
            int(self.id),
            given(first),
            given(after),
            with_event_cursor=selects(info, "eventCursor"),
        )
        return await RegistrationConnection.from_page(page, info)

    @classmethod
    def from_model(cls, group: GroupRow) -> Group:
        return cls(id=strawberry.ID(str(group.id)), name=group.name, parent_id=group.parent_id)


@strawberry.type
class GroupEdge:
    cursor: str
    node: Group


@strawberry.type
class GroupConnection:
    edges: list[GroupEdge]
    page_info: PageInfo
    total_count: int

    @classmethod
    def from_page(cls, page: CountedPage[GroupRow]) -> GroupConnection:
        edges = [
            GroupEdge(cursor=encode_cursor(groups.CURSOR_KIND, g.id), node=Group.from_model(g))
            for g in page.items
        ]
        return cls(
            edges=edges,
            page_info=PageInfo.after([e.cursor for e in edges], page.has_next_page),
            total_count=page.total_count,
        )


@strawberry.type
class GroupQueries:
    @strawberry.field(permission_classes=[can(Permission.INVENTORY_READ)])
    async def group(self, info: Info, id: strawberry.ID) -> Group | None:
        found = await groups.get_group(info.context.caller, id)
        return Group.from_model(found) if found else None

    @strawberry.field(permission_classes=[can(Permission.INVENTORY_READ)])
    async def groups(
        self, info: Info, first: int | None = 50, after: str | None = strawberry.UNSET
    ) -> GroupConnection:
        page = await groups.list_groups(info.context.caller, first, given(after))
        return GroupConnection.from_page(page)


@strawberry.type
class GroupMutations:
    @strawberry.mutation(permission_classes=[can(Permission.INVENTORY_ADMIN)])
    async def create_group(
        self, info: Info, name: str, parent_id: strawberry.ID | None = strawberry.UNSET
    ) -> Group:
        group = await groups.create_group(info.context.caller, name, given(parent_id))
        return Group.from_model(group)
