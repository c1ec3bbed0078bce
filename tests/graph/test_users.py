"""User management (API.md §9.1): list, update, set and change passwords, delete; at once."""

from __future__ import annotations

from typing import Any

import httpx

from tests.kit.accounts import ADMIN_LOGIN, ADMIN_PASSWORD, can_log_in, make_tenant, make_user
from tests.kit.clients import GraphQLClient, error_codes

USERS = """query($first: Int, $after: String) {
  users(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { tenantId username permissions } }
  }
}"""
UPDATE = """mutation($username: String!, $permissions: [Permission!]!) {
  updateUser(username: $username, permissions: $permissions) { tenantId username permissions }
}"""
SET_PASSWORD = """mutation($username: String!, $password: String!) {
  setUserPassword(username: $username, password: $password) { username }
}"""
DELETE = "mutation($username: String!) { deleteUser(username: $username) }"
CHANGE_MINE = """mutation($current: String!, $new: String!) {
  changeMyPassword(currentPassword: $current, newPassword: $new)
}"""
ME = "{ me { tenantId username permissions } }"


def usernames(data: dict[str, Any]) -> list[str]:
    return [e["node"]["username"] for e in data["users"]["edges"]]


async def test_users_lists_the_callers_tenant_only_page_by_page(admin: GraphQLClient) -> None:
    acme = await make_tenant(admin, "acme")
    for name in ("ann", "bob", "cid"):
        await make_user(acme, name, ["INVENTORY_READ"])
    await make_user(admin, "mgmt-only", [])
    first = await acme.data(USERS, first=2)
    assert first["users"]["totalCount"] == 4
    assert usernames(first) == ["admin", "ann"]
    assert first["users"]["pageInfo"]["hasNextPage"] is True
    rest = await acme.data(USERS, first=2, after=first["users"]["pageInfo"]["endCursor"])
    assert usernames(rest) == ["bob", "cid"]
    assert rest["users"]["pageInfo"]["hasNextPage"] is False
    assert {e["node"]["tenantId"] for e in rest["users"]["edges"]} == {"acme"}


async def test_every_user_operation_needs_user_management_admin(admin: GraphQLClient) -> None:
    bob = await make_user(admin, "bob", ["DEVICE_CONTROL_ADMIN", "INVENTORY_ADMIN"])
    await make_user(admin, "victim", [])
    for query, variables in (
        (USERS, {}),
        (UPDATE, {"username": "victim", "permissions": ["INVENTORY_READ"]}),
        (SET_PASSWORD, {"username": "victim", "password": "new-password-1"}),
        (DELETE, {"username": "victim"}),
    ):
        body = await bob(query, **variables)
        assert error_codes(body) == ["FORBIDDEN"], (query, body)
        assert body["data"] is None
    assert await can_log_in(admin.http, "management/victim", "victim-password")


async def test_update_user_changes_permissions_at_once_even_for_a_cached_login(
    admin: GraphQLClient,
) -> None:
    bob = await make_user(admin, "bob", ["INVENTORY_READ"])
    assert (await bob.data(ME))["me"]["permissions"] == ["INVENTORY_READ"]  # now cached
    data = await admin.data(UPDATE, username="bob", permissions=["DEVICE_CONTROL_READ"])
    assert data["updateUser"] == {
        "tenantId": "management",
        "username": "bob",
        "permissions": ["DEVICE_CONTROL_READ"],
    }
    assert (await bob.data(ME))["me"]["permissions"] == ["DEVICE_CONTROL_READ"]


async def test_nobody_updates_or_deletes_themselves(admin: GraphQLClient) -> None:
    for query, variables in (
        (UPDATE, {"username": "admin", "permissions": []}),
        (DELETE, {"username": "admin"}),
    ):
        body = await admin(query, **variables)
        assert error_codes(body) == ["INVALID_INPUT"], body
        assert "yourself" in body["errors"][0]["message"]
    assert (await admin.data(ME))["me"]["permissions"] != []


async def test_update_user_keeps_the_permission_rules_of_create_user(
    admin: GraphQLClient,
) -> None:
    acme = await make_tenant(admin, "acme")
    await make_user(acme, "ann", [])
    for forbidden in ("DEVICE_BOOTSTRAP", "TENANT_MANAGEMENT_ADMIN"):
        body = await acme(UPDATE, username="ann", permissions=[forbidden])
        assert error_codes(body) == ["INVALID_INPUT"], body
    body = await admin(UPDATE, username="nobody", permissions=[])
    assert error_codes(body) == ["NOT_FOUND"]


async def test_set_user_password_shuts_out_the_old_password_at_once(admin: GraphQLClient) -> None:
    bob = await make_user(admin, "bob", [])
    assert await can_log_in(admin.http, "management/bob", "bob-password")  # cached
    await admin.data(SET_PASSWORD, username="bob", password="bob-new-password")
    assert not await can_log_in(admin.http, "management/bob", "bob-password")
    assert await can_log_in(admin.http, "management/bob", "bob-new-password")
    assert bob.login == "management/bob"
    short = await admin(SET_PASSWORD, username="bob", password="short")
    assert error_codes(short) == ["INVALID_INPUT"]
    assert "bob-new-password" not in str(short) and "short" not in short["errors"][0]["message"]


async def test_delete_user_shuts_them_out_and_names_them(admin: GraphQLClient) -> None:
    await make_user(admin, "bob", [])
    assert await can_log_in(admin.http, "management/bob", "bob-password")
    assert (await admin.data(DELETE, username="bob"))["deleteUser"] == "bob"
    assert not await can_log_in(admin.http, "management/bob", "bob-password")
    again = await admin(DELETE, username="bob")
    assert error_codes(again) == ["NOT_FOUND"]


async def test_another_tenants_users_cannot_be_touched(admin: GraphQLClient) -> None:
    acme = await make_tenant(admin, "acme")
    await make_user(admin, "mgmt-user", [])
    for query, variables in (
        (UPDATE, {"username": "mgmt-user", "permissions": []}),
        (SET_PASSWORD, {"username": "mgmt-user", "password": "taken-over-1"}),
        (DELETE, {"username": "mgmt-user"}),
    ):
        assert error_codes(await acme(query, **variables)) == ["NOT_FOUND"]
    assert await can_log_in(admin.http, "management/mgmt-user", "mgmt-user-password")


async def test_change_my_password_needs_the_current_one(admin: GraphQLClient) -> None:
    bob = await make_user(admin, "bob", [])
    wrong = await bob(CHANGE_MINE, current="not-my-password", new="bob-new-password")
    assert error_codes(wrong) == ["INVALID_INPUT"]
    assert await can_log_in(admin.http, "management/bob", "bob-password")
    right = await bob.data(CHANGE_MINE, current="bob-password", new="bob-new-password")
    assert right == {"changeMyPassword": True}
    assert not await can_log_in(admin.http, "management/bob", "bob-password")
    assert await can_log_in(admin.http, "management/bob", "bob-new-password")


async def test_any_logged_in_user_may_change_their_own_password(http: httpx.AsyncClient) -> None:
    admin = GraphQLClient(http, ADMIN_LOGIN, ADMIN_PASSWORD)
    nobody = await make_user(admin, "no-permissions", [])
    body = await nobody.data(CHANGE_MINE, current="no-permissions-password", new="a-new-password")
    assert body == {"changeMyPassword": True}
    renewed = nobody.as_user("management/no-permissions", "a-new-password")
    short = await renewed(CHANGE_MINE, current="a-new-password", new="short")
    assert error_codes(short) == ["INVALID_INPUT"]


async def test_wrong_current_passwords_count_as_failed_logins_and_throttle(
    admin: GraphQLClient,
) -> None:
    bob = await make_user(admin, "bob", [])
    for _ in range(10):  # GATEHOUSE_LOGIN_MAX_FAILURES, by default
        wrong = await bob(CHANGE_MINE, current="guess-guess", new="bob-new-password")
        assert error_codes(wrong) == ["INVALID_INPUT"]
    # The address is now throttled: an uncached login from it is refused unhashed.
    refused = await admin.as_user("management/bob", "another-guess").post(ME)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
