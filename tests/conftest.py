"""Shared fixtures: a migrated database on SQLite and PostgreSQL, the app, and a GraphQL client.

Every test that uses ``db`` (directly or through ``client``) runs once on an
in-memory SQLite database and once on PostgreSQL. The PostgreSQL run needs
``GATEHOUSE_TEST_DATABASE_URL`` (for example ``postgres://postgres@127.0.0.1:5432/gatehouse_test``);
without it those runs are skipped, unless ``GATEHOUSE_TEST_REQUIRE_SERVICES=1``
(set by CI), which turns the skip into a failure.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from tortoise import connections
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext
from tortoise.migrations.api.migrate import migrate as apply_migrations

from graph.app import create_app
from graph.settings import Settings
from models.config import orm_config
from resolvers import passwords
from resolvers.permissions import Permission
from resolvers.tenants import bootstrap
from tests.kit.services import DATABASE_VARIABLE, service_url

ADMIN_PASSWORD = "admin-password"
BOOTSTRAP_PASSWORD = "bootstrap-password"


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing() -> Iterator[None]:
    """argon2 at its production cost takes ~0.1 s a hash; tests use the cheapest parameters.

    The hashes are still real argon2id hashes, verified by the same code.
    """
    production = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    passwords._hasher = production


_migrated_postgres: set[str] = set()


async def _reset_postgres(url: str) -> None:
    """Migrate once per session, then empty every table before each test."""
    conn = connections.get("default")
    if url not in _migrated_postgres:
        await conn.execute_script("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        await apply_migrations(config=orm_config(url))
        _migrated_postgres.add(url)
        return
    rows = await conn.execute_query_dict(
        "SELECT tablename FROM pg_tables"
        " WHERE schemaname = 'public' AND tablename NOT LIKE 'tortoise_%'"
    )
    tables = ", ".join(f'"{row["tablename"]}"' for row in rows)
    if tables:
        await conn.execute_script(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A freshly migrated, empty database with the first-start accounts; yields its URL."""
    url = "sqlite://:memory:" if request.param == "sqlite" else service_url(DATABASE_VARIABLE)
    config = orm_config(url)
    # Tortoise caches INSERT statements per connection name, not per dialect:
    # forget the other backend's before switching.
    EXECUTOR_CACHE.clear()
    async with TortoiseContext() as context:
        await context.init(config=config, _enable_global_fallback=True)
        if request.param == "sqlite":
            await apply_migrations(config=config)
        else:
            await _reset_postgres(url)
        await bootstrap(ADMIN_PASSWORD, BOOTSTRAP_PASSWORD)
        yield request.param


def basic(login: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


@dataclass
class GraphQLClient:
    """Posts GraphQL documents to the app as one login."""

    http: httpx.AsyncClient
    login: str | None
    password: str | None

    def as_user(self, login: str, password: str) -> GraphQLClient:
        return GraphQLClient(self.http, login, password)

    def headers(self) -> dict[str, str]:
        if self.login is None or self.password is None:
            return {}
        return {"Authorization": basic(self.login, self.password)}

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=self.headers()
        )

    async def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        """The response body of ``query``; asserts HTTP 200."""
        response = await self.post(query, variables)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, **variables: Any) -> dict[str, Any]:
        """The ``data`` of a response that must have no errors."""
        body = await self(query, **variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


@pytest.fixture
def settings() -> Settings:
    return Settings(database_url="sqlite://:memory:")


@pytest.fixture
async def http(db: str, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, manage_orm=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gatehouse.test") as client:
        yield client


@pytest.fixture
def admin(http: httpx.AsyncClient) -> GraphQLClient:
    """``management/admin``: every permission but DEVICE_BOOTSTRAP."""
    return GraphQLClient(http, "management/admin", ADMIN_PASSWORD)


CREATE_TENANT = """
mutation($id: String!, $name: String!, $password: String!) {
  createTenant(id: $id, name: $name, adminPassword: $password) { id name }
}"""

CREATE_USER = """
mutation($username: String!, $password: String!, $permissions: [Permission!]!) {
  createUser(username: $username, password: $password, permissions: $permissions) {
    tenantId username permissions
  }
}"""


async def make_tenant(admin: GraphQLClient, tenant_id: str) -> GraphQLClient:
    """A subtenant; returns a client logged in as its ``<id>/admin``."""
    password = f"{tenant_id}-admin-password"
    await admin.data(CREATE_TENANT, id=tenant_id, name=tenant_id.title(), password=password)
    return admin.as_user(f"{tenant_id}/admin", password)


async def make_user(owner: GraphQLClient, username: str, permissions: list[str]) -> GraphQLClient:
    """A user in ``owner``'s tenant with exactly ``permissions``; returns a client for it."""
    password = f"{username}-password"
    data = await owner.data(
        CREATE_USER, username=username, password=password, permissions=permissions
    )
    tenant_id = data["createUser"]["tenantId"]
    return owner.as_user(f"{tenant_id}/{username}", password)


SET_TENANT_OPTION = """
mutation($category: String!, $key: String!, $value: String!) {
  setTenantOption(category: $category, key: $key, value: $value) {
    __typename
    ... on TenantOption { category key value }
    ... on Problem { code message }
  }
}"""

CREATE_GROUP = """
mutation($name: String!) { createGroup(name: $name) { id name } }"""


async def set_registration_option(client: GraphQLClient, key: str, value: str) -> None:
    """Set a ``device-registration`` option of ``client``'s tenant; it must be accepted."""
    data = await client.data(
        SET_TENANT_OPTION, category="device-registration", key=key, value=value
    )
    assert data["setTenantOption"]["__typename"] == "TenantOption", data


async def set_token_policy(client: GraphQLClient, policy: str) -> None:
    """``security-token.policy`` of ``client``'s tenant: IGNORED, OPTIONAL or REQUIRED."""
    await set_registration_option(client, "security-token.policy", policy)


async def set_max_failed_attempts(client: GraphQLClient, limit: int) -> None:
    await set_registration_option(client, "security-token.max-failed-attempts", str(limit))


async def create_group(client: GraphQLClient, name: str) -> str:
    """A group in ``client``'s tenant; returns its id."""
    group_id: str = (await client.data(CREATE_GROUP, name=name))["createGroup"]["id"]
    return group_id


# Helpers added for the foundation suite (tenants, users, options, groups, auth).

#: Every permission name of the schema's ``Permission`` enum.
ALL_PERMISSIONS = [p.value for p in Permission]


@asynccontextmanager
async def app_client(app_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for an app built with ``app_settings``, on the database of ``db``."""
    app = create_app(app_settings, manage_orm=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gatehouse.test") as client:
        yield client


async def can_log_in(http: httpx.AsyncClient, login: str, password: str) -> bool:
    """Whether ``login``/``password`` passes HTTP Basic on ``/graphql``."""
    response = await http.post(
        "/graphql",
        json={"query": "{ me { username } }"},
        headers={"Authorization": basic(login, password)},
    )
    return response.status_code == 200


@pytest.fixture(autouse=True, scope="session")
def fast_unknown_user_check(fast_password_hashing: None) -> Iterator[None]:
    """An unknown login is checked against a dummy hash made at import with production cost;
    tests swap in a cheap one too, so refused logins cost no more than accepted ones."""
    production = passwords._DUMMY_HASH
    passwords._DUMMY_HASH = passwords._hasher.hash("dummy-password-for-tests")
    yield
    passwords._DUMMY_HASH = production
