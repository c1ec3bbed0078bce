"""Webhook documents and helpers shared by the webhook tests."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import httpx

from resolvers import live
from resolvers.webhook_delivery import DeliveryConfig, WebhookDeliverer
from tests.kit.clients import GraphQLClient

T = TypeVar("T")

#: Small timings for deliverers in the tests' own process.
FAST = DeliveryConfig(
    allow_private=True,
    timeout=0.5,
    min_backoff=0.05,
    max_backoff=0.2,
    poll_interval=0.5,
    lease_seconds=5,
)

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


@contextlib.asynccontextmanager
async def delivering(
    config: DeliveryConfig = FAST, transport: httpx.AsyncBaseTransport | None = None
) -> AsyncIterator[WebhookDeliverer]:
    """A deliverer in this process, woken by the current app's event hub as ``create_app``
    wires it (the in-process test app runs no lifespan, so it starts none itself)."""
    deliverer = WebhookDeliverer(config, transport=transport)
    live.current_hub().watch_events(deliverer.notice)
    deliverer.start()
    try:
        yield deliverer
    finally:
        await deliverer.stop()


async def until(check: Callable[[], Awaitable[T | None]], timeout: float = 5) -> T:
    """Poll ``check()`` until it returns something other than ``None``; that."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value is not None:
            return value
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)
