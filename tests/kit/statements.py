"""Counting the SQL statements the app sends: on Tortoise's ``tortoise.db_client`` logger
(:func:`statements`), or at the drivers, transactions included (:func:`round_trips`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import aiosqlite
import asyncpg


class Statements(logging.Handler):
    """Every statement Tortoise logs while installed (no connection notices, BEGIN or COMMIT)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith(("Created connection", "Closed connection")):
            return
        # The statement only: its parameters may be a whole file's worth of ids.
        args = record.args if isinstance(record.args, tuple) else ()
        statement = str(args[0]) if args else str(record.msg)
        self.statements.append(statement[:200])

    def verb(self, *verbs: str) -> list[str]:
        """The statements that start with one of ``verbs`` (``SELECT``, ``UPDATE`` ...)."""
        return [s for s in self.statements if s.lstrip().upper().startswith(verbs)]


@contextmanager
def statements() -> Iterator[Statements]:
    """Collect the statements sent inside the block."""
    logger = logging.getLogger("tortoise.db_client")
    handler, level = Statements(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


class RoundTrips:
    """Every exchange with the database driver while installed, in order.

    Unlike :class:`Statements` (Tortoise's log), this sees what the ORM does not
    log: BEGIN, COMMIT and ROLLBACK, asyncpg's reset of a connection handed back
    to its pool, and SQLite's commits. On PostgreSQL each entry is one round
    trip to the server (preparing a statement the first time a connection runs
    it is one more, not listed); on SQLite one hop to aiosqlite's thread.
    """

    def __init__(self) -> None:
        self.calls: list[str] = []

    def record(self, what: str) -> None:
        self.calls.append(" ".join(what.split())[:200])


@contextmanager
def round_trips() -> Iterator[RoundTrips]:
    """Collect the round trips of every connection, PostgreSQL and SQLite, inside the block."""
    trips = RoundTrips()
    patched: list[tuple[type, str, Any]] = []

    def wrap(owner: type, name: str, label: Callable[..., str | None]) -> None:
        original = getattr(owner, name)

        async def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            what = label(*args, **kwargs)
            if what is not None:
                trips.record(what)
            return await original(self, *args, **kwargs)

        patched.append((owner, name, original))
        setattr(owner, name, counted)

    pg = asyncpg.connection.Connection
    # execute() with arguments goes through _execute(), counted there.
    wrap(pg, "execute", lambda query, *args, **_: None if args else query)
    wrap(pg, "_execute", lambda query, *_, **__: query)
    wrap(pg, "_executemany", lambda query, *_, **__: query)
    lite = aiosqlite.Connection
    for name in ("execute", "execute_fetchall", "execute_insert", "executemany", "executescript"):
        wrap(lite, name, lambda sql, *_, **__: sql)
    wrap(lite, "commit", lambda: "COMMIT")
    wrap(lite, "rollback", lambda: "ROLLBACK")
    try:
        yield trips
    finally:
        for owner, name, original in reversed(patched):
            setattr(owner, name, original)
