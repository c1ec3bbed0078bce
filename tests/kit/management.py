"""A stand-in for RabbitMQ's management API on a real port, for tests with server processes.

It lists the connections it was given (``GET /api/connections``, slowly, so
two processes racing for the same revocation would both be caught listing),
closes them on ``DELETE /api/connections/<name>`` and counts every DELETE per
name, so a revocation sent twice shows. ``failing`` makes every request answer
503 (a management API that is down).
"""

from __future__ import annotations

import asyncio
import base64
from collections import Counter

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.kit.servers import free_port


class FakeManagement:
    def __init__(self, username: str, password: str, list_seconds: float = 0.2) -> None:
        self.port = free_port()
        self.username = username
        self.password = password
        self.list_seconds = list_seconds
        self.connections: dict[str, str] = {}  # name -> user
        self.deletes: Counter[str] = Counter()
        self.requests = 0
        self.failing = False
        self.app = Starlette(
            routes=[
                Route("/api/connections", self._list, methods=["GET"]),
                Route("/api/connections/{name:path}", self._close, methods=["DELETE"]),
            ]
        )

    def url(self) -> str:
        return f"http://{self.username}:{self.password}@127.0.0.1:{self.port}"

    def _refusal(self, request: Request) -> Response | None:
        self.requests += 1
        if self.failing:
            return Response(status_code=503)
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return Response(status_code=401)
        return None

    async def _list(self, request: Request) -> Response:
        refused = self._refusal(request)
        if refused is not None:
            return refused
        await asyncio.sleep(self.list_seconds)
        return JSONResponse([{"name": n, "user": u} for n, u in self.connections.items()])

    async def _close(self, request: Request) -> Response:
        refused = self._refusal(request)
        if refused is not None:
            return refused
        name = request.path_params["name"]
        self.deletes[name] += 1
        if self.connections.pop(name, None) is None:
            return JSONResponse({"error": "Object Not Found", "reason": "Not Found"}, 404)
        return Response(status_code=204)
