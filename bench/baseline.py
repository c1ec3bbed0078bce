"""Baselines: the least a Python server does for each benchmarked job, measured in the same run.

- ``POST /broadcast`` stamps the time and sends ``{"at": ...}`` to every open
  ``/ws`` socket, one after another on the event loop (fan-out baseline).
- ``POST /poll`` reads a device poll body and runs the same single indexed
  SELECT as Gatehouse, with asyncpg, no ORM and no authentication, answering
  404 (device poll baseline).
- ``GET /registrations?first=N`` fetches a page of N registrations and their groups
  with the raw driver and serializes them to the JSON Gatehouse answers (list baseline).
- ``POST /check`` reads a device login from a form body, runs the indexed
  SELECT of its password digest and compares SHA-256 digests (callback baseline).

The database comes from ``BENCH_DATABASE_URL`` (only the fan-out baseline works
without one).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qs

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

sockets: set[WebSocket] = set()
pool: asyncpg.Pool | None = None

NOT_FOUND = json.dumps({"error": "devicecontrol/Not Found", "message": "not available"})


async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    sockets.add(websocket)
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        sockets.discard(websocket)


async def broadcast(request: Request) -> JSONResponse:
    message = json.dumps({"at": time.time()})
    for socket in list(sockets):
        await socket.send_text(message)
    return JSONResponse({"sent": len(sockets)})


async def poll(request: Request) -> Response:
    assert pool is not None
    body = json.loads(await request.body())
    await pool.fetchrow(
        "SELECT device_id, status, credentials_delivered_at FROM registrations "
        "WHERE device_id = $1",
        body["id"],
    )
    return Response(NOT_FOUND, status_code=404, media_type="application/json")


def _cursor(device_id: str) -> str:
    return base64.urlsafe_b64encode(f"registration:{device_id}".encode()).decode().rstrip("=")


async def registrations(request: Request) -> Response:
    """``registrations(first: N) { totalCount edges { cursor node { id status owner group
    { id name } } } pageInfo { hasNextPage endCursor } }`` as Gatehouse answers it, with
    the statements Gatehouse sends: the count, the page (one more row than asked, to know
    whether there is a next page), and the page's groups by id."""
    assert pool is not None
    first = int(request.query_params.get("first", "50"))
    tenant = "management"
    async with pool.acquire() as connection:
        total = await connection.fetchval(
            "SELECT count(*) FROM registrations WHERE tenant_id = $1", tenant
        )
        rows = await connection.fetch(
            "SELECT device_id, status, owner, group_id FROM registrations "
            "WHERE tenant_id = $1 ORDER BY device_id LIMIT $2",
            tenant,
            first + 1,
        )
        has_next_page = len(rows) > first
        rows = rows[:first]
        group_ids = list({row["group_id"] for row in rows if row["group_id"] is not None})
        names = dict(
            await connection.fetch(
                "SELECT id, name FROM groups WHERE tenant_id = $1 AND id = ANY($2::int[])",
                tenant,
                group_ids,
            )
        )
    edges = [
        {
            "cursor": _cursor(row["device_id"]),
            "node": {
                "id": row["device_id"],
                "status": row["status"],
                "owner": row["owner"],
                "group": None
                if row["group_id"] is None
                else {"id": str(row["group_id"]), "name": names[row["group_id"]]},
            },
        }
        for row in rows
    ]
    body = {
        "data": {
            "registrations": {
                "totalCount": total,
                "edges": edges,
                "pageInfo": {
                    "hasNextPage": has_next_page,
                    "endCursor": edges[-1]["cursor"] if edges else None,
                },
            }
        }
    }
    return Response(json.dumps(body, separators=(",", ":")), media_type="application/json")


async def check(request: Request) -> Response:
    """A device login check: one indexed SELECT and a SHA-256 digest comparison (callbacks)."""
    assert pool is not None
    form = parse_qs((await request.body()).decode())
    username, password = form["username"][0], form["password"][0]
    row = await pool.fetchrow(
        "SELECT device_password_hash FROM registrations WHERE device_id = $1 "
        "AND status = 'ACCEPTED' AND credentials_delivered_at IS NOT NULL",
        username.removeprefix("device_"),
    )
    digest = hashlib.sha256(password.encode()).hexdigest()
    allowed = row is not None and hmac.compare_digest(digest, row["device_password_hash"])
    return Response("allow" if allowed else "deny", media_type="text/plain")


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    global pool
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        pool = await asyncpg.create_pool(url.replace("postgres://", "postgresql://", 1))
    yield
    if pool is not None:
        await pool.close()


app = Starlette(
    routes=[
        WebSocketRoute("/ws", ws),
        Route("/broadcast", broadcast, methods=["POST"]),
        Route("/poll", poll, methods=["POST"]),
        Route("/registrations", registrations),
        Route("/check", check, methods=["POST"]),
        Route("/health", health),
    ],
    lifespan=lifespan,
)
