"""Setting the tenant options that steer device registration."""

from __future__ import annotations

from tests.kit.clients import GraphQLClient
from tests.kit.documents import SET_TENANT_OPTION


async def set_registration_option(client: GraphQLClient, key: str, value: str) -> None:
    """Set a ``device-registration`` option of ``client``'s tenant; it must be accepted."""
    data = await client.data(
        SET_TENANT_OPTION, category="device-registration", key=key, value=value
    )
    assert data["setTenantOption"]["__typename"] == "TenantOption", data


async def set_token_policy(client: GraphQLClient, policy: str) -> None:
    """``security-token.policy`` of ``client``'s tenant: IGNORED, OPTIONAL or REQUIRED."""
    await set_registration_option(client, "security-token.policy", policy)


async def set_max_failed_attempts(client: GraphQLClient, limit: int) -> None:
    await set_registration_option(client, "security-token.max-failed-attempts", str(limit))
