"""No secret and no hash of one in the log, at any level, DEBUG included (API.md §9.6).

Gatehouse's own log lines never carry a password, a token or a hash. Two
libraries write them at DEBUG, and are filtered here:

- Tortoise logs every SQL statement with its parameters (``tortoise.db_client``):
  the parameters of an INSERT or UPDATE hold argon2 hashes of passwords and
  tokens and the SHA-256 digests of device passwords, and its connection lines
  show the database login. The statement stays; the parameters are replaced by
  how many there were. aiosqlite (under Tortoise on SQLite) logs each operation
  with its statement and parameters as well: those lines keep only that they
  happened.
- websockets, under uvicorn (``uvicorn.error``), logs every frame at DEBUG; a
  ``connection_init`` frame carries the client's Basic credentials. Frame lines
  are dropped; uvicorn's own connection lines stay.

:func:`install` is idempotent; the app (``create_app``) and the command line
install the filters before anything is logged.
"""

from __future__ import annotations

import logging

SQL_LOGGER = "tortoise.db_client"
SQLITE_LOGGER = "aiosqlite"
#: aiosqlite's lines that show an operation (a statement with its parameters).
SQLITE_OPERATION_FORMATS = frozenset({"executing %s", "operation %s completed"})
WEBSOCKET_LOGGER = "uvicorn.error"
#: websockets' frame lines: ``"< %s"`` (received) and ``"> %s"`` (sent).
FRAME_FORMATS = frozenset({"< %s", "> %s"})


class HideSqlParameters(logging.Filter):
    """Keeps a SQL log line's statement (its first argument) and hides every other argument."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > 1:
            record.args = (args[0], *(_hidden(value) for value in args[1:]))
        elif isinstance(args, dict):
            record.args = {key: "[hidden]" for key in args}
        return True


def _hidden(value: object) -> str:
    if isinstance(value, list | tuple):
        return f"[{len(value)} parameter{'s' if len(value) != 1 else ''} hidden]"
    return "[hidden]"


class HideSqliteOperations(logging.Filter):
    """Keeps aiosqlite's operation lines but not the statement and parameters they show."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg in SQLITE_OPERATION_FORMATS:
            record.args = ("[a statement]",)
        return True


class DropWebsocketFrames(logging.Filter):
    """Drops the lines that show a websocket frame's content."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg in FRAME_FORMATS)


def install() -> None:
    """Attach the filters to the loggers that need them (once per process)."""
    filters: tuple[tuple[str, type[logging.Filter]], ...] = (
        (SQL_LOGGER, HideSqlParameters),
        (SQLITE_LOGGER, HideSqliteOperations),
        (WEBSOCKET_LOGGER, DropWebsocketFrames),
    )
    for name, kind in filters:
        logger = logging.getLogger(name)
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())
