"""Managing webhooks through GraphQL (API.md §10.1): the secret once, the rules, the isolation.

Delivery is tested in ``test_webhook_delivery.py``; nothing here sends a request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest

from graph.settings import Settings
from models.events import RegistrationEventKind
from models.webhooks import Webhook
from resolvers.webhooks import MAX_WEBHOOKS_PER_TENANT
from tests.kit.accounts import ADMIN_LOGIN, ADMIN_PASSWORD, make_tenant, make_user
from tests.kit.clients import GraphQLClient, app_client, error_codes
from tests.kit.webhooks import (
    CREATE_WEBHOOK,
    DELETE_WEBHOOK,
    ROTATE_WEBHOOK_SECRET,
    WEBHOOKS,
    create_webhook,
)

#: What a webhook created without ``kinds`` lists: every kind, later ones included.
ALL_KINDS = [kind.value for kind in RegistrationEventKind]
RECEIVER = "http://127.0.0.1:9/hook"  # never contacted here: no deliverer runs


@pytest.fixture
def settings() -> Settings:
    return Settings(database_url="sqlite://:memory:", webhooks_allow_private=True)


@pytest.fixture
async def strict(db: str) -> AsyncIterator[GraphQLClient]:
    """``management/admin`` on an app with the default rule: public addresses only."""
    async with app_client(Settings(database_url="sqlite://:memory:")) as client:
        yield GraphQLClient(client, ADMIN_LOGIN, ADMIN_PASSWORD)


async def test_create_returns_the_secret_once_and_lists_the_webhook_without_it(
    admin: GraphQLClient,
) -> None:
    hook, secret = await create_webhook(
        admin, RECEIVER, ["ACCEPTED", "REGISTERED"], "  inventory sync  "
    )
    assert secret.startswith("whsec_") and len(secret) > 40
    assert hook["url"] == RECEIVER
    assert hook["kinds"] == ["REGISTERED", "ACCEPTED"]
    assert hook["description"] == "inventory sync"
    assert datetime.fromisoformat(hook["createdAt"])
    assert (hook["lastDeliveredAt"], hook["lastError"], hook["failingSince"]) == (None, None, None)

    listed = await admin(WEBHOOKS)
    assert listed["data"]["webhooks"] == [hook]
    assert secret not in str(listed)
    fields = await admin.data('{ __type(name: "Webhook") { fields { name } } }')
    names = {field["name"] for field in fields["__type"]["fields"]}
    assert names == {
        "id",
        "url",
        "kinds",
        "description",
        "createdAt",
        "lastDeliveredAt",
        "lastError",
        "failingSince",
    }


async def test_without_kinds_every_kind_is_delivered(admin: GraphQLClient) -> None:
    hook, _ = await create_webhook(admin, RECEIVER)
    assert hook["kinds"] == ALL_KINDS
    assert hook["description"] is None
    refused = await admin(CREATE_WEBHOOK, url=RECEIVER, kinds=[])
    assert error_codes(refused) == ["INVALID_INPUT"]
    assert "at least one event kind" in refused["errors"][0]["message"]


async def test_rotating_gives_a_new_secret_and_keeps_the_webhook(admin: GraphQLClient) -> None:
    hook, secret = await create_webhook(admin, RECEIVER)
    rotated = (await admin.data(ROTATE_WEBHOOK_SECRET, id=hook["id"]))["rotateWebhookSecret"]
    assert rotated["webhook"] == hook
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != secret
    stored = await Webhook.get(id=int(hook["id"]))
    assert stored.secret == rotated["secret"]


async def test_deleting_removes_the_webhook(admin: GraphQLClient) -> None:
    first, _ = await create_webhook(admin, RECEIVER, description="first")
    second, _ = await create_webhook(admin, RECEIVER, description="second")
    assert (await admin.data(DELETE_WEBHOOK, id=first["id"])) == {"deleteWebhook": first["id"]}
    assert (await admin.data(WEBHOOKS))["webhooks"] == [second]
    again = await admin(DELETE_WEBHOOK, id=first["id"])
    assert error_codes(again) == ["NOT_FOUND"]


@pytest.mark.parametrize("bad_id", ["999", "abc", "", "-1", "99999999999", "٣"])
async def test_unknown_ids_are_not_found(admin: GraphQLClient, bad_id: str) -> None:
    for document in (ROTATE_WEBHOOK_SECRET, DELETE_WEBHOOK):
        body = await admin(document, id=bad_id)
        assert error_codes(body) == ["NOT_FOUND"], body


async def test_an_id_with_a_nul_character_is_invalid_input(admin: GraphQLClient) -> None:
    # Refused before anything runs, like a NUL in any argument (API.md §9.6).
    for document in (ROTATE_WEBHOOK_SECRET, DELETE_WEBHOOK):
        body = await admin(document, id="1\x00")
        assert error_codes(body) == ["INVALID_INPUT"], body


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://127.0.0.1/x", "http:// or https://"),
        ("127.0.0.1:8000/hook", "http:// or https://"),
        ("http://user:secret@127.0.0.1/", "user name or password"),
        ("http://127.0.0.1/" + "x" * 2100, "1 to 2048"),
        ("http:///hook", "no host"),
    ],
)
async def test_bad_urls_are_invalid_input(admin: GraphQLClient, url: str, says: str) -> None:
    body = await admin(CREATE_WEBHOOK, url=url)
    assert error_codes(body) == ["INVALID_INPUT"]
    assert says in body["errors"][0]["message"]
    assert "secret" not in body["errors"][0]["message"]
    assert await Webhook.all().count() == 0


async def test_bad_descriptions_are_invalid_input(admin: GraphQLClient) -> None:
    for description in ("x" * 1001, "line\x00break"):
        body = await admin(CREATE_WEBHOOK, url=RECEIVER, description=description)
        assert error_codes(body) == ["INVALID_INPUT"]
    assert await Webhook.all().count() == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost:8000/hook",
        "http://10.0.0.8/hook",
        "http://172.20.1.1/hook",
        "https://192.168.1.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8000/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://224.0.0.1/hook",
        "http://0.0.0.0:8000/hook",
    ],
)
async def test_private_addresses_are_refused_by_default(strict: GraphQLClient, url: str) -> None:
    body = await strict(CREATE_WEBHOOK, url=url)
    assert error_codes(body) == ["INVALID_INPUT"], body
    message = body["errors"][0]["message"]
    assert "GATEHOUSE_WEBHOOKS_ALLOW_PRIVATE" in message
    assert await Webhook.all().count() == 0


async def test_a_public_address_is_accepted_by_default(strict: GraphQLClient) -> None:
    # An address literal: nothing is resolved, and no deliverer runs to send anything.
    hook, _ = await create_webhook(strict, "https://93.184.215.14/hook")
    assert hook["url"] == "https://93.184.215.14/hook"


async def test_webhooks_need_device_control_admin(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    hook, secret = await create_webhook(admin, RECEIVER)
    reader = await make_user(admin, "reader", ["DEVICE_CONTROL_READ", "OPTION_MANAGEMENT_ADMIN"])
    attempts = [
        (WEBHOOKS, {}),
        (CREATE_WEBHOOK, {"url": RECEIVER}),
        (ROTATE_WEBHOOK_SECRET, {"id": hook["id"]}),
        (DELETE_WEBHOOK, {"id": hook["id"]}),
    ]
    for document, variables in attempts:
        body = await reader(document, **variables)
        assert error_codes(body) == ["FORBIDDEN"], body
        assert body["data"] is None
    stored = await Webhook.all()
    assert [(w.id, w.secret) for w in stored] == [(int(hook["id"]), secret)]


async def test_another_tenants_webhooks_are_invisible_and_untouchable(
    admin: GraphQLClient,
) -> None:
    acme = await make_tenant(admin, "acme")
    other = await make_tenant(admin, "other")
    hook, secret = await create_webhook(acme, RECEIVER, description="acme's")
    assert (await other.data(WEBHOOKS)) == {"webhooks": []}
    assert (await admin.data(WEBHOOKS)) == {"webhooks": []}
    for client in (other, admin):
        for document in (ROTATE_WEBHOOK_SECRET, DELETE_WEBHOOK):
            body = await client(document, id=hook["id"])
            assert error_codes(body) == ["NOT_FOUND"], body
            assert "acme" not in body["errors"][0]["message"]
    assert (await acme.data(WEBHOOKS))["webhooks"] == [hook]
    assert (await Webhook.get(id=int(hook["id"]))).secret == secret


async def test_a_tenant_has_a_bounded_number_of_webhooks(admin: GraphQLClient) -> None:
    for n in range(MAX_WEBHOOKS_PER_TENANT):
        await create_webhook(admin, RECEIVER, description=f"hook {n}")
    body = await admin(CREATE_WEBHOOK, url=RECEIVER)
    assert error_codes(body) == ["INVALID_INPUT"]
    assert f"at most {MAX_WEBHOOKS_PER_TENANT} webhooks" in body["errors"][0]["message"]
    acme = await make_tenant(admin, "acme")
    await create_webhook(acme, RECEIVER)  # the bound is per tenant
