"""Bulk registration from a CSV file (API.md §8.3): every line on its own.

Unlike ``register`` (all or nothing), good lines are registered and bad lines
fail, each with its line number and the problem codes of ``register``. The rules
that need no database are :func:`line_problems` (pure); the rest runs in one
``tenant_change`` as a fixed number of statements whatever the number of lines
(``resolvers/bulk_statements.py``): a lock per tenant, one look-up each for
named tenants and taken ids, one read of the tenant's groups and one INSERT
per missing level of group paths, one INSERT of every registration and one of
their ``REGISTERED`` events.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from models.registrations import Registration
from resolvers import csv_lines, lifecycle, validation
from resolvers.bulk_statements import existing, insert_events, insert_registrations, resolve_paths
from resolvers.changes import tenant_change
from resolvers.csv_lines import CsvLine
from resolvers.errors import DeviceProblem, InvalidInput
from resolvers.permissions import Actor, Permission

#: Deepest group path a line may name (each level is one INSERT at most).
MAX_PATH_DEPTH = 16
#: Ids that certainly pass ``validation.device_id_problem``: checked without a loop per character.
_PLAIN_ID = re.compile(r"[A-Za-z0-9._@+=,;~!$&*()\[\]{}<>|^`'\"-]{1,255}")


@dataclass(frozen=True)
class _Batch:
    owner: str
    at: datetime


@dataclass(frozen=True, slots=True)
class BulkLine:
    """The outcome of one line: registered (``problem`` is ``None``) or not, and why."""

    line: int
    id: str
    problem: DeviceProblem | None = None
    tenant_id: str | None = None
    group_id: int | None = None
    batch: _Batch | None = None

    def registration(self) -> Registration | None:
        """The registration this line created (built when asked: 100,000 lines cost nothing)."""
        if self.problem is not None or self.batch is None or self.tenant_id is None:
            return None
        status = lifecycle.REGISTER.target
        assert status is not None
        return Registration(
            device_id=self.id,
            tenant_id=self.tenant_id,
            group_id=self.group_id,
            status=status,
            owner=self.batch.owner,
            uses_token=False,
            failed_attempts=0,
            created_at=self.batch.at,
            updated_at=self.batch.at,
        )


@dataclass(frozen=True)
class BulkOutcome:
    lines: list[BulkLine]

    @property
    def created(self) -> int:
        return sum(1 for line in self.lines if line.problem is None)

    @property
    def failed(self) -> int:
        return sum(1 for line in self.lines if line.problem is not None)


# ---------------------------------------------------------------- the rules (pure)


@lru_cache(maxsize=4096)  # a file names few paths, on many lines
def group_path(text: str) -> tuple[str, ...]:
    """The group names of a ``PATH`` such as ``Building 7/Floor 2``, root first."""
    names = tuple(
        validation.display_name(part, "group name") for part in text.split("/") if part.strip()
    )
    if not names:
        raise InvalidInput(f"the PATH {text[:60]!r} names no group")
    if len(names) > MAX_PATH_DEPTH:
        raise InvalidInput(
            f"the PATH has {len(names)} levels; at most {MAX_PATH_DEPTH} are allowed"
        )
    return names


def line_tenant(actor: Actor, line: CsvLine) -> str | None:
    """The tenant a line names, ``None`` for the caller's own (written or not)."""
    return None if line.tenant in (None, actor.tenant_id) else line.tenant


def _line_problem(actor: Actor, line: CsvLine, may_name_tenant: bool) -> DeviceProblem | None:
    device = line.id
    if line.problem is not None:
        return DeviceProblem("INVALID_INPUT", line.problem, device)
    if not device:
        return DeviceProblem("INVALID_INPUT", "the line has no ID", device)
    id_problem = None if _PLAIN_ID.fullmatch(device) else validation.device_id_problem(device)
    if id_problem:
        return DeviceProblem("INVALID_ID", id_problem, device)
    if line.credentials:
        return DeviceProblem(
            "INVALID_INPUT",
            f"device {device}: CREDENTIALS must be empty; Gatehouse never presets a "
            "device's password, the device collects its own when it is accepted",
            device,
        )
    tenant = line_tenant(actor, line)
    if tenant is not None and line.path is not None:
        return DeviceProblem(
            "TENANT_AND_GROUP",
            f"device {device} names both a tenant and a group path; "
            "register it to a tenant or to a group, not both",
            device,
        )
    if tenant is not None and not may_name_tenant:
        return DeviceProblem(
            "INVALID_INPUT",
            f"device {device}: only a management tenant user with "
            "TENANT_MANAGEMENT_ADMIN can register devices into another tenant",
            device,
        )
    if tenant is not None and not validation.TENANT_ID.fullmatch(tenant):
        return DeviceProblem("NOT_FOUND", f"device {device}: no tenant {tenant[:40]!r}", device)
    if line.path is not None:
        try:
            group_path(line.path)
        except InvalidInput as error:
            return DeviceProblem("INVALID_INPUT", f"device {device}: {error.message}", device)
    return None


def line_problems(actor: Actor, lines: Sequence[CsvLine]) -> dict[int, DeviceProblem]:
    """What is wrong with each line, by line number, before any look-up.

    A line that repeats an id of an earlier line is ``ALREADY_EXISTS`` (the
    first of them is the one registered).
    """
    may_name_tenant = actor.is_management and actor.can(Permission.TENANT_MANAGEMENT_ADMIN)
    problems: dict[int, DeviceProblem] = {}
    first_line: dict[str, int] = {}
    for line in lines:
        problem = _line_problem(actor, line, may_name_tenant)
        if problem is None or problem.code != "INVALID_ID":
            earlier = first_line.setdefault(line.id, line.line)
            if earlier != line.line and line.id:
                problem = DeviceProblem(
                    "ALREADY_EXISTS", f"device id {line.id} repeats line {earlier}", line.id
                )
        if problem is not None:
            problems[line.line] = problem
    return problems


# ---------------------------------------------------------------- the service


async def register_csv(actor: Actor, data: bytes | str) -> BulkOutcome:
    """Register every good line of a bulk registration file; report every bad one (§8.3).

    A file that cannot be read (``resolvers/csv_lines.py``) raises
    :class:`InvalidInput` with nothing registered. Group paths are created
    where missing; every registration writes its ``REGISTERED`` event.
    """
    actor.require(Permission.DEVICE_CONTROL_ADMIN)
    lines = csv_lines.read_csv(data).lines
    problems = line_problems(actor, lines)
    good = [line for line in lines if line.line not in problems]
    targets: dict[int, str] = {
        line.line: line_tenant(actor, line) or actor.tenant_id for line in good
    }
    groups: dict[int, int] = {}
    batch: _Batch | None = None
    if good:
        named = {t for t in targets.values() if t != actor.tenant_id}
        async with tenant_change(actor.tenant_id, *named) as change:
            connection = change.connection
            known = await existing(connection, "tenants", "id", named) if named else set()
            taken = await existing(connection, "registrations", "device_id", (g.id for g in good))
            for line in good:
                if line.id in taken:
                    problems[line.line] = DeviceProblem(
                        "ALREADY_EXISTS", f"device id {line.id} is already registered", line.id
                    )
                elif targets[line.line] not in known and targets[line.line] != actor.tenant_id:
                    problems[line.line] = DeviceProblem(
                        "NOT_FOUND", f"device {line.id}: no tenant {line.tenant!r}", line.id
                    )
            good = [line for line in good if line.line not in problems]
            paths = {line.line: group_path(line.path) for line in good if line.path is not None}
            by_path = await resolve_paths(
                connection, actor.tenant_id, set(paths.values()), change.at
            )
            groups = {number: by_path[path] for number, path in paths.items()}
            # Inserting in id order, whatever the file's order, keeps two uploads that
            # share ids (in different tenants, so not serialised by the lock) from deadlocking.
            rows = sorted((line.id, targets[line.line], groups.get(line.line)) for line in good)
            inserted = (
                await insert_registrations(connection, rows, actor.name, change.at)
                if rows
                else set()
            )
            for line in good:
                if line.id not in inserted:  # registered meanwhile by another call
                    problems[line.line] = DeviceProblem(
                        "ALREADY_EXISTS", f"device id {line.id} is already registered", line.id
                    )
            events = [(targets[line.line], line.id) for line in good if line.id in inserted]
            if events:
                await insert_events(connection, events, actor.name, change.at)
                change.bulk_written = True
            change.note(
                "%s registered %d device(s) from a CSV file; %d line(s) failed",
                actor.name,
                len(events),
                len(problems),
            )
            batch = _Batch(owner=actor.name, at=change.at)
    return BulkOutcome(
        [
            BulkLine(line.line, line.id, problems[line.line])
            if line.line in problems
            else BulkLine(
                line.line, line.id, None, targets[line.line], groups.get(line.line), batch
            )
            for line in lines
        ]
    )
