"""Tortoise ORM configuration for a database URL, and the migrations that build its schema."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from tortoise.backends.base.config_generator import expand_db_url

MODEL_MODULES = [
    "models.tenants",
    "models.groups",
    "models.options",
    "models.registrations",
    "models.events",
    "models.webhooks",
    "models.broker_outbox",
]


class PromptConnection(asyncpg.connection.Connection):
    """An asyncpg connection that gives up on a statement past its timeout at once.

    asyncpg cancels such a statement by opening a second connection to the
    server and then waits for the first to confirm; to a database that no
    longer answers, both wait out another timeout, and the pool waits for them
    before it hands the connection back. This one closes the connection
    instead (the server's own ``statement_timeout`` ends the statement there),
    so a request fails within one timeout, and the pool opens a fresh
    connection when the database is back.
    """

    def _cancel_current_command(
        self, waiter: asyncio.Future[None], cancel_waiter: asyncio.Future[None] | None = None
    ) -> None:
        if not waiter.done():
            waiter.set_result(None)
        self._loop.call_soon(self.terminate)


async def keep_session(connection: asyncpg.Connection) -> None:
    """The pool's reset of a connection handed back: nothing beyond asyncpg's own.

    asyncpg's pool always rolls back a transaction left open (a cancelled
    request's) and forgets the connection's listeners before it calls this. Its
    default reset adds a round trip on every release, ``SELECT
    pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL``, for session
    state Gatehouse never creates on a pooled connection: no session advisory
    lock, no cursor outside a transaction, no LISTEN, no session ``SET`` (the
    statement timeout is a startup setting, which ``RESET ALL`` keeps anyway).
    On a device poll, a single SELECT, that round trip was half the database
    work and a tenth of the server's CPU. Code that needs such session state
    takes a connection of its own rather than one of the pool's.
    """


def orm_config(database_url: str, *, timeout: float | None = None) -> dict[str, Any]:
    """The Tortoise config for ``database_url`` (``sqlite://path`` or ``postgres://...``).

    With ``timeout`` (seconds), connecting and every statement are bounded: on
    PostgreSQL by the driver's connect and command timeouts and the server's
    ``statement_timeout``, so a database that stops answering, even without
    closing the connection, fails the statement instead of hanging it; on
    SQLite by the busy timeout, so a write waits that long for another
    process's write to finish instead of failing at once.
    """
    if database_url.startswith("postgresql://"):
        database_url = "postgres://" + database_url.removeprefix("postgresql://")
    sqlite = database_url.startswith("sqlite://")
    if sqlite and timeout is None:
        connection: str | dict[str, Any] = database_url
    else:
        connection = expand_db_url(database_url)
        credentials = connection["credentials"]
        if not sqlite:
            credentials["reset"] = keep_session
    if timeout is not None:
        if sqlite:
            credentials["busy_timeout"] = int(timeout * 1000)
        else:
            credentials["timeout"] = timeout
            credentials["command_timeout"] = timeout
            credentials["connection_class"] = PromptConnection
            settings = dict(credentials.get("server_settings") or {})
            settings.setdefault("statement_timeout", str(int(timeout * 1000)))
            credentials["server_settings"] = settings
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "models.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


#: Read by the ``tortoise`` CLI (``[tool.tortoise]`` in pyproject.toml) for
#: ``tortoise makemigrations``, which compares models with migration files only.
TORTOISE_ORM = orm_config("sqlite://:memory:")
