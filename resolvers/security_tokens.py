"""Security tokens: when one counts as given, how long it may be, and how it is kept.

A device presents its token at first contact; it is stored only as a salted
argon2 hash (``resolvers/passwords.py``) and compared in constant time. These
rules are the same at the device endpoint, at ``accept`` and at delivery.
"""

from __future__ import annotations

from resolvers.errors import InvalidInput
from resolvers.passwords import hash_password, verify_password

TOKEN_MAX_LENGTH = 1024


def presented(token: str | None) -> str | None:
    """The token as given, or ``None`` for no token (an empty string is no token)."""
    return token or None


def check_length(token: str | None) -> None:
    """Refuse a token longer than :data:`TOKEN_MAX_LENGTH` (the device endpoint answers 422)."""
    if token is not None and len(token) > TOKEN_MAX_LENGTH:
        raise InvalidInput(f"the security token must have at most {TOKEN_MAX_LENGTH} characters")


async def digest(token: str) -> str:
    """The salted hash kept of a token presented at first contact."""
    return await hash_password(token)


async def matches(token_hash: str | None, typed: str | None) -> bool:
    """Whether ``typed`` is the token hashed as ``token_hash``; never for no or too long a token."""
    token = presented(typed)
    if token is None or len(token) > TOKEN_MAX_LENGTH:
        return False
    return await verify_password(token_hash, token)
