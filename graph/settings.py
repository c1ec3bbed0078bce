"""Server settings, read from the environment once and handed to ``create_app``.

Every field ``name`` is set by the variable ``GATEHOUSE_<NAME>`` (``port`` by
``GATEHOUSE_PORT``), read and checked by pydantic-settings. Constructing
:class:`Settings` directly reads nothing from the environment (tests build
exactly the settings they want); :meth:`Settings.from_env` is the one place the
environment is read, and a bad value raises :class:`SettingsError` naming the
variable. The README's configuration table lists every variable.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from resolvers import topics
from resolvers.broker_urls import mosquitto_login, rabbitmq_management_login

DEFAULT_DATABASE_URL = "sqlite://gatehouse.db"
ENV_PREFIX = "GATEHOUSE_"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: Comma-separated CIDRs in the environment (``10.0.0.0/8,::1/128``).
Networks = Annotated[tuple[Network, ...], NoDecode]


class SettingsError(ValueError):
    """An environment variable has a value the server cannot use."""


def _networks(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(
            ipaddress.ip_network(part.strip()) for part in value.split(",") if part.strip()
        )
    return value


class Settings(BaseSettings):
    """Everything configurable about one server process."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, frozen=True, extra="ignore", env_ignore_empty=True
    )

    database_url: str = DEFAULT_DATABASE_URL
    broker_url: str = "memory://"
    admin_password: str | None = Field(default=None, repr=False)
    bootstrap_password: str | None = Field(default=None, repr=False)
    #: The password ``gatehouse set-password`` sets (else it reads standard input).
    new_password: str | None = Field(default=None, repr=False)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str | None = None
    graphiql: bool = True
    introspection: bool = True
    auth_cache_seconds: int = Field(default=60, ge=0, le=3600)
    max_query_depth: int = Field(default=10, ge=2, le=100)
    max_tokens: int = Field(default=5000, ge=100, le=1_000_000)
    max_aliases: int = Field(default=30, ge=1, le=1000)
    event_poll_ms: int = Field(default=2000, ge=50, le=60_000)
    subscriber_queue: int = Field(default=1000, ge=10, le=1_000_000)
    subscriber_max_lag_seconds: int = Field(default=30, ge=1, le=3600)
    max_subscriptions_per_connection: int = Field(default=20, ge=1, le=1000)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["plain", "json"] = "plain"
    #: Proxies whose ``X-Forwarded-For`` is believed (API.md §9.2); none by default.
    trusted_proxies: Networks = ()
    #: Who may call ``/auth/...`` and ``/metrics`` (API.md §6, §9.4).
    internal_networks: Networks = (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    #: Serve the operator console at ``/console/`` (API.md §7).
    console: bool = True
    #: What a device's credentials open on brokers and gateways (API.md §6).
    device_topic_prefix: str = "devices/{id}"
    mqtt_client_id: str = "{id}"
    rabbitmq_vhost: str = Field(default="/", min_length=1)
    rabbitmq_exchange: str = Field(default="amq.topic", min_length=1)
    device_auth_cache_seconds: int = Field(default=30, ge=0, le=3600)
    #: Webhooks (API.md §10.1): may a URL resolve to a loopback or private address?
    webhooks_allow_private: bool = False
    #: The first retry delay of a failing webhook; each failure doubles it.
    webhook_min_backoff_ms: int = Field(default=1000, ge=1, le=3_600_000)
    #: The longest retry delay of a failing webhook.
    webhook_max_backoff_seconds: int = Field(default=3600, ge=1, le=86_400)
    #: How long one delivery attempt may take before it counts as failed.
    webhook_timeout_ms: int = Field(default=10_000, ge=100, le=60_000)
    #: How long a process keeps its claim on a webhook without renewing it (a process
    #: that died without letting go delays that webhook's deliveries this long at most).
    webhook_lease_seconds: int = Field(default=60, ge=2, le=3600)
    #: Throttling (API.md §9.2): failed uncached logins per client address within the window.
    login_max_failures: int = Field(default=10, ge=1, le=1_000_000)
    login_window_seconds: int = Field(default=300, ge=1, le=86_400)
    #: How long a refused (throttled) login waits before its 429 is sent.
    login_refusal_delay_ms: int = Field(default=1000, ge=0, le=60_000)
    #: Polls per device id within 10 s; 0 turns the limit off.
    poll_limit: int = Field(default=10, ge=0, le=1_000_000)
    # Limits at the edge and faults of the database (API.md §9.3, §9.5, §9.6; the
    # README's "Operations" section says what a client sees at each).
    #: Largest request body; the device endpoint has its own, smaller limit (16 KiB).
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=16 * 1024, le=1024**3)
    #: Longest GraphQL document, in characters (its lexer reads string literals one by one).
    max_document_length: int = Field(default=256 * 1024, ge=1024, le=64 * 1024 * 1024)
    #: Open connections (HTTP and websocket) one process serves; beyond, 503 at once.
    max_connections: int = Field(default=4000, ge=1, le=1_000_000)
    #: A connection without complete request headers after this long is closed.
    header_timeout_seconds: float = Field(default=10, gt=0, le=3600)
    #: Request line and headers, in bytes, and header lines per request; beyond, 431.
    max_header_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024)
    max_headers: int = Field(default=100, ge=10, le=10_000)
    #: Largest websocket message; a bigger one closes the socket with 1009.
    max_websocket_message_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    #: Connecting to the database and each statement; beyond, the request answers 503.
    database_timeout_seconds: float = Field(default=5, gt=0, le=300)
    #: Mosquitto's dynamic security (API.md §10.2): ``mqtt://USER:PASSWORD@HOST:PORT`` of a
    #: client with the dynamic-security admin role; unset: Mosquitto is not kept in step.
    mosquitto_url: str | None = Field(default=None, repr=False)
    #: RabbitMQ's management API (API.md §10.3): ``http://USER:PASSWORD@HOST:15672``;
    #: unset: revoked devices' open RabbitMQ connections are not closed.
    rabbitmq_management_url: str | None = Field(default=None, repr=False)
    #: How long after a revocation Gatehouse keeps looking for the device's RabbitMQ
    #: connections (RabbitMQ lists a new MQTT connection only seconds after it opened).
    rabbitmq_close_window_seconds: int = Field(default=10, ge=0, le=600)
    #: The first retry delay of a broker revocation that failed; each failure doubles it.
    broker_retry_min_ms: int = Field(default=1000, ge=1, le=600_000)
    #: The longest retry delay of a broker revocation that keeps failing.
    broker_retry_max_seconds: int = Field(default=60, ge=1, le=3600)
    #: After SIGTERM, the longest until the process has exited (API.md §9.5, graph/shutdown.py).
    shutdown_seconds: float = Field(default=10, gt=0, le=3600)

    @property
    def event_poll_seconds(self) -> float:
        return self.event_poll_ms / 1000

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgres://", "postgresql://", "asyncpg://")):
            raise ValueError(
                f"must start with sqlite:// or postgres://, got {value.split('://')[0]!r}"
            )
        return value

    @field_validator("broker_url")
    @classmethod
    def _broker_url(cls, value: str) -> str:
        if not value.startswith(("memory://", "redis://", "rediss://")):
            raise ValueError("must start with memory:// or redis://")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        return (value or "").rstrip("/") or None

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("device_topic_prefix")
    @classmethod
    def _device_topic_prefix(cls, value: str) -> str:
        problem = topics.prefix_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("mqtt_client_id")
    @classmethod
    def _mqtt_client_id(cls, value: str) -> str:
        problem = topics.client_id_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("mosquitto_url")
    @classmethod
    def _mosquitto_url(cls, value: str | None) -> str | None:
        if value is not None:
            mosquitto_login(value)
        return value

    @field_validator("rabbitmq_management_url")
    @classmethod
    def _rabbitmq_management_url(cls, value: str | None) -> str | None:
        if value is not None:
            rabbitmq_management_login(value)
        return value

    @field_validator("trusted_proxies", "internal_networks", mode="before")
    @classmethod
    def _parse_networks(cls, value: Any) -> Any:
        return _networks(value)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Direct construction reads only its arguments; see from_env.
        return (init_settings,)

    @classmethod
    def from_env(cls) -> Settings:
        """The settings of ``GATEHOUSE_*`` environment variables, or :class:`SettingsError`."""
        try:
            return _FromEnvironment()
        except ValidationError as error:
            raise SettingsError(_describe(error)) from None


class _FromEnvironment(Settings):
    """:class:`Settings` whose values come from the environment."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (env_settings,)


def _describe(error: ValidationError) -> str:
    """One line per bad variable, naming it; the value itself only where it is no secret."""
    lines = []
    for problem in error.errors(include_url=False, include_input=False):
        field = str(problem["loc"][0]) if problem["loc"] else "?"
        message = problem["msg"].removeprefix("Value error, ")
        lines.append(f"{ENV_PREFIX}{field.upper()}: {message}")
    return "; ".join(lines)
