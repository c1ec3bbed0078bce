"""The first-start accounts, every permission, and new tenants and users to log in as."""

from __future__ import annotations

import httpx

from resolvers.permissions import Permission
from tests.kit.clients import GraphQLClient, basic
from tests.kit.documents import CREATE_TENANT, CREATE_USER

#: The first-start administrator of the management tenant.
ADMIN_LOGIN = "management/admin"
#: The password of ``management/admin`` in every test database.
ADMIN_PASSWORD = "admin-password"
#: The login devices use to ask for their credentials.
BOOTSTRAP_LOGIN = "management/devicebootstrap"
#: The password of ``management/devicebootstrap`` in every test database.
BOOTSTRAP_PASSWORD = "bootstrap-password"

#: Every permission name of the schema's ``Permission`` enum.
ALL_PERMISSIONS = [p.value for p in Permission]


async def make_tenant(admin: GraphQLClient, tenant_id: str) -> GraphQLClient:
    """A subtenant; returns a client logged in as its ``<id>/admin``."""
    password = f"{tenant_id}-admin-password"
    await admin.data(CREATE_TENANT, id=tenant_id, name=tenant_id.title(), password=password)
    return admin.as_user(f"{tenant_id}/admin", password)


async def make_user(owner: GraphQLClient, username: str, permissions: list[str]) -> GraphQLClient:
    """A user in ``owner``'s tenant with exactly ``permissions``; returns a client for it."""
    password = f"{username}-password"
    data = await owner.data(
        CREATE_USER, username=username, password=password, permissions=permissions
    )
    tenant_id = data["createUser"]["tenantId"]
    return owner.as_user(f"{tenant_id}/{username}", password)


async def can_log_in(http: httpx.AsyncClient, login: str, password: str) -> bool:
    """Whether ``login``/``password`` passes HTTP Basic on ``/graphql``."""
    response = await http.post(
        "/graphql",
        json={"query": "{ me { username } }"},
        headers={"Authorization": basic(login, password)},
    )
    return response.status_code == 200


def bootstrap_client(admin: GraphQLClient) -> GraphQLClient:
    """A client on ``admin``'s HTTP client, logged in as the bootstrap user."""
    return admin.as_user(BOOTSTRAP_LOGIN, BOOTSTRAP_PASSWORD)
