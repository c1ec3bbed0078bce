"""The one skeleton of every change to a tenant's registrations.

::

    async with tenant_change(tenant_id) as change:
        ...                                     # re-read under the lock, decide, write rows
        change.record(lifecycle.ACCEPT, tenant_id, device_id, previous=status, actor=name)
        change.note("%s accepted device %s", name, device_id)

:func:`tenant_change` opens a transaction, takes each tenant's log lock
(``resolvers/events.py``: this serialises every change to the tenant's
registrations and makes event order commit order), takes the time of the
change, and on leaving appends the recorded events, commits, tells every
process that the tenants have new events, and logs the noted lines. An
exception inside the block rolls everything back and notifies nobody;
expected failures that must still commit (a wrong token counts) are raised by
the caller after the block.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models.events import RegistrationEvent
from models.registrations import RegistrationStatus
from resolvers import events, live
from resolvers.lifecycle import Transition

log = logging.getLogger("resolvers.changes")


def utcnow() -> datetime:
    """The service layer's one clock: every change is stamped with it, and rules that look
    at elapsed time (``resolvers/credentials.py``) read it, so tests move time by patching
    this function instead of sleeping."""
    return datetime.now(UTC)


def _change_time() -> datetime:
    return utcnow()  # looked up at each change, so a patched clock takes effect


@dataclass
class TenantChange:
    """What one change wrote: its time, its events, its log lines (see the module docstring)."""

    tenant_ids: tuple[str, ...]
    connection: BaseDBAsyncClient
    at: datetime = field(default_factory=_change_time)
    events: list[RegistrationEvent] = field(default_factory=list)
    #: Events written by a statement of their own (``events.append_accepted``): still notified.
    bulk_written: bool = False
    notes: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    def record(
        self,
        transition: Transition,
        tenant_id: str,
        device_id: str,
        *,
        previous: RegistrationStatus | None,
        actor: str,
    ) -> None:
        """Log ``transition`` of device ``device_id`` that was in ``previous``."""
        self.events.append(
            RegistrationEvent(
                tenant_id=tenant_id,
                device_id=device_id,
                kind=transition.kind,
                status=transition.target,
                previous_status=transition.previous(previous),
                actor=actor,
                at=self.at,
            )
        )

    def note(self, message: str, *args: Any) -> None:
        """A line for the log, written once the change has committed."""
        self.notes.append((message, args))

    @property
    def changed(self) -> bool:
        return bool(self.events) or self.bulk_written


@asynccontextmanager
async def tenant_change(*tenant_ids: str) -> AsyncIterator[TenantChange]:
    """A locked transaction over the tenants' registrations (see the module docstring)."""
    ordered = tuple(sorted(set(tenant_ids)))  # one lock order everywhere: no deadlock
    async with in_transaction() as connection:
        for tenant_id in ordered:
            await events.lock_tenant_log(tenant_id)
        change = TenantChange(ordered, connection)
        yield change
        await events.append(*change.events)
    if change.changed:
        await live.notify(*ordered)
    for message, args in change.notes:
        log.info(message, *args)
