"""Webhook documents and helpers shared by the webhook tests."""

from __future__ import annotations

from typing import Any

from tests.kit.clients import GraphQLClient

WEBHOOK_FIELDS = "id url kinds description createdAt lastDeliveredAt lastError failingSince"

CREATE_WEBHOOK = f"""
mutation($url: String!, $kinds: [RegistrationEventKind!], $description: String) {{
  createWebhook(url: $url, kinds: $kinds, description: $description) {{
    secret webhook {{ {WEBHOOK_FIELDS} }}
  }}
}}"""

WEBHOOKS = f"{{ webhooks {{ {WEBHOOK_FIELDS} }} }}"

ROTATE_WEBHOOK_SECRET = f"""
mutation($id: ID!) {{ rotateWebhookSecret(id: $id) {{ secret webhook {{ {WEBHOOK_FIELDS} }} }} }}"""

DELETE_WEBHOOK = "mutation($id: ID!) { deleteWebhook(id: $id) }"


async def create_webhook(
    client: GraphQLClient,
    url: str,
    kinds: list[str] | None = None,
    description: str | None = None,
) -> tuple[dict[str, Any], str]:
    """A new webhook of the client's tenant and its secret."""
    data = await client.data(CREATE_WEBHOOK, url=url, kinds=kinds, description=description)
    created = data["createWebhook"]
    return created["webhook"], created["secret"]


async def webhook_state(client: GraphQLClient, webhook_id: str) -> dict[str, Any]:
    """The webhook as ``webhooks`` lists it."""
    listed = (await client.data(WEBHOOKS))["webhooks"]
    found = [hook for hook in listed if hook["id"] == webhook_id]
    assert found, f"webhook {webhook_id} is not listed: {listed}"
    return found[0]
