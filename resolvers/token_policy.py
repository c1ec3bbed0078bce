"""The security token policy of a tenant (API.md §5.3) and the options that set it."""

from __future__ import annotations

import enum

OPTION_CATEGORY = "device-registration"
POLICY_KEY = "security-token.policy"
MAX_FAILED_ATTEMPTS_KEY = "security-token.max-failed-attempts"
DEFAULT_MAX_FAILED_ATTEMPTS = 5


class SecurityTokenPolicy(enum.Enum):
    IGNORED = "IGNORED"
    OPTIONAL = "OPTIONAL"
    REQUIRED = "REQUIRED"


DEFAULT_POLICY = SecurityTokenPolicy.OPTIONAL
