"""The security token policy table (API.md §5.2-§5.4), without a database."""

from __future__ import annotations

import pytest

from resolvers.known_options import max_failed_attempts, security_token_policy
from resolvers.token_policy import (
    DEFAULT_POLICY,
    Check,
    SecurityTokenPolicy,
    accept_check,
    accepted_without_token,
    blocks_at_first_contact,
)

IGNORED = SecurityTokenPolicy.IGNORED
OPTIONAL = SecurityTokenPolicy.OPTIONAL
REQUIRED = SecurityTokenPolicy.REQUIRED

#: (policy, device used a token) -> (accept check, acceptAll accepts it, blocked at first contact)
TABLE = [
    (IGNORED, False, Check.ACCEPT, True, False),
    (IGNORED, True, Check.ACCEPT, True, False),
    (OPTIONAL, False, Check.ACCEPT, True, False),
    (OPTIONAL, True, Check.COMPARE, False, False),
    (REQUIRED, False, Check.REJECT, False, True),
    (REQUIRED, True, Check.COMPARE, False, False),
]


@pytest.mark.parametrize(
    ("policy", "used_token", "check", "without_token", "blocks"),
    TABLE,
    ids=[f"{row[0].value}-{'token' if row[1] else 'tokenless'}" for row in TABLE],
)
def test_policy_table(
    policy: SecurityTokenPolicy, used_token: bool, check: Check, without_token: bool, blocks: bool
) -> None:
    assert accept_check(policy, used_token) is check
    assert accepted_without_token(policy, used_token) is without_token
    assert blocks_at_first_contact(policy, presented_token=used_token) is blocks


def test_defaults_are_optional_and_five_attempts() -> None:
    assert DEFAULT_POLICY is OPTIONAL
    assert security_token_policy(None) is OPTIONAL
    assert max_failed_attempts(None) == 5


def test_policy_values_are_the_schema_enum_names() -> None:
    assert [p.value for p in SecurityTokenPolicy] == ["IGNORED", "OPTIONAL", "REQUIRED"]
