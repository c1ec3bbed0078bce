"""Groups of the tenant's inventory to register devices into."""

from __future__ import annotations

from tests.kit.clients import GraphQLClient
from tests.kit.documents import CREATE_GROUP


async def create_group(client: GraphQLClient, name: str) -> str:
    """A group in ``client``'s tenant; returns its id."""
    group_id: str = (await client.data(CREATE_GROUP, name=name))["createGroup"]["id"]
    return group_id
