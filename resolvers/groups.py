"""Groups of devices (the tenant's inventory), nested through a parent group."""

from __future__ import annotations

from collections.abc import Sequence

from models.groups import Group
from resolvers import validation
from resolvers.errors import InvalidInput, NotFound
from resolvers.pagination import CountedPage, decode_int_cursor, page_size
from resolvers.permissions import Actor, Permission

CURSOR_KIND = "group"
GROUP_ID_MAX = 2**31 - 1  # Group.id is an IntField: a 32-bit integer on PostgreSQL


def parse_group_id(group_id: str) -> int | None:
    """A group id as stored, or ``None`` for text that cannot be one."""
    if group_id.isascii() and group_id.isdigit() and len(group_id) <= 10:
        value = int(group_id)
        if value <= GROUP_ID_MAX:
            return value
    return None


async def find_group(tenant_id: str, group_id: str) -> Group | None:
    """The tenant's group with this id; another tenant's group is as good as missing."""
    pk = parse_group_id(group_id)
    if pk is None:
        return None
    return await Group.get_or_none(id=pk, tenant_id=tenant_id)


async def get_group(actor: Actor, group_id: str) -> Group | None:
    actor.require(Permission.INVENTORY_READ)
    return await find_group(actor.tenant_id, group_id)


async def groups_by_ids(tenant_id: str, ids: Sequence[int]) -> list[Group | None]:
    """Batch lookup for DataLoaders: one query, results in the order of ``ids``."""
    found = {g.id: g for g in await Group.filter(tenant_id=tenant_id, id__in=set(ids))}
    return [found.get(i) for i in ids]


async def list_groups(actor: Actor, first: int | None, after: str | None) -> CountedPage[Group]:
    actor.require(Permission.INVENTORY_READ)
    size = page_size(first)
    query = Group.filter(tenant_id=actor.tenant_id)
    total = await query.count()
    if after is not None:
        after_id = decode_int_cursor(CURSOR_KIND, after)
        if after_id > GROUP_ID_MAX:
            raise InvalidInput(f"invalid cursor {after[:60]!r}")
        query = query.filter(id__gt=after_id)
    rows = await query.order_by("id").limit(size + 1)
    return CountedPage(items=rows[:size], has_next_page=len(rows) > size, total_count=total)


async def create_group(actor: Actor, name: str, parent_id: str | None = None) -> Group:
    """A group in the caller's tenant, under ``parent_id`` when given (same tenant only)."""
    actor.require(Permission.INVENTORY_ADMIN)
    name = validation.display_name(name, "group name")
    parent = None
    if parent_id is not None:
        parent = await find_group(actor.tenant_id, parent_id)
        if parent is None:
            raise NotFound(f"no group with id {parent_id[:60]!r}", parent_id)
    return await Group.create(tenant_id=actor.tenant_id, name=name, parent=parent)
