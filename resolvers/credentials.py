"""The device's side of registration: polling for credentials (API.md §4, §5.2).

``request_credentials`` serves both ``POST /devicecontrol/deviceCredentials``
and the ``requestDeviceCredentials`` mutation. It answers ``None`` for every
situation the REST table answers 404, so a caller cannot tell a pending device
from an unknown or blocked one. A poll that changes nothing reads one row by
primary key and writes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass

from models.registrations import Registration, RegistrationStatus
from resolvers import lifecycle, options, security_tokens, validation
from resolvers.broker_sync import provision_brokers
from resolvers.changes import tenant_change
from resolvers.errors import Forbidden
from resolvers.permissions import Actor, Permission
from resolvers.token_policy import blocks_at_first_contact

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssuedCredentials:
    """Returned once, at delivery; the password exists nowhere else in clear."""

    device_id: str
    tenant_id: str
    username: str
    password: str

    def __repr__(self) -> str:  # keep the password out of logs and tracebacks
        return f"IssuedCredentials(device_id={self.device_id!r}, username={self.username!r})"


def device_username(device_id: str) -> str:
    return f"device_{device_id}"


def hash_device_password(password: str) -> str:
    """SHA-256: the device password is a random 128-bit secret, so a fast digest is safe."""
    return hashlib.sha256(password.encode()).hexdigest()


def may_request(actor: Actor) -> bool:
    """Device ids are platform-wide, so only the platform's own bootstrap users may poll."""
    return actor.is_management and actor.can(Permission.DEVICE_BOOTSTRAP)


async def request_credentials(
    actor: Actor, device_id: str, security_token: str | None
) -> IssuedCredentials | None:
    """One poll of a device for its credentials.

    WAITING_FOR_CONNECTION: first contact; becomes PENDING_ACCEPTANCE, or BLOCKED
    under REQUIRED without a token; the token is kept as a salted hash only.
    ACCEPTED and not yet delivered: with the token presented at first contact
    (or any, or none, if the device presented none) the device gets
    ``device_<id>`` and a new password, exactly once.
    """
    if not may_request(actor):
        raise Forbidden(
            "only a management tenant user with DEVICE_BOOTSTRAP can request device credentials"
        )
    if validation.device_id_problem(device_id) is not None:
        return None
    security_tokens.check_length(security_token)
    token = security_tokens.presented(security_token)
    registration = await _poll_state(device_id)
    if registration is None:
        return None
    if lifecycle.CONNECT.allows(registration.status):
        await _first_contact(registration, token)
        return None
    if lifecycle.DELIVER.allows(registration.status) and not registration.delivered:
        return await _deliver(registration, token)
    return None


@dataclass(frozen=True)
class PollState:
    """What a poll needs to know of a registration."""

    device_id: str
    tenant_id: str
    status: RegistrationStatus
    delivered: bool
    uses_token: bool
    token_hash: str | None


_POLL_SQL = (
    "SELECT tenant_id, status, credentials_delivered_at IS NOT NULL AS delivered, "
    "uses_token, token_hash FROM registrations WHERE device_id = {}"
)


async def _poll_state(device_id: str) -> PollState | None:
    """One primary-key read, in hand-written SQL.

    This is the hottest query of the server (every device polls every few
    seconds during a roll-out); building it through the ORM cost more CPU than
    running it.
    """
    connection = Registration._meta.db
    mark = "$1" if connection.capabilities.dialect == "postgres" else "?"
    rows = await connection.execute_query_dict(_POLL_SQL.format(mark), [device_id])
    if not rows:
        return None
    row = rows[0]
    return PollState(
        device_id=device_id,
        tenant_id=row["tenant_id"],
        status=RegistrationStatus(row["status"]),
        delivered=bool(row["delivered"]),
        uses_token=bool(row["uses_token"]),
        token_hash=row["token_hash"],
    )


async def _first_contact(registration: PollState, token: str | None) -> None:
    token_hash = await security_tokens.digest(token) if token else None
    tenant_id = registration.tenant_id
    policy = await options.tenant_policy(tenant_id)
    blocked = blocks_at_first_contact(policy, presented_token=token is not None)
    transition = lifecycle.first_contact(blocked)
    device = registration.device_id
    async with tenant_change(tenant_id) as change:
        changed = await Registration.filter(device_id=device, status__in=transition.sources).update(
            status=transition.target,
            connected_at=change.at,
            updated_at=change.at,
            uses_token=token is not None,
            token_hash=token_hash,
            blocked_reason=(
                "the device connected without a security token, which the REQUIRED policy "
                "does not allow"
                if blocked
                else None
            ),
        )
        if not changed:
            return  # another poll of the same device got there first
        change.record(
            transition,
            tenant_id,
            device,
            previous=registration.status,
            actor=device_username(device),
        )
        change.note(
            "device %s connected (%s a security token)%s",
            device,
            "with" if token else "without",
            "; blocked: the policy requires a token" if blocked else "",
        )


async def _deliver(registration: PollState, token: str | None) -> IssuedCredentials | None:
    if registration.uses_token and not await security_tokens.matches(
        registration.token_hash, token
    ):
        return None
    password = secrets.token_urlsafe(24)
    device = registration.device_id
    username = device_username(device)
    tenant_id = registration.tenant_id
    deliver = lifecycle.DELIVER
    async with tenant_change(tenant_id) as change:
        delivered = await Registration.filter(
            device_id=device, status__in=deliver.sources, credentials_delivered_at__isnull=True
        ).update(
            credentials_delivered_at=change.at,
            updated_at=change.at,
            device_username=username,
            device_password_hash=hash_device_password(password),
        )
        if not delivered:
            return None  # a concurrent poll collected them, or the registration changed
        # Mosquitto confirms the client before anything commits, or nothing does (§10.2).
        await provision_brokers(device, password)
        change.record(deliver, tenant_id, device, previous=registration.status, actor=username)
        change.note("device %s collected its credentials", device)
    return IssuedCredentials(device, tenant_id, username, password)
