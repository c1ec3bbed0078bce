"""The operator's side of the registration life cycle (API.md §5).

``register``, ``accept``, ``accept_all``, ``remove``, ``reset_credentials`` and the queries. Every
change runs in ``resolvers/changes.tenant_change`` (the tenant's log lock
first, then a re-read of what it decides on under that lock, its events
appended before commit) and moves registrations only as the transition table
of ``resolvers/lifecycle.py`` allows. Expected failures are raised as domain
errors after the change has committed (a wrong token must still count).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet

from models.groups import Group
from models.registrations import Registration, RegistrationStatus
from models.tenants import Tenant
from resolvers import (
    accepted_rows,
    device_logins,
    events,
    lifecycle,
    live,
    options,
    security_tokens,
    validation,
)
from resolvers.attempts import count_failed_attempt
from resolvers.broker_sync import queue_revocation
from resolvers.changes import TenantChange, tenant_change
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
from resolvers.metrics import ACCEPTS, AcceptResult
from resolvers.page_numbers import NumberedPage, PageRequest, numbered_page
from resolvers.pagination import CountedPage, decode_cursor, page_size
from resolvers.permissions import Actor, Permission
from resolvers.registration_records import RegistrationRecord, read_records
from resolvers.token_policy import Check, accept_check, accepted_without_token

CURSOR_KIND = "registration"
MAX_DEVICES_PER_CALL = 10_000
#: How many devices ``acceptAll``'s warning names before "and N more".
WARNING_NAMES = 20


@dataclass(frozen=True)
class DeviceToRegister:
    id: str
    group_id: str | None = None
    tenant_id: str | None = None


@dataclass(frozen=True)
class AcceptAllOutcome:
    accepted: list[Registration]
    #: Every registration left pending, with why (``SECURITY_TOKEN_REQUIRED``).
    not_accepted: list[DeviceProblem]
    #: ``None`` when nothing was left pending; otherwise names the devices left.
    warning: str | None


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
    # Ids no tenant can have are not looked up (a column would refuse them): not found.
    tenant_ids = {
        d.tenant_id
        for d in devices
        if d.tenant_id is not None and validation.TENANT_ID.fullmatch(d.tenant_id)
    }
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

    try:
        async with tenant_change(*{d.tenant_id or actor.tenant_id for d in devices}) as change:
            rows = [
                Registration(
                    device_id=d.id,
                    tenant_id=d.tenant_id or actor.tenant_id,
                    group_id=parse_group_id(d.group_id) if d.group_id is not None else None,
                    status=lifecycle.REGISTER.target,
                    owner=actor.name,
                    created_at=change.at,
                    updated_at=change.at,
                )
                for d in devices
            ]
            # Inserting in id order, whatever the caller's order, keeps two concurrent
            # calls that share ids from deadlocking on the primary key.
            await Registration.bulk_create(sorted(rows, key=lambda r: r.device_id))
            for r in rows:
                change.record(
                    lifecycle.REGISTER, r.tenant_id, r.device_id, previous=None, actor=actor.name
                )
            change.note("%s registered %d device(s)", actor.name, len(rows))
    except IntegrityError:
        # Another call registered one of these ids after our check: name them.
        problems = await _lookup_problems(actor, devices)
        if not problems:
            raise
        _refuse(devices, problems)
    return rows


# ---------------------------------------------------------------- accept


def _refuse_unless_acceptable(registration: Registration) -> None:
    if registration.status is RegistrationStatus.BLOCKED:
        raise RegistrationBlocked(
            f"the registration of device {registration.device_id} is blocked"
            f"{': ' + registration.blocked_reason if registration.blocked_reason else ''}. "
            "Remove the registration before the device can try again.",
            registration.device_id,
        )
    if not lifecycle.ACCEPT.allows(registration.status):
        raise InvalidStatus(
            f"device {registration.device_id} is {registration.status.value}; "
            "only a registration PENDING_ACCEPTANCE can be accepted",
            registration.device_id,
            registration.status.value,
        )


async def _tenant_registration(tenant_id: str, device_id: str) -> Registration:
    found = None
    if validation.device_id_problem(device_id) is None:  # no registration has such an id
        found = await Registration.get_or_none(device_id=device_id, tenant_id=tenant_id)
    if found is None:
        raise NotFound(f"no registration for device {device_id[:255]!r}", device_id)
    return found


async def _token_accepted(
    check: Check, registration: Registration, typed_token: str | None
) -> bool:
    if check is Check.ACCEPT:
        return True
    if check is Check.REJECT:
        return False
    return await security_tokens.matches(registration.token_hash, typed_token)


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
    _refuse_unless_acceptable(registration)
    policy = await options.security_token_policy(actor)
    check = accept_check(policy, registration.uses_token)
    accepted = await _token_accepted(check, registration, security_token)
    limit = await options.max_failed_attempts(actor.tenant_id)

    async with tenant_change(actor.tenant_id) as change:
        registration = await _tenant_registration(actor.tenant_id, device_id)
        changed_meanwhile = not lifecycle.ACCEPT.allows(registration.status)
        error: Exception | None = None
        if not changed_meanwhile:
            typed = security_tokens.presented(security_token) is not None
            error = await _apply_accept_decision(
                change, actor, registration, accepted, limit, check, typed=typed
            )
    if changed_meanwhile:
        # Another operator accepted, blocked or removed it while the token was compared.
        _refuse_unless_acceptable(registration)
    ACCEPTS[_accept_result(error)].inc()
    if error is not None:
        raise error
    return registration


def _accept_result(error: Exception | None) -> AcceptResult:
    if error is None:
        return AcceptResult.ACCEPTED
    if isinstance(error, RegistrationBlocked):
        return AcceptResult.BLOCKED
    return AcceptResult.TOKEN_REJECTED


async def _apply_accept_decision(
    change: TenantChange,
    actor: Actor,
    registration: Registration,
    accepted: bool,
    limit: int,
    check: Check,
    *,
    typed: bool,
) -> Exception | None:
    """Under the lock: accept, count a failed attempt, or block. Returns the error to raise."""
    if accepted:
        previous = registration.status
        transition = lifecycle.ACCEPT
        assert transition.target is not None
        registration.status = transition.target
        registration.updated_at = change.at
        registration.accepted_at = change.at
        registration.accepted_by = actor.name
        await registration.save(
            update_fields=["status", "accepted_at", "accepted_by", "updated_at"]
        )
        change.record(
            transition, actor.tenant_id, registration.device_id, previous=previous, actor=actor.name
        )
        change.note("%s accepted device %s", actor.name, registration.device_id)
        return None
    transition = await count_failed_attempt(
        change, registration, limit, lifecycle.AT_ACCEPT, actor=actor.name
    )
    change.note(
        "%s: security token rejected for device %s (%d/%d)",
        actor.name,
        registration.device_id,
        registration.failed_attempts,
        limit,
    )
    if transition is lifecycle.BLOCK:
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


def _left_pending(device_id: str, uses_token: bool) -> DeviceProblem:
    """Why ``acceptAll`` left this registration pending (API.md §5.4)."""
    why = (
        "used a security token: accept it with its token"
        if uses_token
        else "used no security token, which the REQUIRED policy does not accept"
    )
    return DeviceProblem("SECURITY_TOKEN_REQUIRED", f"device {device_id} {why}", device_id)


def _accept_all_warning(left: list[DeviceProblem]) -> str | None:
    if not left:
        return None
    ids = ", ".join(p.id for p in left[:WARNING_NAMES])
    more = f" and {len(left) - WARNING_NAMES} more" if len(left) > WARNING_NAMES else ""
    return (
        f"{len(left)} registration(s) need a security token and were not "
        f"accepted: {ids}{more}. Accept each one with its security token."
    )


async def accept_all(actor: Actor) -> AcceptAllOutcome:
    """Accept every PENDING_ACCEPTANCE registration that needs no token (API.md §5.4).

    Under IGNORED that is all of them, under OPTIONAL those whose device used no
    token, under REQUIRED none; the rest are named with why, and a warning.
    One transaction of four statements whatever the number of registrations:
    lock, update the registrations (the UPDATE returns them), log their events
    with one INSERT (``resolvers/accepted_rows.py``), read the device ids left
    pending.
    """
    actor.require(Permission.DEVICE_CONTROL_ADMIN)
    policy = await options.security_token_policy(actor)
    tenant_id = actor.tenant_id
    async with tenant_change(tenant_id) as change:
        # Which devices need no token follows from the policy table itself.
        acceptable = [used for used in (False, True) if accepted_without_token(policy, used)]
        accepted: list[Registration] = []
        if acceptable:
            accepted = await accepted_rows.accept_pending(
                change.connection, tenant_id, acceptable, actor=actor.name, at=change.at
            )
            change.bulk_written = bool(accepted)
        left = (
            await Registration.filter(tenant_id=tenant_id, status__in=lifecycle.ACCEPT.sources)
            .order_by("device_id")
            .values_list("device_id", "uses_token")
        )
        change.note(
            "%s accepted all: %d accepted, %d need a token", actor.name, len(accepted), len(left)
        )
    if accepted:
        ACCEPTS[AcceptResult.ACCEPTED].inc(len(accepted))
    not_accepted = [_left_pending(device_id, bool(uses_token)) for device_id, uses_token in left]
    return AcceptAllOutcome(accepted, not_accepted, _accept_all_warning(not_accepted))


# ---------------------------------------------------------------- remove


async def remove(actor: Actor, device_id: str) -> str:
    """Delete a registration in any status; the id can then be registered again (§5.5)."""
    actor.require(Permission.DEVICE_CONTROL_ADMIN)
    async with tenant_change(actor.tenant_id) as change:
        registration = await _tenant_registration(actor.tenant_id, device_id)
        await registration.delete()
        await queue_revocation(
            actor.tenant_id,
            device_id,
            "remove",
            had_credentials=registration.credentials_delivered_at is not None,
        )
        change.record(
            lifecycle.REMOVE,
            actor.tenant_id,
            device_id,
            previous=registration.status,
            actor=actor.name,
        )
        change.note("%s removed the registration of device %s", actor.name, device_id)
    # Committed: the device's credentials stop working on every process (API.md §6).
    await live.invalidate(device_logins.TOPIC, device_id)
    return device_id


# ---------------------------------------------------------------- reset credentials


async def reset_credentials(actor: Actor, device_id: str) -> Registration:
    """Revoke an ACCEPTED registration's delivered credentials (API.md §6.5).

    The password stops working on every process at once; ``credentialsDeliveredAt``
    becomes null, so the device's next poll with the token it presented at first
    contact collects a new password, once, as in §4. Anything but an ACCEPTED
    registration whose credentials were delivered is :class:`InvalidStatus`.
    """
    actor.require(Permission.DEVICE_CONTROL_ADMIN)
    reset = lifecycle.RESET_CREDENTIALS
    async with tenant_change(actor.tenant_id) as change:
        registration = await _tenant_registration(actor.tenant_id, device_id)
        if not reset.allows(registration.status) or registration.credentials_delivered_at is None:
            delivered = "" if reset.allows(registration.status) else "; it is not ACCEPTED"
            raise InvalidStatus(
                f"device {device_id} has no delivered credentials to reset{delivered} "
                f"(status {registration.status.value})",
                device_id,
                registration.status.value,
            )
        previous = registration.status
        registration.credentials_delivered_at = None
        registration.device_username = None
        registration.device_password_hash = None
        registration.updated_at = change.at
        await registration.save(
            update_fields=[
                "credentials_delivered_at",
                "device_username",
                "device_password_hash",
                "updated_at",
            ]
        )
        await queue_revocation(actor.tenant_id, device_id, "reset", had_credentials=True)
        change.record(reset, actor.tenant_id, device_id, previous=previous, actor=actor.name)
        change.note("%s reset the credentials of device %s", actor.name, device_id)
    await live.invalidate(device_logins.TOPIC, device_id)
    return registration


# ---------------------------------------------------------------- queries


@dataclass(frozen=True)
class RegistrationPage(CountedPage[RegistrationRecord]):
    #: The cursor of the tenant's newest event, read just before the page (API.md §7);
    #: ``None`` when not asked for or while the log is empty.
    event_cursor: str | None = None


async def get_registration(actor: Actor, device_id: str) -> Registration | None:
    actor.require(Permission.DEVICE_CONTROL_READ)
    if validation.device_id_problem(device_id) is not None:
        return None  # no registration has such an id (and a column would refuse it)
    return await Registration.get_or_none(device_id=device_id, tenant_id=actor.tenant_id)


async def list_registrations(
    actor: Actor,
    statuses: Sequence[RegistrationStatus] | None = None,
    group_id: str | None = None,
    first: int | None = None,
    after: str | None = None,
    *,
    with_event_cursor: bool = False,
) -> RegistrationPage:
    """The tenant's registrations by device id, keyset-paginated, optionally filtered.

    ``with_event_cursor`` also reads the cursor of the tenant's newest event,
    before the page (see :func:`_page`).
    """
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
    return await _page(query, size, after, actor.tenant_id if with_event_cursor else None)


async def list_group_registrations(
    actor: Actor,
    group_id: int,
    first: int | None,
    after: str | None,
    *,
    with_event_cursor: bool = False,
) -> RegistrationPage:
    """A group's registrations of every status (the group is already known to be the tenant's)."""
    actor.require(Permission.DEVICE_CONTROL_READ)
    query = Registration.filter(tenant_id=actor.tenant_id, group_id=group_id)
    tenant = actor.tenant_id if with_event_cursor else None
    return await _page(query, page_size(first), after, tenant)


async def _page(
    query: QuerySet[Registration], size: int, after: str | None, event_tenant: str | None
) -> RegistrationPage:
    """One page; with ``event_tenant``, that tenant's newest event cursor read first.

    First, never after: an event committed between the two reads is then both
    in the page and after the cursor (a client applies it twice, harmlessly),
    instead of in neither.
    """
    event_cursor = await events.newest_cursor(event_tenant) if event_tenant else None
    total = await query.count()
    if after is not None:
        after_id = decode_cursor(CURSOR_KIND, after)
        if validation.device_id_problem(after_id) is not None:
            raise InvalidInput(f"invalid cursor {after[:60]!r}: pass an endCursor as given")
        query = query.filter(device_id__gt=after_id)
    rows = await read_records(query.order_by("device_id").limit(size + 1))
    return RegistrationPage(
        items=rows[:size],
        has_next_page=len(rows) > size,
        total_count=total,
        event_cursor=event_cursor,
    )


async def registration_page(actor: Actor, request: PageRequest) -> NumberedPage[Registration]:
    """A numbered page of the tenant's registrations by device id (Cumulocity's paging, §8.1)."""
    actor.require(Permission.DEVICE_CONTROL_READ)
    query = Registration.filter(tenant_id=actor.tenant_id).order_by("device_id")
    return await numbered_page(query, request)
