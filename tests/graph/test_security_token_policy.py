"""``securityTokenPolicy``: the tenant option, or OPTIONAL for callers who may not read it."""

from __future__ import annotations

from tests.kit.accounts import ALL_PERMISSIONS, make_tenant, make_user
from tests.kit.clients import GraphQLClient

POLICY = "{ securityTokenPolicy }"
SET_POLICY = """
mutation($value: String!) {
  setTenantOption(category: "device-registration", key: "security-token.policy", value: $value) {
    __typename
  }
}"""


async def policy(client: GraphQLClient) -> str:
    return str((await client.data(POLICY))["securityTokenPolicy"])


async def test_policy_is_optional_when_unset(admin: GraphQLClient) -> None:
    assert await policy(admin) == "OPTIONAL"


async def test_policy_reads_the_tenant_option(admin: GraphQLClient) -> None:
    for value in ("REQUIRED", "IGNORED", "OPTIONAL"):
        await admin.data(SET_POLICY, value=value)
        assert await policy(admin) == value


async def test_refused_value_leaves_the_policy_in_force(admin: GraphQLClient) -> None:
    await admin.data(SET_POLICY, value="REQUIRED")
    result = (await admin.data(SET_POLICY, value="required"))["setTenantOption"]
    assert result["__typename"] == "InvalidOption"
    assert await policy(admin) == "REQUIRED"


async def test_caller_without_option_read_sees_optional(admin: GraphQLClient) -> None:
    await admin.data(SET_POLICY, value="REQUIRED")
    blind = await make_user(
        admin, "blind", [p for p in ALL_PERMISSIONS if p != "OPTION_MANAGEMENT_READ"]
    )
    assert await policy(blind) == "OPTIONAL"
    assert await policy(admin) == "REQUIRED"


async def test_caller_with_only_option_read_sees_the_tenant_option(admin: GraphQLClient) -> None:
    await admin.data(SET_POLICY, value="IGNORED")
    reader = await make_user(admin, "reader", ["OPTION_MANAGEMENT_READ"])
    assert await policy(reader) == "IGNORED"


async def test_policy_is_per_tenant(admin: GraphQLClient) -> None:
    acme = await make_tenant(admin, "acme")
    await acme.data(SET_POLICY, value="REQUIRED")
    assert await policy(acme) == "REQUIRED"
    assert await policy(admin) == "OPTIONAL"
