"""``GET /health``: 200 ``{"status": "ok"}`` while the database answers, 503 otherwise."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute

from graph.http.access import Public
from graph.http.refusals import PLAIN
from graph.services import Services
from resolvers.availability import RETRY_AFTER_SECONDS
from resolvers.health import database_reachable


def routes(services: Services) -> list[BaseRoute]:
    timeout = services.settings.database_timeout_seconds

    async def health(request: Request) -> JSONResponse:
        if await database_reachable(timeout):
            return JSONResponse({"status": "ok"})
        return JSONResponse(
            {"status": "unavailable", "reason": "database unreachable"},
            503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    return [services.gate.route("/health", health, access=Public(), refusal=PLAIN, methods=["GET"])]
