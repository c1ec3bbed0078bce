"""The external services (PostgreSQL, Redis) some tests need, named by environment variables."""

from __future__ import annotations

import os

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
