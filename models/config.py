"""Tortoise ORM configuration for a database URL, and the migrations that build its schema."""

from __future__ import annotations

from typing import Any

MODEL_MODULES = [
    "models.tenants",
    "models.groups",
    "models.options",
    "models.registrations",
    "models.events",
    "models.webhooks",
    "models.broker_outbox",
]


def orm_config(database_url: str) -> dict[str, Any]:
    """The Tortoise config for ``database_url`` (``sqlite://path`` or ``postgres://...``)."""
    if database_url.startswith("postgresql://"):
        database_url = "postgres://" + database_url.removeprefix("postgresql://")
    return {
        "connections": {"default": database_url},
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
