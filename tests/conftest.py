"""Shared fixtures: a migrated database on SQLite and PostgreSQL, the app, and a GraphQL client.

Every test that uses ``db`` (directly or through ``http`` or ``admin``) runs once on an
in-memory SQLite database and once on PostgreSQL. The PostgreSQL run needs
``GATEHOUSE_TEST_DATABASE_URL`` (for example ``postgres://postgres@127.0.0.1:5432/gatehouse_test``);
without it those runs are skipped, unless ``GATEHOUSE_TEST_REQUIRE_SERVICES=1``
(set by CI), which turns the skip into a failure.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from tortoise import connections
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.context import TortoiseContext
from tortoise.migrations.api.migrate import migrate as apply_migrations

from graph.settings import Settings
from models.config import orm_config
from resolvers import passwords
from resolvers.tenants import bootstrap
from tests.kit.accounts import ADMIN_LOGIN, ADMIN_PASSWORD, BOOTSTRAP_PASSWORD
from tests.kit.clients import GraphQLClient, app_client
from tests.kit.servers import Server
from tests.kit.services import DATABASE_VARIABLE, service_url


@pytest.fixture(autouse=True, scope="session")
def fast_password_hashing() -> Iterator[None]:
    """argon2 at its production cost takes ~0.1 s a hash; tests use the cheapest parameters.

    The hashes are still real argon2id hashes, verified by the same code.
    """
    production = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    passwords._hasher = production


@pytest.fixture(autouse=True, scope="session")
def fast_unknown_user_check(fast_password_hashing: None) -> Iterator[None]:
    """An unknown login is checked against a dummy hash made at import with production cost;
    tests swap in a cheap one too, so refused logins cost no more than accepted ones."""
    production = passwords._DUMMY_HASH
    passwords._DUMMY_HASH = passwords._hasher.hash("dummy-password-for-tests")
    yield
    passwords._DUMMY_HASH = production


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


@pytest.fixture(scope="session")
def scratch_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where the SQLite test databases live: memory-backed ``/dev/shm`` where there is one."""
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        folder = Path(tempfile.mkdtemp(prefix="gatehouse-tests-", dir=shm))
        yield folder
        shutil.rmtree(folder, ignore_errors=True)
    else:
        yield tmp_path_factory.mktemp("sqlite")


@pytest.fixture(scope="session")
async def sqlite_template(scratch_folder: Path, fast_unknown_user_check: None) -> Path:
    """A SQLite database migrated and bootstrapped once per session; each test gets a copy.

    Migrating (eight migrations) and bootstrapping for every SQLite test cost more than
    most tests themselves.
    """
    path = scratch_folder / "template.sqlite3"
    config = orm_config(f"sqlite://{path}")
    EXECUTOR_CACHE.clear()
    async with TortoiseContext() as context:
        await context.init(config=config)
        await apply_migrations(config=config)
        await bootstrap(ADMIN_PASSWORD, BOOTSTRAP_PASSWORD)
    return path


@pytest.fixture(params=["sqlite", "postgres"])
async def db(
    request: pytest.FixtureRequest, scratch_folder: Path, sqlite_template: Path
) -> AsyncIterator[str]:
    """A freshly migrated, empty database with the first-start accounts; yields its backend."""
    copy = scratch_folder / f"{uuid.uuid4().hex}.sqlite3"
    if request.param == "sqlite":
        shutil.copyfile(sqlite_template, copy)
        url = f"sqlite://{copy}"
    else:
        url = service_url(DATABASE_VARIABLE)
    config = orm_config(url)
    # Tortoise caches INSERT statements per connection name, not per dialect:
    # forget the other backend's before switching.
    EXECUTOR_CACHE.clear()
    try:
        async with TortoiseContext() as context:
            await context.init(config=config, _enable_global_fallback=True)
            if request.param == "postgres":
                await _reset_postgres(url)
                await bootstrap(ADMIN_PASSWORD, BOOTSTRAP_PASSWORD)
            yield request.param
    finally:
        if request.param == "sqlite":
            for leftover in scratch_folder.glob(f"{copy.name}*"):
                leftover.unlink(missing_ok=True)


@pytest.fixture
def settings() -> Settings:
    """The settings of the app under test (its database is the one ``db`` opened)."""
    return Settings(database_url="sqlite://:memory:")


@pytest.fixture
async def http(db: str, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the app, on the database of ``db``."""
    async with app_client(settings) as client:
        yield client


@pytest.fixture
def admin(http: httpx.AsyncClient) -> GraphQLClient:
    """``management/admin``: every permission but DEVICE_BOOTSTRAP."""
    return GraphQLClient(http, ADMIN_LOGIN, ADMIN_PASSWORD)


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Server processes a test starts (append them); each still running is stopped after."""
    running: list[Server] = []
    yield running
    for server in running:
        if server.process.poll() is None:
            server.stop()


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """``caplog`` capturing every logger at DEBUG (the ORM's SQL log included), non-propagating
    ones too."""
    caplog.set_level(logging.DEBUG)
    loggers = [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        caplog.set_level(logging.DEBUG, logger=logger.name)
    detached = [logger for logger in loggers if not logger.propagate]
    for logger in detached:
        logger.addHandler(caplog.handler)
    yield caplog
    for logger in detached:
        logger.removeHandler(caplog.handler)


@pytest.fixture
def argon2_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password argon2 verifies (the expensive step), in order."""
    checked: list[str] = []
    verify: Callable[[str, str], bool] = passwords._verify

    def counting(password_hash: str, password: str) -> bool:
        checked.append(password)
        return verify(password_hash, password)

    monkeypatch.setattr(passwords, "_verify", counting)
    return checked
