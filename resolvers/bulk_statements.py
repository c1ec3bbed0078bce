"""The statements of a bulk registration: each a fixed number of round trips, whatever the size.

Large lists travel as one array parameter (``unnest`` on PostgreSQL,
``json_each`` on SQLite), never one parameter or one round trip per line, so
100,000 lines cost what 1,000 do (``tests/graph/test_bulk_registration.py``
counts them). Every statement runs inside the caller's ``tenant_change``.
Only constants are formatted into SQL; every value is a parameter.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from models.groups import Group
from resolvers import lifecycle


def is_postgres(connection: BaseDBAsyncClient) -> bool:
    return connection.capabilities.dialect == "postgres"


async def existing(
    connection: BaseDBAsyncClient, table: str, column: str, values: Iterable[str]
) -> set[str]:
    """Which of ``values`` are in ``table.column``: one statement, one parameter."""
    wanted = sorted(set(values))
    if not wanted:
        return set()
    # Only constants are formatted in; the values are one parameter.
    if is_postgres(connection):
        sql = f"SELECT {column} AS v FROM {table} WHERE {column} = ANY($1::text[])"  # noqa: S608
        params: list[Any] = [wanted]
    else:
        sql = (
            f"SELECT {column} AS v FROM {table} WHERE {column} IN (SELECT value FROM json_each(?))"  # noqa: S608
        )
        params = [json.dumps(wanted)]
    return {str(row["v"]) for row in await connection.execute_query_dict(sql, params)}


async def insert_groups(
    connection: BaseDBAsyncClient,
    tenant_id: str,
    wanted: list[tuple[str, int | None]],
    at: datetime,
) -> list[dict[str, Any]]:
    """Create groups ``(name, parent id)`` of one level; their ids, names and parents."""
    if is_postgres(connection):
        sql = (
            "INSERT INTO groups (tenant_id, name, parent_id, created_at) "
            "SELECT $1, u.name, u.parent, $2::timestamptz "
            "FROM unnest($3::text[], $4::int[]) AS u(name, parent) "
            "RETURNING id, name, parent_id"
        )
        params: list[Any] = [tenant_id, at, [n for n, _ in wanted], [p for _, p in wanted]]
    else:
        sql = (
            "INSERT INTO groups (tenant_id, name, parent_id, created_at) "
            "SELECT ?, json_extract(value, '$[0]'), json_extract(value, '$[1]'), ? "
            "FROM json_each(?) WHERE true RETURNING id, name, parent_id"
        )
        params = [tenant_id, at, json.dumps(wanted)]
    return await connection.execute_query_dict(sql, params)


class GroupTree:
    """A tenant's groups by (parent, name), growing as missing paths are created."""

    def __init__(self, rows: Iterable[tuple[int, str, int | None]]) -> None:
        self.children: dict[tuple[int | None, str], int] = {}
        for group_id, name, parent_id in sorted(rows):
            # Where names repeat under one parent, the oldest group is the path's.
            self.children.setdefault((parent_id, name), group_id)

    def add(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            self.children.setdefault((row["parent_id"], row["name"]), int(row["id"]))

    def find(self, path: tuple[str, ...]) -> tuple[int | None, int]:
        """The deepest known group of ``path`` (``None``: not even the root) and its depth."""
        parent: int | None = None
        for depth, name in enumerate(path):
            child = self.children.get((parent, name))
            if child is None:
                return parent, depth
            parent = child
        return parent, len(path)


async def resolve_paths(
    connection: BaseDBAsyncClient, tenant_id: str, paths: set[tuple[str, ...]], at: datetime
) -> dict[tuple[str, ...], int]:
    """The group id of each path, creating missing groups one level per statement."""
    if not paths:
        return {}
    rows = await Group.filter(tenant_id=tenant_id).values_list("id", "name", "parent_id")
    tree = GroupTree((int(r[0]), str(r[1]), r[2]) for r in rows)
    for depth in range(max(len(p) for p in paths)):
        missing: set[tuple[str, int | None]] = set()
        for path in paths:
            parent, known = tree.find(path)
            if known == depth and depth < len(path):
                missing.add((path[depth], parent))
        if missing:
            tree.add(await insert_groups(connection, tenant_id, sorted(missing, key=str), at))
    resolved: dict[tuple[str, ...], int] = {}
    for path in paths:
        group_id, depth = tree.find(path)
        assert group_id is not None and depth == len(path), path
        resolved[path] = group_id
    return resolved


async def insert_registrations(
    connection: BaseDBAsyncClient, rows: list[tuple[str, str, int | None]], owner: str, at: datetime
) -> set[str]:
    """Insert ``(device id, tenant id, group id)`` rows WAITING_FOR_CONNECTION; the ids inserted.

    An id registered meanwhile by someone else is skipped (``ON CONFLICT DO NOTHING``).
    """
    status = lifecycle.REGISTER.target
    assert status is not None
    columns = (
        "device_id, tenant_id, group_id, status, owner, uses_token, failed_attempts, "
        "created_at, updated_at"
    )
    if is_postgres(connection):
        sql = (
            f"INSERT INTO registrations ({columns}) "  # noqa: S608
            "SELECT u.d, u.t, u.g, $4, $5, FALSE, 0, $6::timestamptz, $6::timestamptz "
            "FROM unnest($1::text[], $2::text[], $3::int[]) AS u(d, t, g) "
            "ON CONFLICT (device_id) DO NOTHING RETURNING device_id AS v"
        )
        params: list[Any] = [
            [r[0] for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
            status.value,
            owner,
            at,
        ]
    else:
        sql = (
            f"INSERT INTO registrations ({columns}) "  # noqa: S608
            "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
            "json_extract(value, '$[2]'), ?, ?, 0, 0, ?, ? FROM json_each(?) WHERE true "
            "ON CONFLICT (device_id) DO NOTHING RETURNING device_id AS v"
        )
        params = [status.value, owner, at, at, json.dumps(rows)]
    return {str(row["v"]) for row in await connection.execute_query_dict(sql, params)}


async def insert_events(
    connection: BaseDBAsyncClient, rows: list[tuple[str, str]], actor: str, at: datetime
) -> None:
    """A REGISTERED event for each ``(tenant id, device id)``, in the order given."""
    transition = lifecycle.REGISTER
    assert transition.target is not None
    columns = "tenant_id, device_id, kind, status, previous_status, actor, at"
    if is_postgres(connection):
        sql = (
            f"INSERT INTO registration_events ({columns}) "  # noqa: S608
            "SELECT u.t, u.d, $3, $4, NULL, $5, $6::timestamptz "
            "FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(t, d, n) ORDER BY u.n"
        )
        params: list[Any] = [
            [r[0] for r in rows],
            [r[1] for r in rows],
            transition.kind.value,
            transition.target.value,
            actor,
            at,
        ]
    else:
        sql = (
            f"INSERT INTO registration_events ({columns}) "  # noqa: S608
            "SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), ?, ?, NULL, ?, ? "
            "FROM json_each(?) ORDER BY key"
        )
        params = [transition.kind.value, transition.target.value, actor, at, json.dumps(rows)]
    await connection.execute_query(sql, params)
