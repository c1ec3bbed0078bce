"""What a webhook receives: the JSON body of one event and its Standard Webhooks headers.

Pure functions (API.md §10.1). The body is ``{"type", "timestamp", "data"}``,
where ``data`` carries the scalar fields of the GraphQL ``RegistrationEvent``
and its ``registration`` under the GraphQL names, so a receiver reads the same
fields as a subscriber. The headers are signed by the ``standardwebhooks``
package: ``webhook-signature`` is ``v1,<base64 HMAC-SHA256 of
"<webhook-id>.<webhook-timestamp>.<body>">``, keyed with the webhook's secret.
"""

from __future__ import annotations

import base64
import json
import math
import secrets
from datetime import UTC, datetime
from typing import Any

from standardwebhooks import Webhook as Signer

from models.events import RegistrationEvent
from models.groups import Group
from models.registrations import Registration

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
USER_AGENT = "Gatehouse-Webhooks/1"


def new_secret() -> str:
    """A fresh signing secret, ``whsec_`` and 32 random bytes in base64 (Standard Webhooks)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def event_type(event: RegistrationEvent) -> str:
    """``registration.accepted`` for an ``ACCEPTED`` event."""
    return f"registration.{event.kind.value.lower()}"


def _time(value: datetime | None) -> str | None:
    # As the GraphQL DateTime scalar writes it.
    return value.isoformat() if value is not None else None


def registration_data(registration: Registration, group: Group | None) -> dict[str, Any]:
    """The registration as the GraphQL ``Registration`` type names its fields."""
    return {
        "id": registration.device_id,
        "status": registration.status.value,
        "tenantId": registration.tenant_id,
        "group": None if group is None else {"id": str(group.id), "name": group.name},
        "owner": registration.owner,
        "createdAt": _time(registration.created_at),
        "updatedAt": _time(registration.updated_at),
        "connectedAt": _time(registration.connected_at),
        "connectedFrom": registration.connected_from,
        "usesSecurityToken": registration.uses_token,
        "failedAttempts": registration.failed_attempts,
        "acceptedAt": _time(registration.accepted_at),
        "acceptedBy": registration.accepted_by,
        "blockedReason": registration.blocked_reason,
        "credentialsDeliveredAt": _time(registration.credentials_delivered_at),
        "lastAuthenticatedAt": _time(registration.last_authenticated_at),
        "credentialsRequestedAgainAt": _time(registration.credentials_requested_again_at),
    }


def event_payload(
    event: RegistrationEvent,
    cursor: str,
    registration: Registration | None,
    group: Group | None = None,
) -> dict[str, Any]:
    """The webhook message of ``event``; ``registration`` as it is now (``None`` once removed)."""
    current = registration if event.status is not None else None
    return {
        "type": event_type(event),
        "timestamp": _time(event.at),
        "data": {
            "cursor": cursor,
            "kind": event.kind.value,
            "id": event.device_id,
            "status": event.status.value if event.status is not None else None,
            "previousStatus": (
                event.previous_status.value if event.previous_status is not None else None
            ),
            "at": _time(event.at),
            "actor": event.actor,
            "registration": None if current is None else registration_data(current, group),
        },
    }


def encode_body(payload: dict[str, Any]) -> str:
    """The exact text that is signed and sent."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def signed_headers(secret: str, message_id: str, body: str, now: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt to send ``body``, signed at ``now``."""
    at = now.astimezone(UTC)
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(math.floor(at.timestamp())),
        "webhook-signature": Signer(secret).sign(message_id, at, body),
    }
