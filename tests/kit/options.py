"""Setting tenant options, above all the two that steer device registration."""

from __future__ import annotations

from typing import Any

from tests.kit.clients import GraphQLClient
from tests.kit.documents import SECURITY_TOKEN_POLICY, SET_TENANT_OPTION

#: The option category of the security token settings.
REGISTRATION_CATEGORY = "device-registration"
#: IGNORED, OPTIONAL (the default) or REQUIRED.
TOKEN_POLICY_KEY = "security-token.policy"
#: Wrong tokens a registration survives before it is blocked (5 by default).
MAX_FAILED_ATTEMPTS_KEY = "security-token.max-failed-attempts"


async def set_option(client: GraphQLClient, category: str, key: str, value: str) -> dict[str, Any]:
    """Set an option of ``client``'s tenant; returns the ``TenantOption`` or the ``Problem``."""
    result: dict[str, Any] = (
        await client.data(SET_TENANT_OPTION, category=category, key=key, value=value)
    )["setTenantOption"]
    return result


async def set_token_policy(client: GraphQLClient, policy: str) -> None:
    """Set ``security-token.policy`` of ``client``'s tenant (IGNORED, OPTIONAL or REQUIRED)."""
    result = await set_option(client, REGISTRATION_CATEGORY, TOKEN_POLICY_KEY, policy)
    assert result["__typename"] == "TenantOption", result


async def set_max_failed_attempts(client: GraphQLClient, limit: int) -> None:
    """Set ``security-token.max-failed-attempts`` of ``client``'s tenant."""
    result = await set_option(client, REGISTRATION_CATEGORY, MAX_FAILED_ATTEMPTS_KEY, str(limit))
    assert result["__typename"] == "TenantOption", result


async def token_policy(client: GraphQLClient) -> str:
    """The ``securityTokenPolicy`` that ``client`` reads."""
    return str((await client.data(SECURITY_TOKEN_POLICY))["securityTokenPolicy"])
