"""``securityTokenPolicy``: the tenant option, or OPTIONAL for callers who may not read it."""

from __future__ import annotations

from tests.kit.accounts import ALL_PERMISSIONS, make_tenant, make_user
from tests.kit.clients import GraphQLClient
from tests.kit.options import set_option, set_token_policy, token_policy


async def test_policy_is_optional_when_unset(admin: GraphQLClient) -> None:
    assert await token_policy(admin) == "OPTIONAL"


async def test_policy_reads_the_tenant_option(admin: GraphQLClient) -> None:
    for value in ("REQUIRED", "IGNORED", "OPTIONAL"):
        await set_token_policy(admin, value)
        assert await token_policy(admin) == value


async def test_refused_value_leaves_the_policy_in_force(admin: GraphQLClient) -> None:
    await set_token_policy(admin, "REQUIRED")
    result = await set_option(admin, "device-registration", "security-token.policy", "required")
    assert result["__typename"] == "InvalidOption"
    assert await token_policy(admin) == "REQUIRED"


async def test_caller_without_option_read_sees_optional(admin: GraphQLClient) -> None:
    await set_token_policy(admin, "REQUIRED")
    blind = await make_user(
        admin, "blind", [p for p in ALL_PERMISSIONS if p != "OPTION_MANAGEMENT_READ"]
    )
    assert await token_policy(blind) == "OPTIONAL"
    assert await token_policy(admin) == "REQUIRED"


async def test_caller_with_only_option_read_sees_the_tenant_option(admin: GraphQLClient) -> None:
    await set_token_policy(admin, "IGNORED")
    reader = await make_user(admin, "reader", ["OPTION_MANAGEMENT_READ"])
    assert await token_policy(reader) == "IGNORED"


async def test_policy_is_per_tenant(admin: GraphQLClient) -> None:
    acme = await make_tenant(admin, "acme")
    await set_token_policy(acme, "REQUIRED")
    assert await token_policy(acme) == "REQUIRED"
    assert await token_policy(admin) == "OPTIONAL"
