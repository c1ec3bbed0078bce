"""The registration life cycle as one table: which change moves which status where (API.md §5).

Every service function that changes a registration names its
:class:`Transition` here: it decides with :meth:`Transition.allows`, writes
``target`` as the new status, and logs ``kind`` as the event. Adding a status
or a change means editing :class:`~models.registrations.RegistrationStatus`
and this table; nothing else restates which status may follow which. Pure:
tested without a database (``tests/resolvers/test_lifecycle.py``).

The table, read as sentences:

- REGISTER: (none) → WAITING_FOR_CONNECTION, event REGISTERED
- CONNECT: WAITING_FOR_CONNECTION → PENDING_ACCEPTANCE, event CONNECTED
- BLOCK_AT_FIRST_CONTACT: WAITING_FOR_CONNECTION → BLOCKED (REQUIRED, no token), event BLOCKED
- ACCEPT: PENDING_ACCEPTANCE → ACCEPTED, event ACCEPTED
- REJECT_TOKEN: PENDING_ACCEPTANCE → itself (a failed attempt below the limit), TOKEN_REJECTED
- BLOCK: PENDING_ACCEPTANCE → BLOCKED (the failed attempt that reaches the limit), BLOCKED
- DELIVER: ACCEPTED → itself, credentials collected, CREDENTIALS_DELIVERED
- RESET_CREDENTIALS: ACCEPTED → itself, delivered credentials revoked (§6.5), CREDENTIALS_RESET
- REMOVE: any status → (none), event REMOVED
- REJECT_TOKEN_AT_DELIVERY: ACCEPTED → itself (a wrong token at the poll that would
  collect the credentials, below the limit), TOKEN_REJECTED
- BLOCK_AT_DELIVERY: ACCEPTED → BLOCKED (that wrong token reaching the limit), BLOCKED
- REQUEST_AGAIN: ACCEPTED → itself (a poll after delivery, at most once an hour),
  CREDENTIALS_REQUESTED_AGAIN

A failed security token attempt counts the same wherever it is made
(:class:`FailedAttempts`): at ``accept`` it is REJECT_TOKEN or BLOCK, at
delivery REJECT_TOKEN_AT_DELIVERY or BLOCK_AT_DELIVERY.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.events import RegistrationEventKind as Kind
from models.registrations import RegistrationStatus as Status


@dataclass(frozen=True)
class Transition:
    """One kind of change: from which statuses, to which status, logged as which event.

    ``sources`` empty means "no registration before" (``register``); ``target``
    ``None`` means "no registration after" (``removeRegistration``).
    """

    name: str
    sources: frozenset[Status]
    target: Status | None
    kind: Kind

    def allows(self, status: Status | None) -> bool:
        """Whether a registration in ``status`` (``None``: none yet) may take this change."""
        if status is None:
            return not self.sources
        return status in self.sources

    def previous(self, status: Status | None) -> Status | None:
        """The event's ``previousStatus`` for a registration that was in ``status``."""
        if not self.allows(status):
            raise ValueError(f"{self.name} does not apply to a registration in {status}")
        return status


def _t(name: str, sources: set[Status], target: Status | None, kind: Kind) -> Transition:
    return Transition(name, frozenset(sources), target, kind)


REGISTER = _t("register", set(), Status.WAITING_FOR_CONNECTION, Kind.REGISTERED)
CONNECT = _t("connect", {Status.WAITING_FOR_CONNECTION}, Status.PENDING_ACCEPTANCE, Kind.CONNECTED)
BLOCK_AT_FIRST_CONTACT = _t(
    "block at first contact", {Status.WAITING_FOR_CONNECTION}, Status.BLOCKED, Kind.BLOCKED
)
ACCEPT = _t("accept", {Status.PENDING_ACCEPTANCE}, Status.ACCEPTED, Kind.ACCEPTED)
REJECT_TOKEN = _t(
    "reject a token", {Status.PENDING_ACCEPTANCE}, Status.PENDING_ACCEPTANCE, Kind.TOKEN_REJECTED
)
BLOCK = _t("block after failed attempts", {Status.PENDING_ACCEPTANCE}, Status.BLOCKED, Kind.BLOCKED)
DELIVER = _t("deliver credentials", {Status.ACCEPTED}, Status.ACCEPTED, Kind.CREDENTIALS_DELIVERED)
RESET_CREDENTIALS = _t(
    "reset credentials", {Status.ACCEPTED}, Status.ACCEPTED, Kind.CREDENTIALS_RESET
)
REMOVE = _t("remove", set(Status), None, Kind.REMOVED)
REJECT_TOKEN_AT_DELIVERY = _t(
    "reject a token at delivery", {Status.ACCEPTED}, Status.ACCEPTED, Kind.TOKEN_REJECTED
)
BLOCK_AT_DELIVERY = _t(
    "block after failed attempts at delivery", {Status.ACCEPTED}, Status.BLOCKED, Kind.BLOCKED
)
REQUEST_AGAIN = _t(
    "credentials requested again",
    {Status.ACCEPTED},
    Status.ACCEPTED,
    Kind.CREDENTIALS_REQUESTED_AGAIN,
)

TRANSITIONS: tuple[Transition, ...] = (
    REGISTER,
    CONNECT,
    BLOCK_AT_FIRST_CONTACT,
    ACCEPT,
    REJECT_TOKEN,
    BLOCK,
    DELIVER,
    RESET_CREDENTIALS,
    REMOVE,
    REJECT_TOKEN_AT_DELIVERY,
    BLOCK_AT_DELIVERY,
    REQUEST_AGAIN,
)


def first_contact(blocked: bool) -> Transition:
    """The device's first poll: connected, or blocked when the policy demands a token it lacked."""
    return BLOCK_AT_FIRST_CONTACT if blocked else CONNECT


@dataclass(frozen=True)
class FailedAttempts:
    """Where a wrong or missing security token can be given, and what it does there."""

    rejected: Transition
    blocked: Transition

    def after(self, failed_attempts: int, limit: int) -> Transition:
        """The transition of the attempt that makes the count ``failed_attempts``."""
        return self.blocked if failed_attempts >= limit else self.rejected


AT_ACCEPT = FailedAttempts(REJECT_TOKEN, BLOCK)
AT_DELIVERY = FailedAttempts(REJECT_TOKEN_AT_DELIVERY, BLOCK_AT_DELIVERY)


def failed_attempt(failed_attempts: int, limit: int) -> Transition:
    """A wrong or missing token, ``failed_attempts`` counting it: blocks at the tenant's limit."""
    return AT_ACCEPT.after(failed_attempts, limit)
