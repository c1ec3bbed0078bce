"""``gatehouse serve`` as a new user runs it: a real process on a free 127.0.0.1 port."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.kit.servers import GATEHOUSE, Server, free_port, run_env, start_server
from tests.kit.services import drop_scratch_database, scratch_database


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[list[Server]]:
    servers: list[Server] = []
    yield servers
    for server in servers:
        server.stop()


def test_first_start_prints_graphiql_and_working_logins(
    tmp_path: Path, serve: list[Server]
) -> None:
    server = start_server(tmp_path, run_env())
    serve.append(server)
    assert f"GraphiQL:  {server.url}/graphql" in server.banner
    assert f"Console:   {server.url}/console/" in server.banner
    assert httpx.get(f"{server.url}/").headers["location"] == "/console/"
    password = server.password_of("management/admin")
    assert (tmp_path / "gatehouse.db").exists()

    page = httpx.get(f"{server.url}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 401
    assert page.headers["www-authenticate"] == 'Basic realm="gatehouse"'
    page = httpx.get(
        f"{server.url}/graphql",
        headers={"Accept": "text/html"},
        auth=("management/admin", password),
    )
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()

    me = httpx.post(
        f"{server.url}/graphql",
        json={"query": "{ me { username } }"},
        auth=("management/admin", password),
    )
    assert me.json() == {"data": {"me": {"username": "admin"}}}
    assert httpx.get(f"{server.url}/health").json() == {"status": "ok"}


def test_second_start_keeps_accounts_and_prints_no_password(
    tmp_path: Path, serve: list[Server]
) -> None:
    first = start_server(tmp_path, run_env())
    serve.append(first)
    password = first.password_of("management/admin")
    first.process.terminate()
    first.process.wait(timeout=10)

    second = start_server(tmp_path, run_env())
    serve.append(second)
    assert "with password" not in second.banner
    assert password not in second.banner
    me = httpx.post(
        f"{second.url}/graphql",
        json={"query": "{ me { username } }"},
        auth=("admin", password),
    )
    assert me.status_code == 200


def test_passwords_from_environment_are_used_and_not_printed(
    tmp_path: Path, serve: list[Server]
) -> None:
    env = run_env(
        GATEHOUSE_ADMIN_PASSWORD="chosen-admin-pw", GATEHOUSE_BOOTSTRAP_PASSWORD="chosen-boot-pw"
    )
    server = start_server(tmp_path, env)
    serve.append(server)
    assert "chosen-admin-pw" not in server.banner
    assert "GATEHOUSE_ADMIN_PASSWORD" in server.banner
    me = httpx.post(
        f"{server.url}/graphql",
        json={"query": "{ me { permissions } }"},
        auth=("management/devicebootstrap", "chosen-boot-pw"),
    )
    assert me.json()["data"]["me"]["permissions"] == ["DEVICE_BOOTSTRAP"]


def gatehouse(
    cwd: Path, env: dict[str, str], *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run the ``gatehouse`` command to completion (bounded to a minute)."""
    return subprocess.run(
        [GATEHOUSE, *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_bad_setting_stops_with_a_message_naming_the_variable(tmp_path: Path) -> None:
    result = gatehouse(tmp_path, run_env(GATEHOUSE_PORT="eighty"), "serve")
    assert result.returncode == 2
    assert "GATEHOUSE_PORT" in result.stderr


def test_short_admin_password_is_refused_at_start(tmp_path: Path) -> None:
    result = gatehouse(tmp_path, run_env(GATEHOUSE_ADMIN_PASSWORD="short"), "migrate")
    # migrate does not create accounts, so it succeeds; serve refuses the password.
    assert result.returncode == 0, result.stderr
    result = gatehouse(
        tmp_path, run_env(GATEHOUSE_ADMIN_PASSWORD="short"), "serve", "--port", str(free_port())
    )
    assert result.returncode == 2
    assert "at least 8 characters" in result.stderr


def test_migrate_applies_migrations_to_postgres(tmp_path: Path) -> None:
    scratch = scratch_database("cli_migrate")
    result = gatehouse(tmp_path, run_env(GATEHOUSE_DATABASE_URL=scratch), "migrate")
    assert result.returncode == 0, result.stderr
    tables = _psql(scratch, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    assert {"tenants", "users", "groups", "tenant_options"} <= set(tables.split())
    # Applying again changes nothing and succeeds.
    again = gatehouse(tmp_path, run_env(GATEHOUSE_DATABASE_URL=scratch), "migrate")
    assert again.returncode == 0, again.stderr
    drop_scratch_database(scratch)


def _psql(url: str, sql: str) -> str:
    result = subprocess.run(
        ["psql", "-At", url.replace("postgres://", "postgresql://"), "-c", sql],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout


def test_export_schema_prints_the_committed_schema(tmp_path: Path) -> None:
    result = gatehouse(tmp_path, run_env(), "export-schema")
    assert result.returncode == 0, result.stderr
    committed = (Path(__file__).parents[1] / "schema.graphql").read_text()
    assert result.stdout == committed


def _me(server: Server, login: str, password: str) -> int:
    return httpx.post(
        f"{server.url}/graphql", json={"query": "{ me { username } }"}, auth=(login, password)
    ).status_code


def test_set_password_on_a_stopped_servers_database_from_stdin_and_from_the_environment(
    tmp_path: Path, serve: list[Server]
) -> None:
    first = start_server(tmp_path, run_env())
    old = first.password_of("management/admin")
    first.stop()

    piped = gatehouse(
        tmp_path, run_env(), "set-password", "management/admin", stdin="from-standard-input\n"
    )
    assert piped.returncode == 0, piped.stderr
    assert "password of management/admin set" in piped.stdout
    assert "from-standard-input" not in piped.stdout + piped.stderr

    from_env = gatehouse(
        tmp_path,
        run_env(GATEHOUSE_NEW_PASSWORD="bootstrap-from-env"),
        "set-password",
        "devicebootstrap",
    )
    assert from_env.returncode == 0, from_env.stderr
    assert "bootstrap-from-env" not in from_env.stdout + from_env.stderr

    server = start_server(tmp_path, run_env())
    serve.append(server)
    assert _me(server, "management/admin", old) == 401
    assert _me(server, "management/admin", "from-standard-input") == 200
    assert _me(server, "management/devicebootstrap", "bootstrap-from-env") == 200


def test_set_password_refuses_unknown_users_and_short_passwords(tmp_path: Path) -> None:
    assert gatehouse(tmp_path, run_env(), "migrate").returncode == 0
    unknown = gatehouse(
        tmp_path, run_env(GATEHOUSE_NEW_PASSWORD="long-enough-1"), "set-password", "acme/nobody"
    )
    assert unknown.returncode == 2
    assert "no user acme/nobody" in unknown.stderr
    short = gatehouse(tmp_path, run_env(GATEHOUSE_NEW_PASSWORD="short"), "set-password", "admin")
    assert short.returncode == 2
    assert "at least 8 characters" in short.stderr
