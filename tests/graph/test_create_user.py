"""``createUser``: a user in the caller's own tenant with exactly the given permissions."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.kit.accounts import can_log_in, make_tenant, make_user
from tests.kit.clients import GraphQLClient, error_codes
from tests.kit.documents import CREATE_USER, ME


async def create_user(
    owner: GraphQLClient,
    username: str,
    password: str = "user-password",
    permissions: list[str] | None = None,
) -> dict[str, Any]:
    return await owner(
        CREATE_USER, username=username, password=password, permissions=permissions or []
    )


async def test_user_logs_in_with_exactly_the_given_permissions(admin: GraphQLClient) -> None:
    body = await create_user(
        admin, "alice", "alice-password", ["OPTION_MANAGEMENT_READ", "INVENTORY_READ"]
    )
    created = body["data"]["createUser"]
    assert created == {
        "tenantId": "management",
        "username": "alice",
        "permissions": ["INVENTORY_READ", "OPTION_MANAGEMENT_READ"],
    }
    me = (await admin.as_user("management/alice", "alice-password").data(ME))["me"]
    assert me == created


async def test_user_without_permissions_can_log_in(admin: GraphQLClient) -> None:
    await create_user(admin, "bob", "bob-password", [])
    me = (await admin.as_user("management/bob", "bob-password").data(ME))["me"]
    assert me["permissions"] == []


async def test_duplicate_username_is_already_exists(admin: GraphQLClient) -> None:
    await create_user(admin, "alice", "first-password")
    body = await create_user(admin, "alice", "second-password", ["INVENTORY_ADMIN"])
    assert error_codes(body) == ["ALREADY_EXISTS"]
    assert body["data"] is None
    assert await can_log_in(admin.http, "management/alice", "first-password")
    assert not await can_log_in(admin.http, "management/alice", "second-password")


async def test_first_start_accounts_cannot_be_recreated(admin: GraphQLClient) -> None:
    for username in ("admin", "devicebootstrap"):
        body = await create_user(admin, username, "takeover-password", ["DEVICE_BOOTSTRAP"])
        assert error_codes(body) == ["ALREADY_EXISTS"], username
        assert not await can_log_in(admin.http, f"management/{username}", "takeover-password")


async def test_concurrent_creates_of_one_username_make_one_user(admin: GraphQLClient) -> None:
    bodies = await asyncio.gather(*(create_user(admin, "alice", f"password-{i}") for i in range(5)))
    codes = sorted(error_codes(b)[0] if "errors" in b else "OK" for b in bodies)
    assert codes == ["ALREADY_EXISTS"] * 4 + ["OK"]


async def test_password_outside_8_to_1024_characters_is_invalid_input(
    admin: GraphQLClient,
) -> None:
    for password in ("", "7-chars", "x" * 1025):
        body = await create_user(admin, "alice", password)
        assert error_codes(body) == ["INVALID_INPUT"], len(password)
        assert not await can_log_in(admin.http, "management/alice", password)


async def test_passwords_of_8_and_1024_characters_are_fine(admin: GraphQLClient) -> None:
    for username, password in (("eight", "8-chars!"), ("long", "x" * 1024)):
        assert "errors" not in await create_user(admin, username, password)
        assert await can_log_in(admin.http, f"management/{username}", password)


async def test_bad_username_is_invalid_input(admin: GraphQLClient) -> None:
    for username in ("", "with space", "a/b", "a:b", "x" * 65, "ümlaut", "tab\there"):
        body = await create_user(admin, username)
        assert error_codes(body) == ["INVALID_INPUT"], username
        assert body["data"] is None


async def test_usernames_of_allowed_characters_are_fine(admin: GraphQLClient) -> None:
    for username in ("x" * 64, "first.last+tag@example-1_a"):
        assert "errors" not in await create_user(admin, username, "user-password")
        assert await can_log_in(admin.http, f"management/{username}", "user-password")


async def test_unknown_permission_is_a_validation_error(admin: GraphQLClient) -> None:
    literal = (
        'mutation { createUser(username: "eve", password: "eve-password", '
        "permissions: [SUPERUSER]) { username } }"
    )
    variables = {"username": "eve", "password": "eve-password", "permissions": ["SUPERUSER"]}
    for response in (await admin.post(literal), await admin.post(CREATE_USER, variables)):
        assert response.status_code in (200, 400)
        body = response.json()
        assert body["errors"]
        assert body.get("data") is None
        assert "INTERNAL_SERVER_ERROR" not in error_codes(body)
    assert not await can_log_in(admin.http, "management/eve", "eve-password")


async def test_subtenant_admin_cannot_grant_tenant_management(admin: GraphQLClient) -> None:
    acme = await make_tenant(admin, "acme")
    body = await create_user(acme, "mallory", "mallory-password", ["TENANT_MANAGEMENT_ADMIN"])
    assert error_codes(body) == ["INVALID_INPUT"]
    assert not await can_log_in(admin.http, "acme/mallory", "mallory-password")


async def test_management_admin_can_grant_tenant_management(admin: GraphQLClient) -> None:
    operator = await make_user(admin, "operator", ["TENANT_MANAGEMENT_ADMIN"])
    assert (await operator.data(ME))["me"]["permissions"] == ["TENANT_MANAGEMENT_ADMIN"]


async def test_user_is_created_in_the_callers_tenant(admin: GraphQLClient) -> None:
    acme = await make_tenant(admin, "acme")
    body = await create_user(acme, "alice", "alice-password", ["INVENTORY_READ"])
    assert body["data"]["createUser"]["tenantId"] == "acme"
    assert await can_log_in(admin.http, "acme/alice", "alice-password")
    assert not await can_log_in(admin.http, "management/alice", "alice-password")


async def test_same_username_in_two_tenants_are_two_users(admin: GraphQLClient) -> None:
    acme = await make_tenant(admin, "acme")
    globex = await make_tenant(admin, "globex")
    await create_user(acme, "alice", "acme-alice-password", ["INVENTORY_READ"])
    await create_user(globex, "alice", "globex-alice-password", ["OPTION_MANAGEMENT_READ"])
    acme_alice = (await acme.as_user("acme/alice", "acme-alice-password").data(ME))["me"]
    globex_alice = (await acme.as_user("globex/alice", "globex-alice-password").data(ME))["me"]
    assert acme_alice["permissions"] == ["INVENTORY_READ"]
    assert globex_alice["permissions"] == ["OPTION_MANAGEMENT_READ"]
    assert not await can_log_in(admin.http, "acme/alice", "globex-alice-password")
