"""The access log never shows the query string of an ``/auth/`` path (API.md §6).

RabbitMQ's GET mode puts the device's password in the query string of
``/auth/rabbitmq/user``, and uvicorn's access log writes each request's path
with its query. A filter on the ``uvicorn.access`` logger cuts the query off
``/auth/`` paths before any handler formats the line; other paths keep theirs.
"""

from __future__ import annotations

import logging

ACCESS_LOGGER = "uvicorn.access"
CALLBACK_PREFIX = "/auth/"


class HideCallbackQueries(logging.Filter):
    """Rewrites uvicorn's access record ``(client, method, path?query, version, status)``."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path, question, _ = args[2].partition("?")
            # Any path naming /auth/ (a doubled slash still reaches a 404 with the password).
            if question and CALLBACK_PREFIX in path:
                record.args = (*args[:2], path, *args[3:])
        return True


def hide_callback_queries() -> None:
    """Install the filter on uvicorn's access logger, once per process."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, HideCallbackQueries) for f in logger.filters):
        logger.addFilter(HideCallbackQueries())
