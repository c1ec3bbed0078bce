"""The webhook message, its Standard Webhooks signature and the retry schedule; no database."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from models.events import RegistrationEvent, RegistrationEventKind
from models.groups import Group
from models.registrations import Registration, RegistrationStatus
from resolvers.webhook_delivery import retry_delay
from resolvers.webhook_messages import (
    encode_body,
    event_payload,
    new_secret,
    signed_headers,
)

AT = datetime(2025, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


def accepted_event() -> RegistrationEvent:
    event = RegistrationEvent(
        seq=7,
        device_id="SN-1",
        kind=RegistrationEventKind.ACCEPTED,
        status=RegistrationStatus.ACCEPTED,
        previous_status=RegistrationStatus.PENDING_ACCEPTANCE,
        actor="acme/admin",
        at=AT,
    )
    event.tenant_id = "acme"
    return event


def accepted_registration() -> Registration:
    registration = Registration(
        device_id="SN-1",
        status=RegistrationStatus.ACCEPTED,
        owner="acme/admin",
        uses_token=True,
        token_hash="$argon2id$secret-hash",
        failed_attempts=1,
        created_at=AT - timedelta(hours=1),
        updated_at=AT,
        connected_at=AT - timedelta(minutes=5),
        accepted_at=AT,
        accepted_by="acme/admin",
        device_password_hash="ab" * 32,
    )
    # Foreign key columns, set as the ORM sets them when it reads a row.
    registration.tenant_id = "acme"
    registration.group_id = 3
    return registration


def test_secrets_are_standard_webhooks_secrets_of_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()
    assert first != second
    assert first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32


def test_payload_names_fields_as_graphql_does() -> None:
    group = Group(id=3, name="Building 7")
    payload = event_payload(accepted_event(), "CURSOR", accepted_registration(), group)
    assert payload == {
        "type": "registration.accepted",
        "timestamp": "2025-03-04T05:06:07.890123+00:00",
        "data": {
            "cursor": "CURSOR",
            "kind": "ACCEPTED",
            "id": "SN-1",
            "status": "ACCEPTED",
            "previousStatus": "PENDING_ACCEPTANCE",
            "at": "2025-03-04T05:06:07.890123+00:00",
            "actor": "acme/admin",
            "registration": {
                "id": "SN-1",
                "status": "ACCEPTED",
                "tenantId": "acme",
                "group": {"id": "3", "name": "Building 7"},
                "owner": "acme/admin",
                "createdAt": "2025-03-04T04:06:07.890123+00:00",
                "updatedAt": "2025-03-04T05:06:07.890123+00:00",
                "connectedAt": "2025-03-04T05:01:07.890123+00:00",
                "connectedFrom": None,
                "usesSecurityToken": True,
                "failedAttempts": 1,
                "acceptedAt": "2025-03-04T05:06:07.890123+00:00",
                "acceptedBy": "acme/admin",
                "blockedReason": None,
                "credentialsDeliveredAt": None,
                "lastAuthenticatedAt": None,
                "credentialsRequestedAgainAt": None,
            },
        },
    }
    assert "argon2" not in encode_body(payload) and "abab" not in encode_body(payload)


def test_removed_event_carries_no_registration() -> None:
    removed = RegistrationEvent(
        seq=9,
        tenant_id="acme",
        device_id="SN-1",
        kind=RegistrationEventKind.REMOVED,
        status=None,
        previous_status=RegistrationStatus.ACCEPTED,
        actor="acme/admin",
        at=AT,
    )
    payload = event_payload(removed, "C", accepted_registration())
    assert payload["type"] == "registration.removed"
    assert payload["data"]["status"] is None
    assert payload["data"]["registration"] is None


def test_signature_verifies_with_the_secret_and_only_with_it() -> None:
    secret = new_secret()
    body = encode_body(event_payload(accepted_event(), "CURSOR", None))
    now = datetime.now(UTC)
    headers = signed_headers(secret, "CURSOR", body, now)
    assert headers["webhook-id"] == "CURSOR"
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(body, headers) == json.loads(body)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("SN-1", "SN-2"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, {**headers, "webhook-id": "OTHER"})


def test_an_old_signature_is_refused_so_each_attempt_is_signed_anew() -> None:
    secret = new_secret()
    body = encode_body(event_payload(accepted_event(), "C", None))
    stale = signed_headers(secret, "C", body, datetime.now(UTC) - timedelta(minutes=10))
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(body, stale)


def test_retry_delay_doubles_from_the_minimum_up_to_the_maximum() -> None:
    delays = [retry_delay(n, 1.0, 3600.0) for n in range(1, 16)]
    assert delays[:5] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert delays[-1] == 3600.0
    assert all(a <= b for a, b in pairwise(delays))
    assert retry_delay(10_000, 0.05, 0.2) == 0.2
