"""GraphQL for registrations: types, result unions, queries and the operator's mutations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Protocol

import strawberry

from graph.graphql.arguments import given
from graph.graphql.compiled_lists import COMPILED_GETTER, NotCompiled
from graph.graphql.context import Info
from graph.graphql.pagination import PageInfo
from graph.graphql.permissions import can
from graph.graphql.problems import Problem
from graph.graphql.selections import selects
from models.groups import Group as GroupRow
from models.registrations import Registration as RegistrationRow
from models.registrations import RegistrationStatus
from resolvers import errors, registrations
from resolvers.pagination import encode_cursor
from resolvers.permissions import Permission
from resolvers.registration_records import RegistrationRecord

if TYPE_CHECKING:
    from graph.graphql.groups import Group

strawberry.enum(RegistrationStatus, name="RegistrationStatus")


def _preloaded_group(registration: Registration) -> Group | None:
    """``Registration.group`` without the request's loader: for compiled lists
    (``graph/graphql/compiled_lists.py``), which fall back to the resolver where it is needed."""
    if registration.group_id is None:
        return None
    if registration.preloaded_group is not None:
        return registration.preloaded_group
    raise NotCompiled


@strawberry.type
class Registration:
    id: strawberry.ID
    status: RegistrationStatus
    tenant_id: str
    owner: str
    created_at: datetime
    updated_at: datetime
    connected_at: datetime | None
    connected_from: str | None = strawberry.field(
        description="The client address of the device's first request for credentials "
        "(API.md §9.6): check it before accepting."
    )
    uses_security_token: bool
    failed_attempts: int
    accepted_at: datetime | None
    accepted_by: str | None
    blocked_reason: str | None
    credentials_delivered_at: datetime | None
    last_authenticated_at: datetime | None = strawberry.field(
        description="The last time a broker or gateway accepted the device's credentials "
        "(written at most once a minute)."
    )
    credentials_requested_again_at: datetime | None = strawberry.field(
        description="The last poll for credentials after they were delivered (API.md §9.6, "
        "event CREDENTIALS_REQUESTED_AGAIN, at most one an hour): the device lost them, or "
        "somebody else collected them. Later than credentialsDeliveredAt: look into it."
    )
    group_id: strawberry.Private[int | None]
    #: The group when the caller already loaded it for a whole page (see ``preload_groups``).
    preloaded_group: strawberry.Private[
        Annotated[Group, strawberry.lazy("graph.graphql.groups")] | None
    ] = None

    @strawberry.field(metadata={COMPILED_GETTER: _preloaded_group})
    def group(self, info: Info) -> Annotated[Group, strawberry.lazy("graph.graphql.groups")] | None:
        # Synchronous when the group is preloaded, so a page of 500 needs no awaitable
        # per row; otherwise a coroutine through the request's DataLoader.
        try:
            return _preloaded_group(self)
        except NotCompiled:
            return self._load_group(info)  # type: ignore[return-value]

    async def _load_group(self, info: Info) -> Group | None:
        assert self.group_id is not None
        group = await info.context.loaders.group.load(self.group_id)
        return _group(group) if group else None

    @classmethod
    def from_model(
        cls,
        registration: RegistrationRow | RegistrationRecord,
        groups: PreloadedGroups | None = None,
    ) -> Registration:
        return cls(
            id=strawberry.ID(registration.device_id),
            status=registration.status,
            tenant_id=registration.tenant_id,
            owner=registration.owner,
            created_at=registration.created_at,
            updated_at=registration.updated_at,
            connected_at=registration.connected_at,
            connected_from=registration.connected_from,
            uses_security_token=registration.uses_token,
            failed_attempts=registration.failed_attempts,
            accepted_at=registration.accepted_at,
            accepted_by=registration.accepted_by,
            blocked_reason=registration.blocked_reason,
            credentials_delivered_at=registration.credentials_delivered_at,
            last_authenticated_at=registration.last_authenticated_at,
            credentials_requested_again_at=registration.credentials_requested_again_at,
            group_id=registration.group_id,
            preloaded_group=groups.shown(registration.group_id) if groups is not None else None,
        )


@strawberry.type
class RegistrationEdge:
    cursor: str
    node: Registration


@strawberry.type
class RegistrationConnection:
    edges: list[RegistrationEdge]
    page_info: PageInfo
    total_count: int
    event_cursor: str | None = strawberry.field(
        default=None,
        description="The cursor of the tenant's newest event as of this page's read (taken "
        "just before it; null while the log is empty): subscribe to `registrationEvents` "
        "with `after: eventCursor` to miss nothing that happened since.",
    )

    @classmethod
    async def from_page(
        cls, page: registrations.RegistrationPage, info: Info
    ) -> RegistrationConnection:
        groups = await preload_groups(page.items, info)
        edges = [
            RegistrationEdge(
                cursor=encode_cursor(registrations.CURSOR_KIND, r.device_id),
                node=Registration.from_model(r, groups),
            )
            for r in page.items
        ]
        return cls(
            edges=edges,
            page_info=PageInfo.after([e.cursor for e in edges], page.has_next_page),
            total_count=page.total_count,
            event_cursor=page.event_cursor,
        )


def _group(group: GroupRow) -> Group:
    from graph.graphql.groups import Group

    return Group.from_model(group)


class PreloadedGroups(dict[int, GroupRow]):
    """The groups of a list by id, each shown as one GraphQL ``Group`` however many of the
    list's registrations are in it (the objects are only read)."""

    def __init__(self, groups: dict[int, GroupRow]) -> None:
        super().__init__(groups)
        self._shown: dict[int, Group] = {}

    def shown(self, group_id: int | None) -> Group | None:
        if group_id is None:
            return None
        found = self._shown.get(group_id)
        if found is None:
            row = self.get(group_id)
            if row is None:
                return None
            found = self._shown[group_id] = _group(row)
        return found


class InGroup(Protocol):
    """Anything that names its group: a registration row or record, a bulk line."""

    @property
    def group_id(self) -> int | None: ...


async def preload_groups(rows: Sequence[InGroup], info: Info) -> PreloadedGroups:
    """The groups of ``rows`` through the request's DataLoader: one query for a whole list."""
    ids = sorted({r.group_id for r in rows if r.group_id is not None})
    found = await info.context.loaders.group.load_many(ids)
    return PreloadedGroups(
        {group_id: group for group_id, group in zip(ids, found, strict=True) if group}
    )


# ---------------------------------------------------------------- problems


@strawberry.type
class DeviceProblem(Problem):
    id: str

    @classmethod
    def from_error(cls, error: errors.DeviceProblem) -> DeviceProblem:
        return cls(code=error.code, message=error.message, id=error.id)


@strawberry.type
class NotFound(Problem):
    id: strawberry.ID

    @classmethod
    def from_error(cls, error: errors.NotFound) -> NotFound:
        return cls(code=error.code, message=error.message, id=strawberry.ID(error.id))


@strawberry.type
class InvalidStatus(Problem):
    id: strawberry.ID
    status: RegistrationStatus

    @classmethod
    def from_error(cls, error: errors.InvalidStatus) -> InvalidStatus:
        return cls(
            code=error.code,
            message=error.message,
            id=strawberry.ID(error.id),
            status=RegistrationStatus(error.status),
        )


@strawberry.type
class SecurityTokenMismatch(Problem):
    id: strawberry.ID
    failed_attempts: int
    attempts_left: int

    @classmethod
    def from_error(cls, error: errors.SecurityTokenMismatch) -> SecurityTokenMismatch:
        return cls(
            code=error.code,
            message=error.message,
            id=strawberry.ID(error.id),
            failed_attempts=error.failed_attempts,
            attempts_left=error.attempts_left,
        )


@strawberry.type
class RegistrationBlocked(Problem):
    id: strawberry.ID

    @classmethod
    def from_error(cls, error: errors.RegistrationBlocked) -> RegistrationBlocked:
        return cls(code=error.code, message=error.message, id=strawberry.ID(error.id))


# ---------------------------------------------------------------- results


@strawberry.input
class RegisterDeviceInput:
    id: str
    group_id: strawberry.ID | None = strawberry.UNSET
    tenant_id: str | None = strawberry.UNSET


@strawberry.type
class RegisterSuccess:
    registrations: list[Registration]


@strawberry.type
class RegisterFailure(Problem):
    problems: list[DeviceProblem]


RegisterResult = Annotated[RegisterSuccess | RegisterFailure, strawberry.union("RegisterResult")]
AcceptResult = Annotated[
    Registration | NotFound | InvalidStatus | SecurityTokenMismatch | RegistrationBlocked,
    strawberry.union("AcceptResult"),
]


@strawberry.type
class AcceptAllResult:
    accepted: list[Registration]
    not_accepted: list[DeviceProblem] = strawberry.field(
        description="Pending registrations that could not be accepted automatically "
        "(they used a security token), each with why."
    )
    warning: str | None = strawberry.field(
        description="Empty when everything pending was accepted; otherwise a warning naming "
        "the devices that must be accepted one by one."
    )

    @classmethod
    def from_outcome(
        cls, outcome: registrations.AcceptAllOutcome, groups: PreloadedGroups
    ) -> AcceptAllResult:
        return cls(
            accepted=[Registration.from_model(r, groups) for r in outcome.accepted],
            not_accepted=[DeviceProblem.from_error(p) for p in outcome.not_accepted],
            warning=outcome.warning,
        )


@strawberry.type
class Removed:
    id: strawberry.ID


RemoveResult = Annotated[Removed | NotFound, strawberry.union("RemoveResult")]
ResetCredentialsResult = Annotated[
    Registration | NotFound | InvalidStatus, strawberry.union("ResetCredentialsResult")
]


# ---------------------------------------------------------------- fields


@strawberry.type
class RegistrationQueries:
    @strawberry.field(permission_classes=[can(Permission.DEVICE_CONTROL_READ)])
    async def registration(self, info: Info, id: strawberry.ID) -> Registration | None:
        found = await registrations.get_registration(info.context.caller, id)
        return Registration.from_model(found) if found else None

    @strawberry.field(permission_classes=[can(Permission.DEVICE_CONTROL_READ)])
    async def registrations(
        self,
        info: Info,
        status: list[RegistrationStatus] | None = strawberry.UNSET,
        group_id: strawberry.ID | None = strawberry.UNSET,
        first: int | None = 50,
        after: str | None = strawberry.UNSET,
    ) -> RegistrationConnection:
        page = await registrations.list_registrations(
            info.context.caller,
            given(status),
            given(group_id),
            first,
            given(after),
            with_event_cursor=selects(info, "eventCursor"),
        )
        return await RegistrationConnection.from_page(page, info)


@strawberry.type
class RegistrationMutations:
    @strawberry.mutation(permission_classes=[can(Permission.DEVICE_CONTROL_ADMIN)])
    async def register(self, info: Info, devices: list[RegisterDeviceInput]) -> RegisterResult:
        wanted = [
            registrations.DeviceToRegister(
                id=d.id, group_id=given(d.group_id), tenant_id=given(d.tenant_id)
            )
            for d in devices
        ]
        try:
            created = await registrations.register(info.context.caller, wanted)
        except errors.RegisterRefused as refused:
            return RegisterFailure(
                code=refused.code,
                message=refused.message,
                problems=[DeviceProblem.from_error(p) for p in refused.problems],
            )
        groups = await preload_groups(created, info)
        return RegisterSuccess(registrations=[Registration.from_model(r, groups) for r in created])

    @strawberry.mutation(permission_classes=[can(Permission.DEVICE_CONTROL_ADMIN)])
    async def accept(
        self, info: Info, id: strawberry.ID, security_token: str | None = strawberry.UNSET
    ) -> AcceptResult:
        try:
            accepted = await registrations.accept(info.context.caller, id, given(security_token))
        except errors.NotFound as error:
            return NotFound.from_error(error)
        except errors.InvalidStatus as error:
            return InvalidStatus.from_error(error)
        except errors.SecurityTokenMismatch as error:
            return SecurityTokenMismatch.from_error(error)
        except errors.RegistrationBlocked as error:
            return RegistrationBlocked.from_error(error)
        return Registration.from_model(accepted)

    @strawberry.mutation(permission_classes=[can(Permission.DEVICE_CONTROL_ADMIN)])
    async def accept_all(self, info: Info) -> AcceptAllResult:
        outcome = await registrations.accept_all(info.context.caller)
        return AcceptAllResult.from_outcome(outcome, await preload_groups(outcome.accepted, info))

    @strawberry.mutation(permission_classes=[can(Permission.DEVICE_CONTROL_ADMIN)])
    async def remove_registration(self, info: Info, id: strawberry.ID) -> RemoveResult:
        try:
            removed = await registrations.remove(info.context.caller, id)
        except errors.NotFound as error:
            return NotFound.from_error(error)
        return Removed(id=strawberry.ID(removed))

    @strawberry.mutation(
        permission_classes=[can(Permission.DEVICE_CONTROL_ADMIN)],
        description="Revoke a device's delivered credentials at once; its next poll with its "
        "security token collects new ones (after a factory reset or lost storage).",
    )
    async def reset_credentials(self, info: Info, id: strawberry.ID) -> ResetCredentialsResult:
        try:
            reset = await registrations.reset_credentials(info.context.caller, id)
        except errors.NotFound as error:
            return NotFound.from_error(error)
        except errors.InvalidStatus as error:
            return InvalidStatus.from_error(error)
        return Registration.from_model(reset)
