"""Input rules that need no database: ids, names, passwords.

Option values are checked by the table of known options (``resolvers/known_options.py``).

Each check raises a domain error whose message says what was wrong, so a bad
request is answered with a clear error instead of a database failure.
"""

from __future__ import annotations

import re

from resolvers.errors import InvalidInput
from resolvers.passwords import PASSWORD_MAX_LENGTH

TENANT_ID = re.compile(r"[a-z0-9-]{1,32}")
USERNAME = re.compile(r"[A-Za-z0-9._@+-]{1,64}")
PASSWORD_MIN = 8
PASSWORD_MAX = PASSWORD_MAX_LENGTH
NAME_MAX = 255


def tenant_id(value: str) -> str:
    if not TENANT_ID.fullmatch(value):
        raise InvalidInput(
            f"invalid tenant id {value[:40]!r}: use 1-32 lowercase letters, digits or '-'"
        )
    return value


def username(value: str) -> str:
    if not USERNAME.fullmatch(value):
        raise InvalidInput(
            f"invalid username {value[:70]!r}: use 1-64 letters, digits or any of . _ @ + -"
        )
    return value


def password(value: str) -> str:
    if len(value) < PASSWORD_MIN:
        raise InvalidInput(f"the password must have at least {PASSWORD_MIN} characters")
    if len(value) > PASSWORD_MAX:
        raise InvalidInput(f"the password must have at most {PASSWORD_MAX} characters")
    return value


def display_name(value: str, what: str, limit: int = NAME_MAX) -> str:
    """A human-readable name: trimmed, 1 to ``limit`` characters, no control characters."""
    stripped = value.strip()
    if not stripped:
        raise InvalidInput(f"the {what} must not be empty")
    if not stripped.isprintable():
        raise InvalidInput(f"the {what} must not contain control characters")
    if len(stripped) > limit:
        raise InvalidInput(f"the {what} must have at most {limit} characters")
    return stripped


DEVICE_ID_MAX = 255
_FORBIDDEN_IN_DEVICE_ID = {"/": "'/'", "\\": "'\\'", ":": "':'", "?": "'?'", "#": "'#'", "%": "'%'"}
#: Any character a device id must not hold but unprintable ones (``\s`` is ``str.isspace``).
_NOT_IN_DEVICE_ID = re.compile(r"[\s/\\:?#%]")


def device_id_problem(value: str) -> str | None:
    """Why ``value`` cannot be a device id (API.md §5.1), or ``None`` when it can.

    1-255 printable characters, no white space and none of ``/ \\ : ? # %``.
    """
    if not value:
        return "the device id must not be empty"
    if len(value) > DEVICE_ID_MAX:
        return f"the device id has {len(value)} characters; at most {DEVICE_ID_MAX} are allowed"
    if value.isprintable() and _NOT_IN_DEVICE_ID.search(value) is None:
        # The common case, in C: a register of 10,000 ids must not hold the event loop.
        return None
    for char in value:
        if char in _FORBIDDEN_IN_DEVICE_ID:
            return f"the device id must not contain {_FORBIDDEN_IN_DEVICE_ID[char]}"
        if char.isspace():
            return f"the device id must not contain white space (found {char!r})"
        if not char.isprintable():
            return f"the device id must not contain the unprintable character {char!r}"
    return None
