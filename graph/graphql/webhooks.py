"""GraphQL for webhooks: ``webhooks`` and the webhook mutations (API.md §10.1)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from graph.graphql.arguments import given
from graph.graphql.context import Info
from graph.graphql.permissions import can
from models.events import RegistrationEventKind
from models.webhooks import Webhook as WebhookRow
from resolvers import webhooks
from resolvers.permissions import Permission

_KIND_NAMES = {kind.value for kind in RegistrationEventKind}


@strawberry.type(description="Where the tenant's events are pushed, and how delivery goes.")
class Webhook:
    id: strawberry.ID
    url: str
    kinds: list[RegistrationEventKind] = strawberry.field(
        description="The event kinds delivered (every kind when created without `kinds`)."
    )
    description: str | None
    created_at: datetime
    last_delivered_at: datetime | None
    last_error: str | None = strawberry.field(
        description="Why the last attempt failed; null once an event is delivered."
    )
    failing_since: datetime | None = strawberry.field(
        description="When the current run of failed attempts began; null when delivering."
    )

    @classmethod
    def from_model(cls, row: WebhookRow) -> Webhook:
        return cls(
            id=strawberry.ID(str(row.id)),
            url=row.url,
            kinds=[RegistrationEventKind(k) for k in row.kinds if k in _KIND_NAMES]
            or list(RegistrationEventKind),
            description=row.description,
            created_at=row.created_at,
            last_delivered_at=row.last_delivered_at,
            last_error=row.last_error,
            failing_since=row.failing_since,
        )


@strawberry.type(description="A webhook and its signing secret, shown this once.")
class WebhookWithSecret:
    webhook: Webhook
    secret: str

    @classmethod
    def from_model(cls, row: WebhookRow, secret: str) -> WebhookWithSecret:
        return cls(webhook=Webhook.from_model(row), secret=secret)


@strawberry.type
class WebhookQueries:
    @strawberry.field(
        permission_classes=[can(Permission.DEVICE_CONTROL_ADMIN)],
        description="The tenant's webhooks, oldest first.",
    )
    async def webhooks(self, info: Info) -> list[Webhook]:
        rows = await webhooks.list_webhooks(info.context.caller)
        return [Webhook.from_model(row) for row in rows]


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        permission_classes=[can(Permission.DEVICE_CONTROL_ADMIN)],
        description="POST every event of the tenant committed from now on (of `kinds`, or all) "
        "to `url`, signed the Standard Webhooks way with the secret returned this once.",
    )
    async def create_webhook(
        self,
        info: Info,
        url: str,
        kinds: list[RegistrationEventKind] | None = strawberry.UNSET,
        description: str | None = strawberry.UNSET,
    ) -> WebhookWithSecret:
        row, secret = await webhooks.create_webhook(
            info.context.caller,
            url,
            given(kinds),
            given(description),
            allow_private=info.context.settings.webhooks_allow_private,
        )
        return WebhookWithSecret.from_model(row, secret)

    @strawberry.mutation(
        permission_classes=[can(Permission.DEVICE_CONTROL_ADMIN)],
        description="A new signing secret, returned this once; later deliveries use it.",
    )
    async def rotate_webhook_secret(self, info: Info, id: strawberry.ID) -> WebhookWithSecret:
        row, secret = await webhooks.rotate_secret(info.context.caller, id)
        return WebhookWithSecret.from_model(row, secret)

    @strawberry.mutation(
        permission_classes=[can(Permission.DEVICE_CONTROL_ADMIN)],
        description="Delete a webhook; nothing more is delivered to it. Returns its id.",
    )
    async def delete_webhook(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        return strawberry.ID(await webhooks.delete_webhook(info.context.caller, id))
