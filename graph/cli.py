"""The ``gatehouse`` command: ``serve``, ``migrate``, ``set-password`` and ``export-schema``."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from tortoise.context import TortoiseContext
from tortoise.migrations.api.migrate import migrate as apply_migrations

from graph import serving
from graph.logs import configure_logging
from graph.settings import Settings, SettingsError
from models.config import orm_config
from resolvers import live
from resolvers.brokers import broker_for
from resolvers.errors import DomainError, InvalidInput
from resolvers.live import EventHub
from resolvers.permissions import MANAGEMENT_TENANT
from resolvers.tenants import GeneratedLogin, bootstrap
from resolvers.users import reset_password

log = logging.getLogger("gatehouse")


async def prepare_database(settings: Settings, *, create_accounts: bool) -> list[GeneratedLogin]:
    """Apply pending migrations and, for ``serve``, create the first-start accounts."""
    config = orm_config(settings.database_url)
    async with TortoiseContext() as context:
        await context.init(config=config)
        await apply_migrations(config=config)
        if not create_accounts:
            return []
        return await bootstrap(settings.admin_password, settings.bootstrap_password)


def _banner(settings: Settings, host: str, port: int, generated: list[GeneratedLogin]) -> str:
    wildcard = {"0.0.0.0", "::"}  # noqa: S104
    shown_host = "127.0.0.1" if host in wildcard else host
    base = settings.public_url or f"http://{shown_host}:{port}"
    lines = ["", f"Gatehouse is serving on {base}"]
    if settings.console:
        lines.append(f"  Console:   {base}/console/  (the operator console; log in there)")
    if settings.graphiql:
        lines.append(f"  GraphiQL:  {base}/graphql  (open it in a browser and log in)")
    else:
        lines.append(f"  GraphQL:   {base}/graphql  (GraphiQL is switched off)")
    lines.append(f"  Devices:   POST {base}/devicecontrol/deviceCredentials")
    generated_by_login = {g.login: g.password for g in generated}
    for login, variable in (
        ("management/admin", "GATEHOUSE_ADMIN_PASSWORD"),
        ("management/devicebootstrap", "GATEHOUSE_BOOTSTRAP_PASSWORD"),
    ):
        if login in generated_by_login:
            lines.append(
                f"  Log in as {login} with password {generated_by_login[login]}"
                "  (generated now and shown only this once)"
            )
        else:
            lines.append(
                f"  Log in as {login} with the password printed on its first start (or {variable})"
            )
    lines.append("")
    return "\n".join(lines)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    host = args.host or settings.host
    port = args.port or settings.port
    generated = asyncio.run(prepare_database(settings, create_accounts=True))
    print(_banner(settings, host, port, generated), flush=True)
    serving.serve(
        settings,
        host=host,
        port=port,
        workers=args.workers,
        reload=args.reload,
    )
    return 0


def _read_new_password(settings: Settings) -> str:
    """From ``GATEHOUSE_NEW_PASSWORD``, else asked twice on a terminal, else a line of stdin."""
    if settings.new_password:
        return settings.new_password
    if sys.stdin.isatty():
        first = getpass.getpass("New password: ")
        if getpass.getpass("Repeat it: ") != first:
            raise InvalidInput("the two passwords differ; nothing was changed")
        return first
    return sys.stdin.readline().rstrip("\r\n")


async def _set_password(settings: Settings, login: str, password: str) -> None:
    tenant_id, slash, username = login.partition("/")
    if not slash:
        tenant_id, username = MANAGEMENT_TENANT, login
    config = orm_config(settings.database_url)
    hub = EventHub(broker_for(settings.broker_url))
    live.install(hub)
    try:
        async with TortoiseContext() as context:
            await context.init(config=config)
            await apply_migrations(config=config)
            # Also tells running servers on the same Redis to forget the old login.
            await reset_password(tenant_id, username, password)
    finally:
        await hub.close()


def _set_password_command(settings: Settings, login: str) -> int:
    password = _read_new_password(settings)
    asyncio.run(_set_password(settings, login, password))
    print(f"password of {login} set")
    if not settings.broker_url.startswith(("redis://", "rediss://")):
        print(
            "servers running now forget the old password within "
            f"GATEHOUSE_AUTH_CACHE_SECONDS ({settings.auth_cache_seconds} s)"
        )
    return 0


def _migrate(settings: Settings) -> int:
    asyncio.run(prepare_database(settings, create_accounts=False))
    print(f"migrations applied to {settings.database_url.split('://')[0]} database")
    return 0


def _export_schema(output: str | None) -> int:
    from graph.graphql.schema import build_schema

    sdl = build_schema().as_str() + "\n"
    if output:
        Path(output).write_text(sdl, encoding="utf-8")
        print(f"wrote {output}")
    else:
        sys.stdout.write(sdl)
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="gatehouse", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="apply migrations, create first accounts, serve")
    serve.add_argument("--host", help="address to bind (default GATEHOUSE_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default GATEHOUSE_PORT or 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument(
        "--reload", action="store_true", help="restart on code changes (development)"
    )
    commands.add_parser("migrate", help="apply pending database migrations and exit")
    set_password = commands.add_parser(
        "set-password",
        help="set a user's password on the database (no server needed); the password is read "
        "from GATEHOUSE_NEW_PASSWORD or standard input",
    )
    set_password.add_argument("login", help="TENANT/USERNAME (a bare USERNAME: management)")
    export = commands.add_parser("export-schema", help="print the GraphQL schema (SDL)")
    export.add_argument("--output", "-o", help="write to this file instead of standard output")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"gatehouse: {error}", file=sys.stderr)
        return 2
    configure_logging(settings)
    try:
        if args.command == "serve":
            return _serve(args, settings)
        if args.command == "migrate":
            return _migrate(settings)
        if args.command == "set-password":
            return _set_password_command(settings, args.login)
        return _export_schema(args.output)
    except DomainError as error:
        print(f"gatehouse: {error.message}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"gatehouse: cannot reach the database: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
