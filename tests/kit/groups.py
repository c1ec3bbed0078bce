"""Groups of the tenant's inventory to register devices into."""

from __future__ import annotations

from tests.kit.clients import GraphQLClient
from tests.kit.documents import CREATE_GROUP


async def create_group(client: GraphQLClient, name: str, parent_id: str | None = None) -> str:
    """A group in ``client``'s tenant (under ``parent_id`` if given); returns its id."""
    data = await client.data(CREATE_GROUP, name=name, parentId=parent_id)
    return str(data["createGroup"]["id"])
