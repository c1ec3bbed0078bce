"""``GET /health``: 200 ``{"status": "ok"}`` while the database answers, 503 otherwise."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute

from graph.http.access import Public
from graph.http.refusals import PLAIN
from graph.services import Services
from resolvers.health import database_reachable


async def health(request: Request) -> JSONResponse:
    if await database_reachable():
        return JSONResponse({"status": "ok"})
    return JSONResponse({"status": "unavailable", "reason": "database unreachable"}, 503)


def routes(services: Services) -> list[BaseRoute]:
    return [services.gate.route("/health", health, access=Public(), refusal=PLAIN, methods=["GET"])]
