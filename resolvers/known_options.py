"""The tenant options Gatehouse knows, in one table (API.md §5.7, §8.2).

Each :class:`KnownOption` says how a value is checked, what holds when the
option is absent, and what it means in one line. ``setTenantOption``, the
REST ``/tenant/options`` and the console's settings all check values with
:func:`check_option`, and the service layer reads typed values through the
table's defaults. Any other category and key is stored as given, within the
size limits below. Pure: no database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from resolvers.errors import InvalidOption
from resolvers.token_policy import DEFAULT_POLICY, SecurityTokenPolicy

OPTION_NAME_MAX = 128
OPTION_VALUE_MAX_BYTES = 64 * 1024

#: Why a value is refused (the message's tail), or ``None`` when it is fine.
ValueCheck = Callable[[str], str | None]


@dataclass(frozen=True)
class KnownOption:
    category: str
    key: str
    check: ValueCheck
    default: str
    description: str


def _one_of(*allowed: str) -> ValueCheck:
    def check(value: str) -> str | None:
        if value in allowed:
            return None
        return f"must be one of {', '.join(allowed)}, got {value[:40]!r}"

    return check


def _whole_number(low: int, high: int) -> ValueCheck:
    def check(value: str) -> str | None:
        # isascii: int() would also take "٣" or " 5"; the stored text must be plain digits.
        if value.isascii() and value.isdigit() and low <= int(value) <= high:
            return None
        return f"must be a whole number from {low} to {high}, got {value[:40]!r}"

    return check


REGISTRATION_CATEGORY = "device-registration"

SECURITY_TOKEN_POLICY = KnownOption(
    REGISTRATION_CATEGORY,
    "security-token.policy",
    _one_of(*SecurityTokenPolicy.__members__),
    DEFAULT_POLICY.value,
    "Whether accepting a device checks the security token it presented at first contact.",
)
MAX_FAILED_ATTEMPTS = KnownOption(
    REGISTRATION_CATEGORY,
    "security-token.max-failed-attempts",
    _whole_number(1, 100),
    "5",
    "How many wrong security tokens block a registration until it is removed.",
)

KNOWN_OPTIONS: dict[tuple[str, str], KnownOption] = {
    (option.category, option.key): option for option in (SECURITY_TOKEN_POLICY, MAX_FAILED_ATTEMPTS)
}


def check_option(category: str, key: str, value: str) -> None:
    """Raise :class:`InvalidOption` unless ``value`` may be stored under ``category``/``key``."""
    for label, text in (("category", category), ("key", key)):
        if not 1 <= len(text) <= OPTION_NAME_MAX:
            raise InvalidOption(f"the option {label} must have 1 to {OPTION_NAME_MAX} characters")
    if len(value.encode()) > OPTION_VALUE_MAX_BYTES:
        raise InvalidOption(f"the option value must be at most {OPTION_VALUE_MAX_BYTES} bytes")
    for label, text in (("category", category), ("key", key), ("value", value)):
        # PostgreSQL cannot store NUL in text; refuse it on every backend alike.
        if "\x00" in text:
            raise InvalidOption(f"the option {label} must not contain the NUL character")
    known = KNOWN_OPTIONS.get((category, key))
    if known is not None:
        why = known.check(value)
        if why is not None:
            raise InvalidOption(f"{category}/{key} {why}")


def security_token_policy(stored: str | None) -> SecurityTokenPolicy:
    """The policy a stored option value (``None``: absent) stands for."""
    return SecurityTokenPolicy(stored or SECURITY_TOKEN_POLICY.default)


def max_failed_attempts(stored: str | None) -> int:
    """The failed-attempt limit a stored option value (``None``: absent) stands for."""
    return int(stored or MAX_FAILED_ATTEMPTS.default)
