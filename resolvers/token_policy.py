"""The security token policy table (API.md §5.2-§5.4): pure decisions, no database.

The option that selects a tenant's policy is in ``resolvers/known_options.py``.
"""

from __future__ import annotations

import enum


class SecurityTokenPolicy(enum.Enum):
    IGNORED = "IGNORED"
    OPTIONAL = "OPTIONAL"
    REQUIRED = "REQUIRED"


#: In force where the tenant set no policy, and for callers who may not read options.
DEFAULT_POLICY = SecurityTokenPolicy.OPTIONAL


class Check(enum.Enum):
    """What ``accept`` must do with the token the operator typed."""

    ACCEPT = "accept"  # accept without looking at any token
    COMPARE = "compare"  # accept only if the typed token matches the device's
    REJECT = "reject"  # cannot be accepted: counts as a failed attempt


def accept_check(policy: SecurityTokenPolicy, device_used_token: bool) -> Check:
    """API.md §5.3: the policy table.

    | policy   | device used no token            | device used a token |
    | IGNORED  | accept                          | accept              |
    | OPTIONAL | accept (a typed token ignored)  | compare             |
    | REQUIRED | reject (connected before policy)| compare             |
    """
    if policy is SecurityTokenPolicy.IGNORED:
        return Check.ACCEPT
    if device_used_token:
        return Check.COMPARE
    return Check.ACCEPT if policy is SecurityTokenPolicy.OPTIONAL else Check.REJECT


def accepted_without_token(policy: SecurityTokenPolicy, device_used_token: bool) -> bool:
    """Whether ``acceptAll`` may accept this registration (no operator token needed)."""
    return accept_check(policy, device_used_token) is Check.ACCEPT


def blocks_at_first_contact(policy: SecurityTokenPolicy, presented_token: bool) -> bool:
    """Under REQUIRED a device that connects without a token is blocked (API.md §5.2)."""
    return policy is SecurityTokenPolicy.REQUIRED and not presented_token
