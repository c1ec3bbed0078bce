"""Telling "the database is not answering" apart from a bug (API.md §9.5).

A statement that timed out, a refused or broken connection, a server shutting
down, SQLite's "database is locked" after its busy timeout: each is a fault
of the moment, answered 503 and retried by the client, never a masked 500.
Everything else stays unexpected. The surfaces ask :func:`is_unavailable`
about an exception; the database drivers raise these in many shapes
(wrapped by the ORM or not), so the whole chain of causes is looked at.
"""

from __future__ import annotations

import sqlite3

import asyncpg
from tortoise.exceptions import DBConnectionError

#: What a client is told; no detail of the fault (the log has it).
MESSAGE = "the database is not answering; try again shortly"
#: Seconds a client should wait before trying again.
RETRY_AFTER_SECONDS = 5

_UNAVAILABLE: tuple[type[BaseException], ...] = (
    TimeoutError,  # asyncio's too: a statement or a connection attempt past its timeout
    ConnectionError,
    DBConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # statement timeout, cancel, shutdown
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections, disk full
)
_SQLITE_BUSY = ("database is locked", "database is busy", "database table is locked")


def _one_is_unavailable(error: BaseException) -> bool:
    if isinstance(error, _UNAVAILABLE):
        return True
    if isinstance(error, asyncpg.InterfaceError):
        return "closed" in str(error) or "connection" in str(error).lower()
    if isinstance(error, OSError):
        return True  # unreachable host, refused connection, broken pipe
    if isinstance(error, sqlite3.OperationalError):
        return any(busy in str(error) for busy in _SQLITE_BUSY)
    return False


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) says the database is unavailable right now."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _one_is_unavailable(current):
            return True
        current = current.__cause__ or current.__context__
    # The ORM wraps some driver errors in its own, keeping only the text.
    return any(busy in str(error) for busy in _SQLITE_BUSY)
