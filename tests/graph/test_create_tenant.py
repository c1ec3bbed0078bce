"""``createTenant``: a subtenant and its ``<id>/admin`` (API.md §2, §3)."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.kit.accounts import ALL_PERMISSIONS, can_log_in, make_tenant
from tests.kit.clients import GraphQLClient, error_codes
from tests.kit.documents import CREATE_TENANT, ME


async def create_tenant(
    admin: GraphQLClient, tenant_id: str, name: str = "Acme", password: str = "acme-password"
) -> dict[str, Any]:
    return await admin(CREATE_TENANT, id=tenant_id, name=name, password=password)


async def test_creates_the_tenant_and_its_admin(admin: GraphQLClient) -> None:
    body = await create_tenant(admin, "acme", "Acme Corp", "acme-password")
    assert body == {"data": {"createTenant": {"id": "acme", "name": "Acme Corp"}}}
    me = (await admin.as_user("acme/admin", "acme-password").data(ME))["me"]
    expected = sorted(set(ALL_PERMISSIONS) - {"TENANT_MANAGEMENT_ADMIN", "DEVICE_BOOTSTRAP"})
    assert me == {"tenantId": "acme", "username": "admin", "permissions": expected}


async def test_new_tenant_starts_empty(admin: GraphQLClient) -> None:
    await admin.data('mutation { createGroup(name: "management group") { id } }')
    acme = await make_tenant(admin, "acme")
    data = await acme.data("{ groups { totalCount } tenantOptions { key } securityTokenPolicy }")
    assert data == {
        "groups": {"totalCount": 0},
        "tenantOptions": [],
        "securityTokenPolicy": "OPTIONAL",
    }


async def test_valid_ids_are_accepted(admin: GraphQLClient) -> None:
    for tenant_id in ("a", "a-1", "x" * 32, "0123456789"):
        body = await create_tenant(admin, tenant_id)
        assert body["data"]["createTenant"]["id"] == tenant_id, body
        assert await can_log_in(admin.http, f"{tenant_id}/admin", "acme-password")


async def test_existing_id_is_already_exists(admin: GraphQLClient) -> None:
    await create_tenant(admin, "acme", password="first-password")
    for tenant_id in ("acme", "management"):
        body = await create_tenant(admin, tenant_id, password="second-password")
        assert error_codes(body) == ["ALREADY_EXISTS"], tenant_id
        assert body["data"] is None
        assert not await can_log_in(admin.http, f"{tenant_id}/admin", "second-password")
    assert await can_log_in(admin.http, "acme/admin", "first-password")


async def test_concurrent_creates_of_one_id_make_one_tenant(admin: GraphQLClient) -> None:
    bodies = await asyncio.gather(
        *(create_tenant(admin, "acme", password=f"password-{i}") for i in range(5))
    )
    codes = sorted(error_codes(b)[0] if "errors" in b else "OK" for b in bodies)
    assert codes == ["ALREADY_EXISTS"] * 4 + ["OK"]
    winner = next(i for i, b in enumerate(bodies) if "errors" not in b)
    assert await can_log_in(admin.http, "acme/admin", f"password-{winner}")


async def test_invalid_id_is_invalid_input(admin: GraphQLClient) -> None:
    for tenant_id in ("", "UPPER", "a_b", "x" * 33, "with space", "a/b", "ümlaut", "acme\n"):
        body = await create_tenant(admin, tenant_id)
        assert error_codes(body) == ["INVALID_INPUT"], tenant_id
        assert body["data"] is None


async def test_short_admin_password_is_invalid_input(admin: GraphQLClient) -> None:
    body = await create_tenant(admin, "acme", password="7-chars")
    assert error_codes(body) == ["INVALID_INPUT"]
    # Nothing was created: the id is still free.
    assert "errors" not in await create_tenant(admin, "acme", password="8-chars!")


async def test_empty_or_overlong_name_is_invalid_input(admin: GraphQLClient) -> None:
    for name in ("", "   ", "\t\n", "n" * 129):
        body = await create_tenant(admin, "acme", name=name)
        assert error_codes(body) == ["INVALID_INPUT"], name
    assert not await can_log_in(admin.http, "acme/admin", "acme-password")


async def test_subtenant_admin_cannot_create_tenants(admin: GraphQLClient) -> None:
    acme = await make_tenant(admin, "acme")
    body = await create_tenant(acme, "evil", password="evil-password")
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["data"] is None
    assert not await can_log_in(admin.http, "evil/admin", "evil-password")
