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

from tortoise.transactions import in_transaction

from models.events import RegistrationEventKind
from models.registrations import Registration, RegistrationStatus
from resolvers import events, live, options, validation
from resolvers.errors import Forbidden, InvalidInput
from resolvers.passwords import hash_password, verify_password
from resolvers.permissions import Actor, Permission
from resolvers.registrations import TOKEN_MAX_LENGTH, utcnow
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
    if security_token is not None and len(security_token) > TOKEN_MAX_LENGTH:
        raise InvalidInput(f"the security token must have at most {TOKEN_MAX_LENGTH} characters")
    registration = await _poll_state(device_id)
    if registration is None:
        return None
    if registration.status is RegistrationStatus.WAITING_FOR_CONNECTION:
        await _first_contact(registration, security_token)
        return None
    if registration.status is RegistrationStatus.ACCEPTED and not registration.delivered:
        return await _deliver(registration, security_token)
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


async def _first_contact(registration: PollState, security_token: str | None) -> None:
    token = security_token or None
    token_hash = await hash_password(token) if token else None
    tenant_id = registration.tenant_id
    policy = await options.tenant_policy(tenant_id)
    blocked = blocks_at_first_contact(policy, presented_token=token is not None)
    async with in_transaction():
        await events.lock_tenant_log(tenant_id)
        at = utcnow()
        changed = await Registration.filter(
            device_id=registration.device_id, status=RegistrationStatus.WAITING_FOR_CONNECTION
        ).update(
            status=RegistrationStatus.BLOCKED if blocked else RegistrationStatus.PENDING_ACCEPTANCE,
            connected_at=at,
            updated_at=at,
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
        await events.append(
            events.new_event(
                tenant_id,
                registration.device_id,
                RegistrationEventKind.BLOCKED if blocked else RegistrationEventKind.CONNECTED,
                status=RegistrationStatus.BLOCKED
                if blocked
                else RegistrationStatus.PENDING_ACCEPTANCE,
                previous_status=RegistrationStatus.WAITING_FOR_CONNECTION,
                actor=device_username(registration.device_id),
                at=at,
            )
        )
    await live.notify(tenant_id)
    log.info(
        "device %s connected (%s a security token)%s",
        registration.device_id,
        "with" if token else "without",
        "; blocked: the policy requires a token" if blocked else "",
    )


async def _deliver(registration: PollState, security_token: str | None) -> IssuedCredentials | None:
    if registration.uses_token and not (
        security_token and await verify_password(registration.token_hash, security_token)
    ):
        return None
    password = secrets.token_urlsafe(24)
    username = device_username(registration.device_id)
    tenant_id = registration.tenant_id
    async with in_transaction():
        await events.lock_tenant_log(tenant_id)
        at = utcnow()
        delivered = await Registration.filter(
            device_id=registration.device_id,
            status=RegistrationStatus.ACCEPTED,
            credentials_delivered_at__isnull=True,
        ).update(
            credentials_delivered_at=at,
            updated_at=at,
            device_username=username,
            device_password_hash=hash_device_password(password),
        )
        if not delivered:
            return None  # a concurrent poll collected them, or the registration changed
        await events.append(
            events.new_event(
                tenant_id,
                registration.device_id,
                RegistrationEventKind.CREDENTIALS_DELIVERED,
                status=RegistrationStatus.ACCEPTED,
                previous_status=RegistrationStatus.ACCEPTED,
                actor=device_username(registration.device_id),
                at=at,
            )
        )
    await live.notify(tenant_id)
    log.info("device %s collected its credentials", registration.device_id)
    return IssuedCredentials(registration.device_id, tenant_id, username, password)
