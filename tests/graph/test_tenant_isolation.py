"""No tenant sees, changes or learns about another tenant's data (API.md §2)."""

from __future__ import annotations

import pytest

from tests.kit.accounts import can_log_in, make_tenant, make_user
from tests.kit.clients import GraphQLClient, basic, error_codes
from tests.kit.documents import CREATE_GROUP
from tests.kit.groups import create_group
from tests.kit.options import set_option, set_token_policy, token_policy

OPTION = """
query($category: String!, $key: String!) { tenantOption(category: $category, key: $key) { value } }
"""
OPTIONS = "{ tenantOptions { category key value } }"
GROUP = "query($id: ID!) { group(id: $id) { id name } }"
GROUPS = "{ groups { totalCount edges { node { id name } } } }"


@pytest.fixture
async def acme(admin: GraphQLClient) -> GraphQLClient:
    return await make_tenant(admin, "acme")


@pytest.fixture
async def globex(admin: GraphQLClient) -> GraphQLClient:
    return await make_tenant(admin, "globex")


async def test_options_are_per_tenant(
    admin: GraphQLClient, acme: GraphQLClient, globex: GraphQLClient
) -> None:
    await set_option(acme, "app", "colour", "red")
    for other in (globex, admin):
        assert (await other.data(OPTION, category="app", key="colour"))["tenantOption"] is None
        assert (await other.data(OPTIONS))["tenantOptions"] == []
    # The same key in another tenant is another option.
    await set_option(globex, "app", "colour", "blue")
    assert (await acme.data(OPTION, category="app", key="colour"))["tenantOption"] == {
        "value": "red"
    }
    assert (await globex.data(OPTIONS))["tenantOptions"] == [
        {"category": "app", "key": "colour", "value": "blue"}
    ]


async def test_groups_are_per_tenant(
    admin: GraphQLClient, acme: GraphQLClient, globex: GraphQLClient
) -> None:
    acme_group = await create_group(acme, "acme lab")
    for other in (globex, admin):
        assert (await other.data(GROUP, id=acme_group))["group"] is None
        assert (await other.data(GROUPS))["groups"] == {"totalCount": 0, "edges": []}
    body = await globex(CREATE_GROUP, name="spy", parentId=acme_group)
    assert error_codes(body) == ["NOT_FOUND"]
    assert (await globex.data(GROUPS))["groups"]["totalCount"] == 0
    assert (await acme.data(GROUPS))["groups"] == {
        "totalCount": 1,
        "edges": [{"node": {"id": acme_group, "name": "acme lab"}}],
    }


async def test_a_foreign_group_is_told_apart_from_no_group_by_nothing(
    acme: GraphQLClient, globex: GraphQLClient
) -> None:
    acme_group = await create_group(acme, "acme lab")
    foreign = await globex(CREATE_GROUP, name="x", parentId=acme_group)
    missing = await globex(CREATE_GROUP, name="x", parentId="424242")
    assert error_codes(foreign) == error_codes(missing) == ["NOT_FOUND"]
    assert foreign["errors"][0]["message"].replace(acme_group, "ID") == missing["errors"][0][
        "message"
    ].replace("424242", "ID")


async def test_users_log_in_only_to_their_own_tenant(
    admin: GraphQLClient, acme: GraphQLClient, globex: GraphQLClient
) -> None:
    alice = await make_user(acme, "alice", ["INVENTORY_READ"])
    assert alice.password is not None
    assert await can_log_in(admin.http, "acme/alice", alice.password)
    assert not await can_log_in(admin.http, "globex/alice", alice.password)
    assert not await can_log_in(admin.http, "management/alice", alice.password)
    assert not await can_log_in(admin.http, "globex/admin", "acme-admin-password")


async def test_token_policy_is_per_tenant(acme: GraphQLClient, globex: GraphQLClient) -> None:
    await set_token_policy(acme, "REQUIRED")
    assert await token_policy(acme) == "REQUIRED"
    assert await token_policy(globex) == "OPTIONAL"


async def test_management_admin_does_not_see_subtenant_inventory(
    admin: GraphQLClient, acme: GraphQLClient
) -> None:
    parent = await create_group(acme, "acme site")
    child = await create_group(acme, "acme room", parent)
    assert (await admin.data(GROUPS))["groups"]["totalCount"] == 0
    assert (await admin.data(GROUP, id=child))["group"] is None
    assert error_codes(await admin(CREATE_GROUP, name="mgmt", parentId=child)) == ["NOT_FOUND"]


async def test_subtenant_cannot_mint_a_bootstrap_user_to_reach_other_tenants_devices(
    admin: GraphQLClient, acme: GraphQLClient, globex: GraphQLClient
) -> None:
    registered = await globex(
        'mutation { register(devices: [{id: "globex-dev-1"}]) { __typename } }'
    )
    assert registered["data"]["register"]["__typename"] == "RegisterSuccess"
    body = await acme(
        'mutation { createUser(username: "boot", password: "boot-password", '
        "permissions: [DEVICE_BOOTSTRAP]) { username } }"
    )
    poll = await admin.http.post(
        "/devicecontrol/deviceCredentials",
        json={"id": "globex-dev-1"},
        headers={"Authorization": basic("acme/boot", "boot-password")},
    )
    status = await globex.data('{ registration(id: "globex-dev-1") { status } }')
    assert error_codes(body) == ["INVALID_INPUT"]
    assert poll.status_code == 401
    assert status == {"registration": {"status": "WAITING_FOR_CONNECTION"}}
