"""The operator's side of the registration life cycle (API.md §5).

``register``, ``accept``, ``accept_all``, ``remove`` and the queries. Every
change runs in one transaction that takes the tenant's log lock first (see
``resolvers/events.py``), re-reads what it decides on under that lock, and
appends its events before commit. Expected failures are raised as domain
errors after the transaction has committed (a wrong token must still count).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models.events import RegistrationEventKind
from models.groups import Group
from models.registrations import Registration, RegistrationStatus
from models.tenants import Tenant
from resolvers import events, live, options, validation
from resolvers.errors import (
    DeviceProblem,
    InvalidInput,
    InvalidStatus,
    NotFound,
    RegisterRefused,
    RegistrationBlocked,
    SecurityTokenMismatch,
)
from resolvers.groups import find_group, parse_group_id
from resolvers.pagination import CountedPage, decode_cursor, page_size
from resolvers.passwords import verify_password
from resolvers.permissions import Actor, Permission
from resolvers.token_policy import Check, accept_check, accepted_without_token

log = logging.getLogger(__name__)

CURSOR_KIND = "registration"
MAX_DEVICES_PER_CALL = 10_000
TOKEN_MAX_LENGTH = 1024
PENDING = RegistrationStatus.PENDING_ACCEPTANCE


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DeviceToRegister:
    id: str
    group_id: str | None = None
    tenant_id: str | None = None


@dataclass(frozen=True)
class AcceptAllOutcome:
    accepted: list[Registration]
    not_accepted: list[Registration]


# ---------------------------------------------------------------- register


def _input_problems(actor: Actor, devices: Sequence[DeviceToRegister]) -> dict[str, DeviceProblem]:
    """Problems that need no database: ids, repeats, tenant-or-group, who may name a tenant."""
    problems: dict[str, DeviceProblem] = {}
    counts = Counter(d.id for d in devices)
    may_name_tenant = actor.is_management and actor.can(Permission.TENANT_MANAGEMENT_ADMIN)
    for device in devices:
        if device.id in problems:
            continue
        id_problem = validation.device_id_problem(device.id)
        if id_problem:
            problems[device.id] = DeviceProblem("INVALID_ID", id_problem, device.id)
        elif counts[device.id] > 1:
            problems[device.id] = DeviceProblem(
                "ALREADY_EXISTS",
                f"device {device.id} is given {counts[device.id]} times in this call",
                device.id,
            )
        elif device.tenant_id is not None and device.group_id is not None:
            problems[device.id] = DeviceProblem(
                "TENANT_AND_GROUP",
                f"device {device.id} names both a tenant and a group; "
                "register it to a tenant or to a group, not both",
                device.id,
            )
        elif device.tenant_id is not None and not may_name_tenant:
            problems[device.id] = DeviceProblem(
                "INVALID_INPUT",
                f"device {device.id}: only a management tenant user with "
                "TENANT_MANAGEMENT_ADMIN can register devices into another tenant",
                device.id,
            )
    return problems


async def _lookup_problems(
    actor: Actor, devices: Sequence[DeviceToRegister]
) -> dict[str, DeviceProblem]:
    """Unknown tenants, unknown or foreign groups, ids already taken: three queries at most."""
    problems: dict[str, DeviceProblem] = {}
    tenant_ids = {d.tenant_id for d in devices if d.tenant_id is not None}
    known_tenants = set(
        await Tenant.filter(id__in=tenant_ids).values_list("id", flat=True) if tenant_ids else []
    )
    group_ids = {parse_group_id(d.group_id) for d in devices if d.group_id is not None}
    group_ids.discard(None)
    known_groups = set(
        await Group.filter(tenant_id=actor.tenant_id, id__in=group_ids).values_list("id", flat=True)
        if group_ids
        else []
    )
    taken = set(
        await Registration.filter(device_id__in=[d.id for d in devices]).values_list(
            "device_id", flat=True
        )
    )
    for device in devices:
        if device.id in taken:
            problems[device.id] = DeviceProblem(
                "ALREADY_EXISTS", f"device id {device.id} is already registered", device.id
            )
        elif device.tenant_id is not None and device.tenant_id not in known_tenants:
            problems[device.id] = DeviceProblem(
                "NOT_FOUND", f"device {device.id}: no tenant {device.tenant_id!r}", device.id
            )
        elif device.group_id is not None and parse_group_id(device.group_id) not in known_groups:
            problems[device.id] = DeviceProblem(
                "NOT_FOUND", f"device {device.id}: no group with id {device.group_id!r}", device.id
            )
    return problems


def _refuse(devices: Sequence[DeviceToRegister], problems: dict[str, DeviceProblem]) -> None:
    ordered = [problems[d.id] for d in devices if d.id in problems]
    unique = list({id(p): p for p in ordered}.values())
    raise RegisterRefused(unique)


async def register(actor: Actor, devices: Sequence[DeviceToRegister]) -> list[Registration]:
    """Register devices WAITING_FOR_CONNECTION, all or nothing (API.md §5.1).

    Each goes to the caller's tenant, to a group of it, or (management tenant
    with TENANT_MANAGEMENT_ADMIN) to a named subtenant. Every bad device is named
    in the raised :class:`RegisterRefused`; none is stored then.
    """
    actor.require(Permission.DEVICE_CONTROL_ADMIN)
    if not devices:
        raise InvalidInput("give at least one device to register")
    if len(devices) > MAX_DEVICES_PER_CALL:
        raise InvalidInput(f"at most {MAX_DEVICES_PER_CALL} devices can be registered in one call")
    problems = _input_problems(actor, devices)
    valid = [d for d in devices if d.id not in problems]
    problems.update(await _lookup_problems(actor, valid))
    if problems:
        _refuse(devices, problems)

    at = utcnow()
    rows = [
        Registration(
            device_id=d.id,
            tenant_id=d.tenant_id or actor.tenant_id,
            group_id=parse_group_id(d.group_id) if d.group_id is not None else None,
            status=RegistrationStatus.WAITING_FOR_CONNECTION,
            owner=actor.name,
            created_at=at,
            updated_at=at,
        )
        for d in devices
    ]
    logged = [
        events.new_event(
            r.tenant_id,
            r.device_id,
            RegistrationEventKind.REGISTERED,
            status=r.status,
            previous_status=None,
            actor=actor.name,
            at=at,
        )
        for r in rows
    ]
    try:
        async with in_transaction():
            for tenant_id in sorted({r.tenant_id for r in rows}):
                await events.lock_tenant_log(tenant_id)
            # Inserting in id order, whatever the caller's order, keeps two concurrent
            # calls that share ids from deadlocking on the primary key.
            await Registration.bulk_create(sorted(rows, key=lambda r: r.device_id))
            await events.append(*logged)
    except IntegrityError:
        # Another call registered one of these ids after our check: name them.
        problems = await _lookup_problems(actor, devices)
        if not problems:
            raise
        _refuse(devices, problems)
    await live.notify(*(r.tenant_id for r in rows))
    log.info("%s registered %d device(s)", actor.name, len(rows))
    return rows


# ---------------------------------------------------------------- accept


def _refuse_unless_pending(registration: Registration) -> None:
    if registration.status is RegistrationStatus.BLOCKED:
        raise RegistrationBlocked(
            f"the registration of device {registration.device_id} is blocked"
            f"{': ' + registration.blocked_reason if registration.blocked_reason else ''}. "
            "Remove the registration before the device can try again.",
            registration.device_id,
        )
    if registration.status is not PENDING:
        raise InvalidStatus(
            f"device {registration.device_id} is {registration.status.value}; "
            "only a registration PENDING_ACCEPTANCE can be accepted",
            registration.device_id,
            registration.status.value,
        )


async def _tenant_registration(tenant_id: str, device_id: str) -> Registration:
    found = await Registration.get_or_none(device_id=device_id, tenant_id=tenant_id)
    if found is None:
        raise NotFound(f"no registration for device {device_id[:255]!r}", device_id)
    return found


async def _token_accepted(
    check: Check, registration: Registration, typed_token: str | None
) -> bool:
    if check is Check.ACCEPT:
        return True
    if check is Check.REJECT or not typed_token or len(typed_token) > TOKEN_MAX_LENGTH:
        return False
    return await verify_password(registration.token_hash, typed_token)


def _mismatch_message(
    registration: Registration, check: Check, typed: bool, attempts_left: int
) -> str:
    device = registration.device_id
    if check is Check.REJECT:
        why = (
            f"device {device} connected without a security token, "
            "which the REQUIRED policy does not accept"
        )
    elif not typed:
        why = f"device {device} connected with a security token; type it to accept the device"
    else:
        why = f"the security token does not match the one device {device} presented"
    return (
        f"{why} ({attempts_left} attempt{'s' if attempts_left != 1 else ''} left "
        "before the registration is blocked)"
    )


async def accept(actor: Actor, device_id: str, security_token: str | None) -> Registration:
    """Accept a PENDING_ACCEPTANCE registration under the tenant's token policy (API.md §5.3).

    A wrong or missing token counts one failed attempt, exactly, however many
    arrive at once; the attempt that reaches the tenant's limit blocks the
    registration. The token is compared before the lock is taken (argon2 is
    slow), the decision is applied under it.
    """
    actor.require(Permission.DEVICE_CONTROL_ADMIN)
    registration = await _tenant_registration(actor.tenant_id, device_id)
    _refuse_unless_pending(registration)
    policy = await options.security_token_policy(actor)
    check = accept_check(policy, registration.uses_token)
    accepted = await _token_accepted(check, registration, security_token)
    limit = await options.max_failed_attempts(actor.tenant_id)

    async with in_transaction():
        await events.lock_tenant_log(actor.tenant_id)
        registration = await _tenant_registration(actor.tenant_id, device_id)
        changed_meanwhile = registration.status is not PENDING
        error: Exception | None = None
        if not changed_meanwhile:
            error = await _apply_accept_decision(
                actor, registration, accepted, limit, check, typed=bool(security_token)
            )
    if changed_meanwhile:
        # Another operator accepted, blocked or removed it while the token was compared.
        _refuse_unless_pending(registration)
    await live.notify(actor.tenant_id)
    if error is not None:
        raise error
    return registration


async def _apply_accept_decision(
    actor: Actor,
    registration: Registration,
    accepted: bool,
    limit: int,
    check: Check,
    *,
    typed: bool,
) -> Exception | None:
    """Under the lock: accept, count a failed attempt, or block. Returns the error to raise."""
    at = utcnow()
    previous = registration.status
    registration.updated_at = at
    if accepted:
        kind = RegistrationEventKind.ACCEPTED
        registration.status = RegistrationStatus.ACCEPTED
        registration.accepted_at = at
        registration.accepted_by = actor.name
        changed = ["status", "accepted_at", "accepted_by", "updated_at"]
    else:
        registration.failed_attempts += 1
        kind = RegistrationEventKind.TOKEN_REJECTED
        if registration.failed_attempts >= limit:
            kind = RegistrationEventKind.BLOCKED
            registration.status = RegistrationStatus.BLOCKED
            registration.blocked_reason = (
                f"blocked after {registration.failed_attempts} failed security token attempts"
            )
        changed = ["failed_attempts", "status", "blocked_reason", "updated_at"]
    await registration.save(update_fields=changed)
    await events.append(
        events.new_event(
            actor.tenant_id,
            registration.device_id,
            kind,
            status=registration.status,
            previous_status=previous,
            actor=actor.name,
            at=at,
        )
    )
    if accepted:
        log.info("%s accepted device %s", actor.name, registration.device_id)
        return None
    log.info(
        "%s: security token rejected for device %s (%d/%d)",
        actor.name,
        registration.device_id,
        registration.failed_attempts,
        limit,
    )
    if kind is RegistrationEventKind.BLOCKED:
        return RegistrationBlocked(
            f"the registration of device {registration.device_id} is now blocked after "
            f"{registration.failed_attempts} failed security token attempts. "
            "Remove the registration before the device can try again.",
            registration.device_id,
        )
    attempts_left = limit - registration.failed_attempts
    return SecurityTokenMismatch(
        _mismatch_message(registration, check, typed, attempts_left),
        registration.device_id,
        registration.failed_attempts,
        attempts_left,
    )


# ---------------------------------------------------------------- accept all

_EVENTS_TABLE = "registration_events"
_EVENT_COLUMNS = "tenant_id, device_id, kind, status, previous_status, actor, at"


def _placeholders(dialect: str, count: int) -> list[str]:
    if dialect == "postgres":
        return [f"${n}" for n in range(1, count + 1)]
    return ["?"] * count


async def accept_all(actor: Actor) -> AcceptAllOutcome:
    """Accept every PENDING_ACCEPTANCE registration that needs no token (API.md §5.4).

    Under IGNORED that is all of them, under OPTIONAL those whose device used no
    token, under REQUIRED none. One transaction of five statements whatever the
    number of registrations: lock, read the candidates, log their events with one
    INSERT ... SELECT, update them, read what is left pending.
    """
    actor.require(Permission.DEVICE_CONTROL_ADMIN)
    policy = await options.security_token_policy(actor)
    tenant_id = actor.tenant_id
    async with in_transaction() as connection:
        await events.lock_tenant_log(tenant_id)
        at = utcnow()
        # Which devices need no token follows from the policy table itself.
        acceptable = [used for used in (False, True) if accepted_without_token(policy, used)]
        candidates = Registration.filter(
            tenant_id=tenant_id, status=PENDING, uses_token__in=acceptable
        )
        accepted: list[Registration] = []
        if acceptable:
            accepted = await candidates.order_by("device_id")
        if accepted:
            where = (
                "tenant_id = {} AND status = {} AND uses_token IN ("
                + ", ".join("{}" for _ in acceptable)
                + ")"
            )
            params: list[object] = [
                RegistrationEventKind.ACCEPTED.value,
                RegistrationStatus.ACCEPTED.value,
                PENDING.value,
                actor.name,
                at,
                tenant_id,
                PENDING.value,
                *acceptable,
            ]
            marks = _placeholders(connection.capabilities.dialect, len(params))
            if connection.capabilities.dialect == "postgres":
                marks[4] += "::timestamptz"
            # Only constants and placeholders are formatted in; every value is a parameter.
            sql = (
                f"INSERT INTO {_EVENTS_TABLE} ({_EVENT_COLUMNS}) "  # noqa: S608
                f"SELECT tenant_id, device_id, {', '.join(marks[:5])} FROM registrations "
                f"WHERE {where.format(*marks[5:])} ORDER BY device_id"
            )
            await connection.execute_query(sql, params)
            await candidates.update(
                status=RegistrationStatus.ACCEPTED,
                accepted_at=at,
                accepted_by=actor.name,
                updated_at=at,
            )
            for registration in accepted:
                registration.status = RegistrationStatus.ACCEPTED
                registration.accepted_at = at
                registration.accepted_by = actor.name
                registration.updated_at = at
        not_accepted = await Registration.filter(tenant_id=tenant_id, status=PENDING).order_by(
            "device_id"
        )
    if accepted:
        await live.notify(tenant_id)
    log.info(
        "%s accepted all: %d accepted, %d need a token",
        actor.name,
        len(accepted),
        len(not_accepted),
    )
    return AcceptAllOutcome(accepted=accepted, not_accepted=not_accepted)


# ---------------------------------------------------------------- remove


async def remove(actor: Actor, device_id: str) -> str:
    """Delete a registration in any status; the id can then be registered again (§5.5)."""
    actor.require(Permission.DEVICE_CONTROL_ADMIN)
    async with in_transaction():
        await events.lock_tenant_log(actor.tenant_id)
        registration = await _tenant_registration(actor.tenant_id, device_id)
        await registration.delete()
        await events.append(
            events.new_event(
                actor.tenant_id,
                device_id,
                RegistrationEventKind.REMOVED,
                status=None,
                previous_status=registration.status,
                actor=actor.name,
                at=utcnow(),
            )
        )
    await live.notify(actor.tenant_id)
    log.info("%s removed the registration of device %s", actor.name, device_id)
    return device_id


# ---------------------------------------------------------------- queries


async def get_registration(actor: Actor, device_id: str) -> Registration | None:
    actor.require(Permission.DEVICE_CONTROL_READ)
    return await Registration.get_or_none(device_id=device_id, tenant_id=actor.tenant_id)


async def list_registrations(
    actor: Actor,
    statuses: Sequence[RegistrationStatus] | None = None,
    group_id: str | None = None,
    first: int | None = None,
    after: str | None = None,
) -> CountedPage[Registration]:
    """The tenant's registrations by device id, keyset-paginated, optionally filtered."""
    actor.require(Permission.DEVICE_CONTROL_READ)
    size = page_size(first)
    query = Registration.filter(tenant_id=actor.tenant_id)
    if statuses:
        query = query.filter(status__in=list(statuses))
    if group_id is not None:
        group = await find_group(actor.tenant_id, group_id)
        if group is None:
            raise NotFound(f"no group with id {group_id[:60]!r}", group_id)
        query = query.filter(group_id=group.id)
    return await _page(query, size, after)


async def list_group_registrations(
    actor: Actor, group_id: int, first: int | None, after: str | None
) -> CountedPage[Registration]:
    """A group's registrations of every status (the group is already known to be the tenant's)."""
    actor.require(Permission.DEVICE_CONTROL_READ)
    query = Registration.filter(tenant_id=actor.tenant_id, group_id=group_id)
    return await _page(query, page_size(first), after)


async def _page(
    query: QuerySet[Registration], size: int, after: str | None
) -> CountedPage[Registration]:
    total = await query.count()
    if after is not None:
        query = query.filter(device_id__gt=decode_cursor(CURSOR_KIND, after))
    rows = await query.order_by("device_id").limit(size + 1)
    return CountedPage(items=rows[:size], has_next_page=len(rows) > size, total_count=total)
