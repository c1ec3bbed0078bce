"""Server settings, read from the environment once and handed to ``create_app``.

No other module reads the environment: the CLI calls :meth:`Settings.from_env`
and passes the result down, and tests build a :class:`Settings` directly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_DATABASE_URL = "sqlite://gatehouse.db"


class SettingsError(ValueError):
    """An environment variable has a value the server cannot use."""


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one server process.

    Each field is documented in the README's configuration table, next to the
    environment variable that sets it.
    """

    database_url: str = DEFAULT_DATABASE_URL
    broker_url: str = "memory://"
    admin_password: str | None = field(default=None, repr=False)
    bootstrap_password: str | None = field(default=None, repr=False)
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None
    graphiql: bool = True
    introspection: bool = True
    auth_cache_seconds: int = 60
    max_query_depth: int = 10
    max_tokens: int = 5000
    max_aliases: int = 30
    event_poll_seconds: float = 2.0
    subscriber_queue_size: int = 1000
    subscriber_max_lag_seconds: int = 30
    max_subscriptions_per_connection: int = 20
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        database_url = env.get("GATEHOUSE_DATABASE_URL") or DEFAULT_DATABASE_URL
        if not database_url.startswith(("sqlite://", "postgres://", "postgresql://", "asyncpg://")):
            raise SettingsError(
                "GATEHOUSE_DATABASE_URL must start with sqlite:// or postgres://, "
                f"got {database_url.split('://')[0]!r}"
            )
        broker_url = env.get("GATEHOUSE_BROKER_URL") or "memory://"
        if not broker_url.startswith(("memory://", "redis://", "rediss://")):
            raise SettingsError("GATEHOUSE_BROKER_URL must start with memory:// or redis://")
        log_level = (env.get("GATEHOUSE_LOG_LEVEL") or "INFO").upper()
        if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise SettingsError("GATEHOUSE_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
        return cls(
            database_url=database_url,
            broker_url=broker_url,
            admin_password=env.get("GATEHOUSE_ADMIN_PASSWORD") or None,
            bootstrap_password=env.get("GATEHOUSE_BOOTSTRAP_PASSWORD") or None,
            host=env.get("GATEHOUSE_HOST") or "127.0.0.1",
            port=_int(env, "GATEHOUSE_PORT", 8000, 1, 65535),
            public_url=(env.get("GATEHOUSE_PUBLIC_URL") or "").rstrip("/") or None,
            graphiql=_bool(env, "GATEHOUSE_GRAPHIQL", True),
            introspection=_bool(env, "GATEHOUSE_INTROSPECTION", True),
            auth_cache_seconds=_int(env, "GATEHOUSE_AUTH_CACHE_SECONDS", 60, 0, 3600),
            max_query_depth=_int(env, "GATEHOUSE_MAX_QUERY_DEPTH", 10, 2, 100),
            max_tokens=_int(env, "GATEHOUSE_MAX_TOKENS", 5000, 100, 1_000_000),
            max_aliases=_int(env, "GATEHOUSE_MAX_ALIASES", 30, 1, 1000),
            event_poll_seconds=_int(env, "GATEHOUSE_EVENT_POLL_MS", 2000, 50, 60_000) / 1000,
            subscriber_queue_size=_int(env, "GATEHOUSE_SUBSCRIBER_QUEUE", 1000, 10, 1_000_000),
            subscriber_max_lag_seconds=_int(
                env, "GATEHOUSE_SUBSCRIBER_MAX_LAG_SECONDS", 30, 1, 3600
            ),
            max_subscriptions_per_connection=_int(
                env, "GATEHOUSE_MAX_SUBSCRIPTIONS_PER_CONNECTION", 20, 1, 1000
            ),
            log_level=log_level,
        )
