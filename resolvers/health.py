"""Liveness of what the server depends on."""

from __future__ import annotations

import asyncio
import logging

from tortoise import connections

log = logging.getLogger(__name__)


async def database_reachable(within: float = 5) -> bool:
    """Whether the database answers ``SELECT 1`` within ``within`` seconds."""
    try:
        async with asyncio.timeout(within):
            await connections.get("default").execute_query("SELECT 1")
    except Exception as error:  # any failure means "not reachable" to a health check
        log.warning("health check: database unreachable: %s", error)
        return False
    return True
