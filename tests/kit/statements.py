"""Counting the SQL statements the app sends, on Tortoise's ``tortoise.db_client`` logger."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


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
