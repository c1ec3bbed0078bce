"""The device's side of registration: polling for credentials (API.md §4, §5.2).

``request_credentials`` serves both ``POST /devicecontrol/deviceCredentials``
and the ``requestDeviceCredentials`` mutation. It answers ``None`` for every
situation the REST table answers 404, so a caller cannot tell a pending device
from an unknown or blocked one. A poll that changes nothing reads one row by
primary key and writes nothing.

The bootstrap login is printed on every device, so whoever polls may be an
attacker (API.md §9.6): polls per device id are throttled before anything is
read (§9.2); a wrong token at the poll that would collect the credentials
counts a failed attempt as at ``accept`` and blocks at the limit (§4); first
contact records the client address (``connectedFrom``); and a poll after the
credentials were delivered leaves a CREDENTIALS_REQUESTED_AGAIN event, at most
once an hour per registration, because either the device lost them or somebody
else collected them.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from models.registrations import Registration, RegistrationStatus
from resolvers import changes, lifecycle, options, security_tokens, validation
from resolvers.attempts import count_failed_attempt
from resolvers.broker_sync import provision_brokers
from resolvers.changes import tenant_change
from resolvers.errors import Forbidden, Throttled
from resolvers.metrics import DELIVERY_REJECTIONS, POLLS, AcceptResult, PollResult
from resolvers.permissions import Actor, Permission
from resolvers.throttling import Throttles
from resolvers.token_policy import blocks_at_first_contact

log = logging.getLogger(__name__)

#: At most one CREDENTIALS_REQUESTED_AGAIN event per registration in this time (API.md §9.6).
REQUESTED_AGAIN_EVERY = timedelta(hours=1)
#: ``connectedFrom`` is kept to this length (an address, or an unparsable peer name).
ADDRESS_MAX_LENGTH = 100


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
    actor: Actor,
    device_id: str,
    security_token: str | None,
    *,
    client_address: str,
    throttles: Throttles,
) -> IssuedCredentials | None:
    """One poll of a device for its credentials, from ``client_address``.

    Beyond the poll limit: :class:`~resolvers.errors.Throttled`, with nothing
    read or written. WAITING_FOR_CONNECTION: first contact; becomes
    PENDING_ACCEPTANCE, or BLOCKED under REQUIRED without a token; the token is
    kept as a salted hash only, the address as ``connected_from``. ACCEPTED and
    not yet delivered: with the token presented at first contact (or any, or
    none, if the device presented none) the device gets ``device_<id>`` and a
    new password, exactly once; a token that does not match counts a failed
    attempt and blocks at the tenant's limit. ACCEPTED and delivered:
    CREDENTIALS_REQUESTED_AGAIN, at most once an hour.
    """
    if not may_request(actor):
        raise Forbidden(
            "only a management tenant user with DEVICE_BOOTSTRAP can request device credentials"
        )
    if validation.device_id_problem(device_id) is not None:
        POLLS[PollResult.NOT_FOUND].inc()
        return None
    security_tokens.check_length(security_token)
    try:
        await throttles.admit_poll(device_id)
    except Throttled:
        POLLS[PollResult.THROTTLED].inc()
        raise
    token = security_tokens.presented(security_token)
    registration = await _poll_state(device_id)
    result, issued = PollResult.NOT_FOUND, None
    if registration is None:
        pass
    elif lifecycle.CONNECT.allows(registration.status):
        if await _first_contact(registration, token, client_address):
            result = PollResult.CONNECTED
    elif lifecycle.DELIVER.allows(registration.status):
        if not registration.delivered:
            issued = await _deliver(registration, token)
            if issued is not None:
                result = PollResult.DELIVERED
        elif requested_again_due(registration.requested_again_at, changes.utcnow()):
            await _requested_again(registration, client_address)
    POLLS[result].inc()  # counted once committed: a poll that failed is not counted
    return issued


def requested_again_due(last: datetime | None, now: datetime) -> bool:
    """Whether a poll after delivery writes CREDENTIALS_REQUESTED_AGAIN (once an hour)."""
    return last is None or now - last >= REQUESTED_AGAIN_EVERY


class PollState(NamedTuple):
    """What a poll needs to know of a registration (a tuple: built on every poll, it is a
    fifth of a frozen dataclass's cost)."""

    device_id: str
    tenant_id: str
    status: RegistrationStatus
    delivered: bool
    uses_token: bool
    token_hash: str | None
    requested_again_at: datetime | None = None


_POLL_SQL = (
    "SELECT tenant_id, status, credentials_delivered_at IS NOT NULL AS delivered, "
    "uses_token, token_hash, credentials_requested_again_at "
    "FROM registrations WHERE device_id = {}"
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
        requested_again_at=_as_datetime(row["credentials_requested_again_at"]),
    )


def _as_datetime(value: object) -> datetime | None:
    """A timestamp column as read by hand-written SQL (SQLite gives text), in UTC."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=changes.utcnow().tzinfo)


async def _first_contact(registration: PollState, token: str | None, client_address: str) -> bool:
    """Whether this poll was the first contact (``False``: a concurrent poll was)."""
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
            connected_from=client_address[:ADDRESS_MAX_LENGTH],
            blocked_reason=(
                "the device connected without a security token, which the REQUIRED policy "
                "does not allow"
                if blocked
                else None
            ),
        )
        if not changed:
            return False  # another poll of the same device got there first
        change.record(
            transition,
            tenant_id,
            device,
            previous=registration.status,
            actor=device_username(device),
        )
        change.note(
            "device %s connected from %s (%s a security token)%s",
            device,
            client_address,
            "with" if token else "without",
            "; blocked: the policy requires a token" if blocked else "",
        )
    return True


async def _deliver(registration: PollState, token: str | None) -> IssuedCredentials | None:
    if registration.uses_token and not await security_tokens.matches(
        registration.token_hash, token
    ):
        await _reject_token_at_delivery(registration)
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


async def _reject_token_at_delivery(registration: PollState) -> None:
    """A wrong or missing token where the device presented one: one failed attempt (§4)."""
    tenant_id = registration.tenant_id
    device = registration.device_id
    limit = await options.max_failed_attempts(tenant_id)
    where = lifecycle.AT_DELIVERY
    async with tenant_change(tenant_id) as change:
        row = await Registration.get_or_none(device_id=device, tenant_id=tenant_id)
        if (
            row is None
            or not where.rejected.allows(row.status)
            or row.credentials_delivered_at is not None
        ):
            return  # removed, blocked or delivered while the token was compared
        transition = await count_failed_attempt(
            change, row, limit, where, actor=device_username(device)
        )
        change.note(
            "device %s: security token rejected at delivery (%d/%d)%s",
            device,
            row.failed_attempts,
            limit,
            "; blocked" if transition is where.blocked else "",
        )
    blocked = transition is where.blocked
    DELIVERY_REJECTIONS[AcceptResult.BLOCKED if blocked else AcceptResult.TOKEN_REJECTED].inc()


async def _requested_again(registration: PollState, client_address: str) -> None:
    """A poll after delivery: the trace of a device that lost its credentials, or of a
    takeover (API.md §9.6). Conditional on the last one being an hour old, so concurrent
    polls write one event."""
    tenant_id = registration.tenant_id
    device = registration.device_id
    again = lifecycle.REQUEST_AGAIN
    async with tenant_change(tenant_id) as change:
        row = await Registration.get_or_none(device_id=device, tenant_id=tenant_id)
        if (
            row is None
            or not again.allows(row.status)
            or row.credentials_delivered_at is None
            or not requested_again_due(row.credentials_requested_again_at, change.at)
        ):
            return
        row.credentials_requested_again_at = change.at
        await row.save(update_fields=["credentials_requested_again_at"])
        change.record(again, tenant_id, device, previous=row.status, actor=device_username(device))
        change.note(
            "credentials of device %s requested again from %s after delivery",
            device,
            client_address,
        )
