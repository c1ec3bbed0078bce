"""Hashing of human-chosen secrets (user passwords) with argon2id.

Hashing and verifying cost tens of milliseconds of CPU on purpose, so both run
in a worker thread to keep the event loop serving other requests meanwhile.
"""

from __future__ import annotations

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

PASSWORD_MAX_LENGTH = 1024

_hasher = PasswordHasher()
# Verified against when the user does not exist, so that an unknown username
# costs the same time as a wrong password and cannot be told apart by timing.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def generate_password() -> str:
    """A random password for a generated account (about 128 bits)."""
    return secrets.token_urlsafe(16)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant-time check of ``password``; ``None`` (no such user) is always false."""
    if password_hash is None:
        await asyncio.to_thread(_verify, _DUMMY_HASH, password)
        return False
    return await asyncio.to_thread(_verify, password_hash, password)
