"""Changes made by a process of their own while no server runs, through the service layer.

``python -m tests.kit.offline DATABASE_URL DEVICE_ID`` registers ``DEVICE_ID`` in the
management tenant as ``management/admin`` and exits: what a second server, an
import script or an operator's tool would commit while a server is restarting.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from tortoise.context import TortoiseContext

from models.config import orm_config
from resolvers import registrations
from resolvers.permissions import Actor, Permission

ROOT = Path(__file__).resolve().parents[2]


async def _register(database_url: str, device_id: str) -> None:
    async with TortoiseContext() as context:
        await context.init(config=orm_config(database_url))
        actor = Actor("management", "admin", frozenset(Permission))
        await registrations.register(actor, [registrations.DeviceToRegister(id=device_id)])


def register_in_another_process(database_url: str, device_id: str) -> None:
    """Register ``device_id`` from a separate Python process (it commits, then exits)."""
    subprocess.run(
        [sys.executable, "-m", "tests.kit.offline", database_url, device_id],
        cwd=ROOT,
        check=True,
        timeout=30,
        capture_output=True,
    )


if __name__ == "__main__":
    asyncio.run(_register(sys.argv[1], sys.argv[2]))
