"""The registration life cycle table (``resolvers/lifecycle.py``): pure, no database."""

from __future__ import annotations

import pytest

from models.events import RegistrationEventKind as Kind
from models.registrations import RegistrationStatus as Status
from resolvers import lifecycle

WAITING = Status.WAITING_FOR_CONNECTION
PENDING = Status.PENDING_ACCEPTANCE
ACCEPTED = Status.ACCEPTED
BLOCKED = Status.BLOCKED


@pytest.mark.parametrize(
    ("transition", "sources", "target", "kind"),
    [
        (lifecycle.REGISTER, set(), WAITING, Kind.REGISTERED),
        (lifecycle.CONNECT, {WAITING}, PENDING, Kind.CONNECTED),
        (lifecycle.BLOCK_AT_FIRST_CONTACT, {WAITING}, BLOCKED, Kind.BLOCKED),
        (lifecycle.ACCEPT, {PENDING}, ACCEPTED, Kind.ACCEPTED),
        (lifecycle.REJECT_TOKEN, {PENDING}, PENDING, Kind.TOKEN_REJECTED),
        (lifecycle.BLOCK, {PENDING}, BLOCKED, Kind.BLOCKED),
        (lifecycle.DELIVER, {ACCEPTED}, ACCEPTED, Kind.CREDENTIALS_DELIVERED),
        (lifecycle.RESET_CREDENTIALS, {ACCEPTED}, ACCEPTED, Kind.CREDENTIALS_RESET),
        (lifecycle.REMOVE, set(Status), None, Kind.REMOVED),
        (lifecycle.REJECT_TOKEN_AT_DELIVERY, {ACCEPTED}, ACCEPTED, Kind.TOKEN_REJECTED),
        (lifecycle.BLOCK_AT_DELIVERY, {ACCEPTED}, BLOCKED, Kind.BLOCKED),
        (lifecycle.REQUEST_AGAIN, {ACCEPTED}, ACCEPTED, Kind.CREDENTIALS_REQUESTED_AGAIN),
    ],
)
def test_each_change_moves_from_its_statuses_to_its_status_with_its_event(
    transition: lifecycle.Transition, sources: set[Status], target: Status | None, kind: Kind
) -> None:
    assert transition.sources == frozenset(sources)
    assert transition.target is target
    assert transition.kind is kind
    for status in Status:
        assert transition.allows(status) is (status in sources)
    assert transition.allows(None) is (not sources)


def test_only_register_applies_where_there_is_no_registration() -> None:
    assert [t for t in lifecycle.TRANSITIONS if t.allows(None)] == [lifecycle.REGISTER]


def test_every_status_is_reached_and_left_and_every_event_kind_is_written() -> None:
    targets = {t.target for t in lifecycle.TRANSITIONS}
    sources = {s for t in lifecycle.TRANSITIONS if t is not lifecycle.REMOVE for s in t.sources}
    assert set(Status) <= targets
    assert {WAITING, PENDING, ACCEPTED} <= sources  # BLOCKED is left only by removal
    assert {t.kind for t in lifecycle.TRANSITIONS} == set(Kind)


def test_previous_status_is_the_status_before_and_refuses_a_status_not_allowed() -> None:
    assert lifecycle.REGISTER.previous(None) is None
    assert lifecycle.REMOVE.previous(BLOCKED) is BLOCKED
    assert lifecycle.ACCEPT.previous(PENDING) is PENDING
    with pytest.raises(ValueError, match="accept does not apply"):
        lifecycle.ACCEPT.previous(WAITING)


def test_first_contact_blocks_only_when_the_policy_demands_it() -> None:
    assert lifecycle.first_contact(blocked=False) is lifecycle.CONNECT
    assert lifecycle.first_contact(blocked=True) is lifecycle.BLOCK_AT_FIRST_CONTACT


@pytest.mark.parametrize(
    ("failed", "limit", "expected"),
    [
        (1, 5, lifecycle.REJECT_TOKEN),
        (4, 5, lifecycle.REJECT_TOKEN),
        (5, 5, lifecycle.BLOCK),
        (7, 5, lifecycle.BLOCK),
        (1, 1, lifecycle.BLOCK),
    ],
)
def test_a_failed_attempt_blocks_at_the_limit(
    failed: int, limit: int, expected: lifecycle.Transition
) -> None:
    assert lifecycle.failed_attempt(failed, limit) is expected


@pytest.mark.parametrize(
    ("where", "rejected", "blocked"),
    [
        (lifecycle.AT_ACCEPT, lifecycle.REJECT_TOKEN, lifecycle.BLOCK),
        (lifecycle.AT_DELIVERY, lifecycle.REJECT_TOKEN_AT_DELIVERY, lifecycle.BLOCK_AT_DELIVERY),
    ],
)
def test_a_failed_attempt_counts_the_same_at_accept_and_at_delivery(
    where: lifecycle.FailedAttempts, rejected: lifecycle.Transition, blocked: lifecycle.Transition
) -> None:
    assert [where.after(n, 3) for n in (1, 2, 3, 4)] == [rejected, rejected, blocked, blocked]
    # Either way the registration stays where it was, or is blocked.
    assert rejected.sources == blocked.sources == frozenset({rejected.target})
    assert blocked.target is BLOCKED
