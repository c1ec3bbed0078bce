"""The external services (PostgreSQL, Redis) some tests need, named by environment variables."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import pytest

#: The PostgreSQL URL the ``postgres`` runs and the server-process tests use.
DATABASE_VARIABLE = "GATEHOUSE_TEST_DATABASE_URL"
#: The Redis URL the scale-out tests use.
REDIS_VARIABLE = "GATEHOUSE_TEST_REDIS_URL"


def service_url(variable: str) -> str:
    """The URL of a test service, or skip (fail under CI) with the variable to set."""
    url = os.environ.get(variable)
    if url:
        return url
    reason = f"set {variable} to run this test against a real service"
    if os.environ.get("GATEHOUSE_TEST_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{variable} is not set but GATEHOUSE_TEST_REQUIRE_SERVICES=1")
    pytest.skip(reason)


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _admin(url: str, sql: str) -> None:
    dsn = _with_database(url, "postgres").replace("postgres://", "postgresql://", 1)
    subprocess.run(["psql", "-qAt", dsn, "-c", sql], check=True, capture_output=True)


def scratch_database(purpose: str) -> str:
    """The URL of a fresh, empty PostgreSQL database of its own for server processes.

    Named after the test database (``<test database>_<purpose>``), so that two
    suites running at once on different test databases never share one.
    """
    url = service_url(DATABASE_VARIABLE)
    name = f"{urlsplit(url).path.lstrip('/')}_{purpose}"
    if not re.fullmatch(r"[a-z0-9_]{1,63}", name):
        raise ValueError(f"unusable scratch database name {name!r}")
    _admin(url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _admin(url, f"CREATE DATABASE {name}")
    return _with_database(url, name)


def drop_scratch_database(url: str) -> None:
    """Drop a database made by :func:`scratch_database`."""
    _admin(url, f"DROP DATABASE IF EXISTS {urlsplit(url).path.lstrip('/')} WITH (FORCE)")


def scratch_database_fixture(
    purpose: str, scope: Literal["function", "module"] = "function"
) -> Any:
    """A fixture giving the URL of a fresh :func:`scratch_database` for ``purpose``, dropped
    after its scope; a module of server-process tests names it, for example
    ``database_url = scratch_database_fixture("sigterm")``."""

    @pytest.fixture(scope=scope)
    def fixture() -> Iterator[str]:
        url = scratch_database(purpose)
        yield url
        drop_scratch_database(url)

    return fixture
