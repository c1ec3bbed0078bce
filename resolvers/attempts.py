"""Failed security token attempts: counted once each, exactly, blocking at the tenant's limit.

A wrong or missing token counts the same wherever it is given (API.md §4,
§5.3): at ``accept`` (``resolvers/registrations.py``) and at the poll that
would collect the credentials (``resolvers/credentials.py``). Both call
:func:`count_failed_attempt` inside ``tenant_change`` on the registration they
re-read under the tenant's lock, so concurrent attempts are counted one after
another: the count never passes the limit, and once the attempt that reaches it
has blocked the registration, no later attempt (a right token included) finds
it still open.
"""

from __future__ import annotations

from models.registrations import Registration
from resolvers.changes import TenantChange
from resolvers.lifecycle import FailedAttempts, Transition


async def count_failed_attempt(
    change: TenantChange,
    registration: Registration,
    limit: int,
    where: FailedAttempts,
    *,
    actor: str,
) -> Transition:
    """Count one failed attempt on ``registration`` (read under the lock) and record its event.

    Returns the transition taken: ``where.blocked`` for the attempt that reaches
    ``limit``, ``where.rejected`` below it. ``registration`` is updated in place.
    """
    previous = registration.status
    registration.failed_attempts += 1
    transition = where.after(registration.failed_attempts, limit)
    if transition is where.blocked:
        registration.blocked_reason = (
            f"blocked after {registration.failed_attempts} failed security token attempts"
        )
    assert transition.target is not None
    registration.status = transition.target
    registration.updated_at = change.at
    await registration.save(
        update_fields=["failed_attempts", "status", "blocked_reason", "updated_at"]
    )
    change.record(
        transition, registration.tenant_id, registration.device_id, previous=previous, actor=actor
    )
    return transition
