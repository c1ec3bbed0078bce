"""The brokers' admin addresses from the settings (API.md §10.2, §10.3), checked once at start.

``GATEHOUSE_MOSQUITTO_URL`` is ``mqtt://USER:PASSWORD@HOST:PORT`` (``mqtts://``
for TLS) and ``GATEHOUSE_RABBITMQ_MANAGEMENT_URL`` is
``http://USER:PASSWORD@HOST:15672`` (``https://``, and a path where the
management API sits behind a prefix). A user name or password with ``@``, ``:``
or ``/`` in it is written percent-encoded. Errors never repeat the password,
and :meth:`shown` is what logs print instead of the URL.

Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class BrokerLogin:
    """Where a broker's admin interface is and who Gatehouse logs in as."""

    scheme: str
    host: str
    port: int
    username: str
    password: str = field(repr=False)
    path: str = ""

    @property
    def tls(self) -> bool:
        return self.scheme in ("mqtts", "https")

    def shown(self) -> str:
        """The address as logs may print it: no password."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{self.username}@{host}:{self.port}{self.path}"

    @property
    def base_url(self) -> str:
        """``scheme://host:port/path`` without the login (for HTTP)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.path}"


_DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883, "http": 15672, "https": 15671}


def _parse(url: str, schemes: tuple[str, ...], example: str) -> BrokerLogin:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ValueError(f"is not a URL like {example}") from None
    if parts.scheme not in schemes:
        raise ValueError(f"must start with {' or '.join(s + '://' for s in schemes)} ({example})")
    if not parts.hostname:
        raise ValueError(f"names no host ({example})")
    if not parts.username or parts.password is None:
        raise ValueError(f"must name the admin user and password ({example})")
    if parts.query or parts.fragment:
        raise ValueError("must not have a query string or a fragment")
    return BrokerLogin(
        scheme=parts.scheme,
        host=parts.hostname,
        port=port or _DEFAULT_PORTS[parts.scheme],
        username=unquote(parts.username),
        password=unquote(parts.password),
        path=parts.path.rstrip("/"),
    )


def mosquitto_login(url: str) -> BrokerLogin:
    """``GATEHOUSE_MOSQUITTO_URL`` read, or :class:`ValueError` saying what is wrong."""
    login = _parse(url, ("mqtt", "mqtts"), "mqtt://USER:PASSWORD@HOST:1883")
    if login.path:
        raise ValueError("must not have a path (mqtt://USER:PASSWORD@HOST:PORT)")
    return login


def rabbitmq_management_login(url: str) -> BrokerLogin:
    """``GATEHOUSE_RABBITMQ_MANAGEMENT_URL`` read, or :class:`ValueError`."""
    return _parse(url, ("http", "https"), "http://USER:PASSWORD@HOST:15672")
