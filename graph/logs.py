"""Logging for a server process: plain text by default, one JSON object per line on request.

``GATEHOUSE_LOG_FORMAT=json`` writes every record (the server's and uvicorn's)
as ``{"time", "level", "logger", "message"}``, plus ``request_id`` while a
request is being served (the gate sets it, ``graph/http/gate.py``) and
``exception`` with the stack trace where there is one. The plain format shows
the request id too, in brackets. Both go to standard error.
"""

from __future__ import annotations

import contextvars
import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from graph import log_filters
from graph.settings import Settings

#: The id of the request being served in this task (``None`` outside requests).
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "gatehouse_request_id", default=None
)

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s"


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (``request_id``, and ``request_tag``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = request_id.get()
        record.request_id = current
        record.request_tag = f" [{current}]" if current else ""
        return True


class GatehouseJsonFormatter(JsonFormatter):
    """The JSON line of a record: time, level, logger, message, and request_id if any."""

    def add_fields(
        self,
        log_data: dict[str, object],
        record: logging.LogRecord,
        message_dict: dict[str, object],
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        log_data["time"] = self.formatTime(record)
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = record.getMessage()
        current = getattr(record, "request_id", None)
        if current:
            log_data["request_id"] = current
        if record.exc_info and "exception" not in log_data:
            log_data["exception"] = self.formatException(record.exc_info)
        for extra in ("request_tag", "color_message"):
            log_data.pop(extra, None)


def configure_logging(settings: Settings) -> None:
    """Send every logger's records to standard error in the configured format (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if settings.log_format == "json":
        handler.setFormatter(GatehouseJsonFormatter(timestamp=False, json_ensure_ascii=False))
    else:
        handler.setFormatter(logging.Formatter(PLAIN_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # uvicorn's loggers propagate to the root logger (uvicorn runs with log_config=None).
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    log_filters.install()  # no secret or hash in any line, DEBUG included
