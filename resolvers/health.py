"""Liveness of what the server depends on."""

from __future__ import annotations

import logging

from tortoise import connections

log = logging.getLogger(__name__)


async def database_reachable() -> bool:
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception as error:  # any failure means "not reachable" to a health check
        log.warning("health check: database unreachable: %s", error)
        return False
    return True
