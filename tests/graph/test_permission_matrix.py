"""Every foundation operation against the permission it needs (API.md §1, §2).

A caller missing the permission gets HTTP 200, a top-level FORBIDDEN error,
the operation's field null, and nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.kit.accounts import ALL_PERMISSIONS, BOOTSTRAP_PASSWORD, can_log_in, make_user
from tests.kit.clients import GraphQLClient, error_codes
from tests.kit.documents import CREATE_TENANT


@dataclass(frozen=True)
class Operation:
    field: str
    permission: str
    document: str

    def __str__(self) -> str:
        return self.field


OPERATIONS = [
    Operation(
        "tenantOption",
        "OPTION_MANAGEMENT_READ",
        '{ tenantOption(category: "app", key: "colour") { value } }',
    ),
    Operation("tenantOptions", "OPTION_MANAGEMENT_READ", "{ tenantOptions { value } }"),
    Operation(
        "setTenantOption",
        "OPTION_MANAGEMENT_ADMIN",
        'mutation { setTenantOption(category: "app", key: "colour", value: "red") { __typename } }',
    ),
    Operation("group", "INVENTORY_READ", '{ group(id: "1") { id } }'),
    Operation("groups", "INVENTORY_READ", "{ groups { totalCount } }"),
    Operation("createGroup", "INVENTORY_ADMIN", 'mutation { createGroup(name: "lab") { id } }'),
    Operation(
        "createUser",
        "USER_MANAGEMENT_ADMIN",
        'mutation { createUser(username: "newbie", password: "newbie-password", '
        "permissions: [INVENTORY_READ]) { username } }",
    ),
    Operation(
        "createTenant",
        "TENANT_MANAGEMENT_ADMIN",
        'mutation { createTenant(id: "newco", name: "NewCo", adminPassword: "newco-password") '
        "{ id } }",
    ),
    Operation(
        "deleteTenantOption",
        "OPTION_MANAGEMENT_ADMIN",
        'mutation { deleteTenantOption(category: "app", key: "colour") }',
    ),
    Operation(
        "registerCsv",
        "DEVICE_CONTROL_ADMIN",
        'mutation { registerCsv(csv: "ID\\nSN-matrix") { created failed } }',
    ),
]


async def assert_nothing_stored(admin: GraphQLClient) -> None:
    """Read back, as the admin, everything a forbidden operation could have written."""
    data = await admin.data(
        '{ tenantOption(category: "app", key: "colour") { value } groups { totalCount } }'
    )
    assert data["tenantOption"] is None
    assert data["groups"]["totalCount"] == 0
    assert not await can_log_in(admin.http, "management/newbie", "newbie-password")
    assert not await can_log_in(admin.http, "newco/admin", "newco-password")
    # The tenant id is still free: creating it now succeeds.
    created = await admin.data(CREATE_TENANT, id="newco", name="NewCo", password="newco-password")
    assert created["createTenant"]["id"] == "newco"


def assert_forbidden(body: dict[str, Any], operation: Operation) -> None:
    assert error_codes(body) == ["FORBIDDEN"], body
    data = body.get("data")
    assert data is None or data.get(operation.field) is None


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
async def test_caller_lacking_only_the_needed_permission_is_forbidden_and_nothing_changes(
    admin: GraphQLClient, operation: Operation
) -> None:
    others = [p for p in ALL_PERMISSIONS if p != operation.permission]
    caller = await make_user(admin, "almost", others)
    body = await caller(operation.document)  # asserts HTTP 200
    assert_forbidden(body, operation)
    assert operation.permission in body["errors"][0]["message"]
    await assert_nothing_stored(admin)


async def test_caller_with_only_the_needed_permission_is_allowed(admin: GraphQLClient) -> None:
    for operation in OPERATIONS:
        caller = await make_user(admin, f"only-{operation.field}", [operation.permission])
        body = await caller(operation.document)
        assert "errors" not in body, (operation.field, body)
        assert operation.field in body["data"]


async def test_bootstrap_user_is_forbidden_everywhere_else(admin: GraphQLClient) -> None:
    bootstrap = admin.as_user("management/devicebootstrap", BOOTSTRAP_PASSWORD)
    for operation in OPERATIONS:
        assert_forbidden(await bootstrap(operation.document), operation)
    await assert_nothing_stored(admin)


async def test_bootstrap_user_may_ask_me_and_the_token_policy(admin: GraphQLClient) -> None:
    bootstrap = admin.as_user("management/devicebootstrap", BOOTSTRAP_PASSWORD)
    data = await bootstrap.data("{ me { username } securityTokenPolicy }")
    assert data == {"me": {"username": "devicebootstrap"}, "securityTokenPolicy": "OPTIONAL"}


async def test_user_without_any_permission_may_ask_me_and_the_token_policy(
    admin: GraphQLClient,
) -> None:
    nobody = await make_user(admin, "nobody", [])
    data = await nobody.data("{ me { username permissions } securityTokenPolicy }")
    assert data == {
        "me": {"username": "nobody", "permissions": []},
        "securityTokenPolicy": "OPTIONAL",
    }


async def test_forbidden_field_does_not_hide_the_allowed_ones(admin: GraphQLClient) -> None:
    reader = await make_user(admin, "reader", ["INVENTORY_READ"])
    body = await reader(
        '{ me { username } groups { totalCount } tenantOption(category: "a", key: "b") { value } }'
    )
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["path"] == ["tenantOption"]
    assert body["data"] == {
        "me": {"username": "reader"},
        "groups": {"totalCount": 0},
        "tenantOption": None,
    }
