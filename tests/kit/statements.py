"""Counting the SQL statements an operation sends (Tortoise's ``tortoise.db_client`` log)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


class StatementLog(logging.Handler):
    """Every statement logged while installed (BEGIN and COMMIT are not logged)."""

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


@contextmanager
def counting_statements() -> Iterator[StatementLog]:
    logger = logging.getLogger("tortoise.db_client")
    handler, level = StatementLog(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
