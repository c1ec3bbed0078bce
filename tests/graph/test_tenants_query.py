"""The ``tenants`` query: the management administrator's list of tenants (API.md §7)."""

from __future__ import annotations

from tests.kit.accounts import make_tenant, make_user
from tests.kit.clients import GraphQLClient, error_codes

TENANTS = """
query($first: Int, $after: String) {
  tenants(first: $first, after: $after) {
    totalCount
    edges { cursor node { id name } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def test_management_administrator_pages_through_every_tenant_by_id(
    admin: GraphQLClient,
) -> None:
    for tenant_id in ("zeta", "acme", "beta"):
        await make_tenant(admin, tenant_id)
    first = (await admin.data(TENANTS, first=2))["tenants"]
    assert first["totalCount"] == 4
    assert [e["node"] for e in first["edges"]] == [
        {"id": "acme", "name": "Acme"},
        {"id": "beta", "name": "Beta"},
    ]
    assert first["pageInfo"] == {"hasNextPage": True, "endCursor": first["edges"][-1]["cursor"]}
    rest = (await admin.data(TENANTS, first=2, after=first["pageInfo"]["endCursor"]))["tenants"]
    assert [e["node"]["id"] for e in rest["edges"]] == ["management", "zeta"]
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_subtenant_administrator_is_refused_and_learns_no_tenant(
    admin: GraphQLClient,
) -> None:
    acme = await make_tenant(admin, "acme")
    body = await acme(TENANTS)
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["data"] is None


async def test_management_user_without_tenant_management_admin_is_refused(
    admin: GraphQLClient,
) -> None:
    operator = await make_user(admin, "operator", ["DEVICE_CONTROL_ADMIN", "DEVICE_CONTROL_READ"])
    assert error_codes(await operator(TENANTS)) == ["FORBIDDEN"]


async def test_a_cursor_of_another_list_is_invalid_input(admin: GraphQLClient) -> None:
    groups = await admin.data('mutation { createGroup(name: "g") { id } }')
    assert groups
    body = await admin(TENANTS, after="Z3JvdXA6MQ")  # "group:1"
    assert error_codes(body) == ["INVALID_INPUT"]
