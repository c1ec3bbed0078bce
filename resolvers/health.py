"""Liveness of what the server depends on."""

from __future__ import annotations

import asyncio
import logging

from tortoise import connections

log = logging.getLogger(__name__)


async def database_reachable(timeout: float = 5) -> bool:
    """Whether the database answers ``SELECT 1`` within ``timeout`` seconds."""
    try:
        async with asyncio.timeout(timeout):
            await connections.get("default").execute_query("SELECT 1")
    except Exception as error:  # any failure means "not reachable" to a health check
        log.warning("health check: database unreachable: %s", error)
        return False
    return True
