"""Webhooks of a tenant: create, list, rotate the secret, delete (API.md §10.1).

Every operation needs DEVICE_CONTROL_ADMIN and stays inside the caller's own
tenant: another tenant's webhook is as good as missing (``NOT_FOUND``). The
signing secret is returned by ``create_webhook`` and ``rotate_secret`` only,
and is kept in the clear because signing needs it (see ``models/webhooks.py``);
no log line carries it, the ORM's SQL parameter log included.

A new webhook's cursor is the tenant's newest event, read under the tenant's
log lock (``resolvers/events.py``), so it receives exactly the events committed
after it was created. Delivery is ``resolvers/webhook_delivery.py``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Iterable
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

from models.events import RegistrationEventKind
from models.webhooks import Webhook
from resolvers import events
from resolvers.errors import InvalidInput, NotFound
from resolvers.permissions import Actor, Permission
from resolvers.webhook_messages import new_secret
from resolvers.webhook_urls import IPAddress, WebhookUrl, check_addresses, parse_webhook_url

log = logging.getLogger(__name__)

#: Webhooks one tenant may have; each is a deliverer's worth of work.
MAX_WEBHOOKS_PER_TENANT = 20
DESCRIPTION_MAX = 1000
WEBHOOK_ID_MAX = 2**31 - 1
RESOLVE_SECONDS = 5


async def resolve(target: WebhookUrl) -> list[IPAddress]:
    """The addresses the URL's host stands for (the literal itself for an address)."""
    literal = target.address
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_SECONDS):
            found = await loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError, UnicodeError):
        return []
    addresses: list[IPAddress] = []
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


async def check_destination(target: WebhookUrl, *, allow_private: bool) -> list[IPAddress]:
    """The addresses to deliver to, or :class:`InvalidInput` when they are refused.

    With ``allow_private`` nothing is resolved here (an empty list: connect by name).
    """
    if allow_private:
        return []
    addresses = await resolve(target)
    check_addresses(target, addresses)
    return addresses


def _kinds(kinds: Iterable[RegistrationEventKind] | None) -> list[str]:
    """Stored kind names, in the enum's order; ``[]`` (every kind) when left out."""
    if kinds is None:
        return []
    wanted = set(kinds)
    if not wanted:
        raise InvalidInput("give at least one event kind, or leave kinds out for every kind")
    return [kind.value for kind in RegistrationEventKind if kind in wanted]


def _description(value: str | None) -> str | None:
    if value is None:
        return None
    stripped = value.strip()
    if not stripped:
        return None
    if not stripped.isprintable():
        raise InvalidInput("the webhook description must not contain control characters")
    if len(stripped) > DESCRIPTION_MAX:
        raise InvalidInput(
            f"the webhook description must have at most {DESCRIPTION_MAX} characters"
        )
    return stripped


def parse_webhook_id(webhook_id: str) -> int | None:
    if webhook_id.isascii() and webhook_id.isdigit() and len(webhook_id) <= 10:
        value = int(webhook_id)
        if value <= WEBHOOK_ID_MAX:
            return value
    return None


async def _own_webhook(actor: Actor, webhook_id: str) -> Webhook:
    pk = parse_webhook_id(webhook_id)
    found = None if pk is None else await Webhook.get_or_none(id=pk, tenant_id=actor.tenant_id)
    if found is None:
        raise NotFound(f"no webhook with id {webhook_id[:60]!r}", webhook_id)
    return found


async def create_webhook(
    actor: Actor,
    url: str,
    kinds: Iterable[RegistrationEventKind] | None,
    description: str | None,
    *,
    allow_private: bool,
) -> tuple[Webhook, str]:
    """A webhook of the caller's tenant and its secret, shown this once.

    It receives every event committed from now on (of ``kinds``, or all kinds).
    The URL must be http(s) and, unless ``allow_private``, resolve to public
    addresses only.
    """
    actor.require(Permission.DEVICE_CONTROL_ADMIN)
    target = parse_webhook_url(url)
    chosen = _kinds(kinds)
    text = _description(description)
    await check_destination(target, allow_private=allow_private)
    secret = new_secret()
    async with in_transaction():
        await events.lock_tenant_log(actor.tenant_id)  # no event commits in between
        if await Webhook.filter(tenant_id=actor.tenant_id).count() >= MAX_WEBHOOKS_PER_TENANT:
            raise InvalidInput(
                f"a tenant can have at most {MAX_WEBHOOKS_PER_TENANT} webhooks; delete one first"
            )
        webhook = await Webhook.create(
            tenant_id=actor.tenant_id,
            url=target.url,
            kinds=chosen,
            description=text,
            secret=secret,
            created_at=datetime.now(UTC),
            after_seq=await events.latest_seq(actor.tenant_id),
        )
    log.info(
        "%s created webhook %s to %s for %s",
        actor.name,
        webhook.id,
        target.url,
        ", ".join(chosen) or "every event kind",
    )
    return webhook, secret


async def list_webhooks(actor: Actor) -> list[Webhook]:
    """The caller's tenant's webhooks, oldest first."""
    actor.require(Permission.DEVICE_CONTROL_ADMIN)
    return await Webhook.filter(tenant_id=actor.tenant_id).order_by("id")


async def rotate_secret(actor: Actor, webhook_id: str) -> tuple[Webhook, str]:
    """A new secret for the webhook, shown this once; later deliveries are signed with it."""
    actor.require(Permission.DEVICE_CONTROL_ADMIN)
    webhook = await _own_webhook(actor, webhook_id)
    secret = new_secret()
    updated = await Webhook.filter(id=webhook.id, tenant_id=actor.tenant_id).update(secret=secret)
    if not updated:  # deleted meanwhile
        raise NotFound(f"no webhook with id {webhook_id[:60]!r}", webhook_id)
    webhook.secret = secret
    log.info("%s rotated the secret of webhook %s", actor.name, webhook.id)
    return webhook, secret


async def delete_webhook(actor: Actor, webhook_id: str) -> str:
    """Delete the webhook; nothing more is delivered to it. Returns its id."""
    actor.require(Permission.DEVICE_CONTROL_ADMIN)
    webhook = await _own_webhook(actor, webhook_id)
    if not await Webhook.filter(id=webhook.id, tenant_id=actor.tenant_id).delete():
        raise NotFound(f"no webhook with id {webhook_id[:60]!r}", webhook_id)
    log.info("%s deleted webhook %s (%s)", actor.name, webhook.id, webhook.url)
    return str(webhook.id)
