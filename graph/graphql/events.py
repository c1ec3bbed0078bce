"""GraphQL for the event log: the ``events`` query and the ``registrationEvents`` subscription."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import strawberry
from starlette.websockets import WebSocket

from graph.graphql import direct_delivery
from graph.graphql.arguments import given
from graph.graphql.context import Info
from graph.graphql.pagination import PageInfo
from graph.graphql.permissions import can
from graph.graphql.registrations import Registration
from models.events import RegistrationEvent as EventRow
from models.events import RegistrationEventKind
from models.registrations import RegistrationStatus
from resolvers import events, live
from resolvers.pagination import Page
from resolvers.permissions import Permission

log = logging.getLogger(__name__)

strawberry.enum(RegistrationEventKind, name="RegistrationEventKind")

#: Close code for a subscriber whose queue overflowed; it should reconnect with
#: ``after`` set to the cursor of the last event it received.
TOO_SLOW = 4503


@strawberry.type
class RegistrationEvent:
    cursor: str
    kind: RegistrationEventKind
    id: strawberry.ID
    status: RegistrationStatus | None
    previous_status: RegistrationStatus | None
    at: datetime
    actor: str | None
    registration: Registration | None
    #: Subscription results computed for this event (graph/graphql/shared_execution.py).
    shared_results: strawberry.Private[dict[object, object]] = dataclasses.field(
        default_factory=dict
    )
    #: ``next`` messages of this event as sent, by result and operation id
    #: (graph/graphql/direct_delivery.py).
    shared_messages: strawberry.Private[dict[object, str | bytes]] = dataclasses.field(
        default_factory=dict
    )

    @classmethod
    def from_model(cls, event: EventRow, registration: Registration | None) -> RegistrationEvent:
        return cls(
            cursor=events.event_cursor(event.tenant_id, event.seq),
            kind=event.kind,
            id=strawberry.ID(event.device_id),
            status=event.status,
            previous_status=event.previous_status,
            at=event.at,
            actor=event.actor,
            registration=registration,
        )

    @classmethod
    def from_live(cls, item: live.LiveEvent) -> RegistrationEvent:
        """The event's GraphQL object, built once and shared by every subscriber."""
        view = item.views.get("graphql")
        if not isinstance(view, RegistrationEvent):
            current = item.registration
            view = cls.from_model(item.event, Registration.from_model(current) if current else None)
            item.views["graphql"] = view
        return view


@strawberry.type
class RegistrationEventEdge:
    cursor: str
    node: RegistrationEvent


@strawberry.type
class RegistrationEventConnection:
    edges: list[RegistrationEventEdge]
    page_info: PageInfo

    @classmethod
    def from_page(
        cls, page: Page[EventRow], current: dict[str, Registration]
    ) -> RegistrationEventConnection:
        edges = []
        for event in page.items:
            node = RegistrationEvent.from_model(
                event, current.get(event.device_id) if event.status is not None else None
            )
            edges.append(RegistrationEventEdge(cursor=node.cursor, node=node))
        return cls(
            edges=edges,
            page_info=PageInfo.after([e.cursor for e in edges], page.has_next_page),
        )


@strawberry.type
class EventQueries:
    @strawberry.field(
        permission_classes=[can(Permission.DEVICE_CONTROL_READ)],
        description="The tenant's event log (audit trail), oldest first; "
        "`after` takes a RegistrationEvent cursor.",
    )
    async def events(
        self,
        info: Info,
        device_id: strawberry.ID | None = strawberry.UNSET,
        after: str | None = strawberry.UNSET,
        first: int | None = 50,
        newest_first: Annotated[
            bool,
            strawberry.argument(
                description="Newest first (the audit log's order); `after` then continues "
                "with older events."
            ),
        ] = False,
    ) -> RegistrationEventConnection:
        actor = info.context.caller
        page = await events.list_events(
            actor, given(device_id), given(after), first, newest_first=newest_first
        )
        current = await events.current_registrations(actor.tenant_id, page.items)
        return RegistrationEventConnection.from_page(
            page, {k: Registration.from_model(v) for k, v in current.items()}
        )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        permission_classes=[can(Permission.DEVICE_CONTROL_READ)],
        description="Every change to the caller's tenant's registrations, in commit order. "
        "With `after`, first replays what the caller missed since that cursor, then goes "
        "live, with no gap and no duplicate.",
    )
    async def registration_events(
        self,
        info: Info,
        after: str | None = strawberry.UNSET,
        status: list[RegistrationStatus] | None = strawberry.UNSET,
    ) -> AsyncGenerator[RegistrationEvent, None]:
        actor = info.context.caller
        socket = info.context.request

        def close_too_slow() -> None:
            log.warning("closing a subscriber of tenant %s that fell behind", actor.tenant_id)
            if isinstance(socket, WebSocket):
                task = asyncio.create_task(
                    socket.close(code=TOO_SLOW, reason="too slow: resume with your last cursor")
                )
                _closing.add(task)
                task.add_done_callback(_closing.discard)

        direct: live.Direct | None = None
        target = direct_delivery.current()
        if target is not None:

            async def direct(item: live.LiveEvent) -> bool:
                return await target.deliver(RegistrationEvent.from_live(item))

        with contextlib.suppress(live.SubscriberTooSlow):
            stream = live.stream(actor, given(after), given(status), close_too_slow, direct)
            async for item in stream:
                yield RegistrationEvent.from_live(item)


_closing: set[asyncio.Task[None]] = set()
