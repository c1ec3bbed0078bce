"""``GET /metrics``: the Prometheus text format, for callers in the internal networks (API.md §9.4).

What is counted, and how several worker processes add up, is
``resolvers/metrics.py``. A caller outside ``GATEHOUSE_INTERNAL_NETWORKS`` gets
403 before anything is computed. The registrations per status are read from the
database within ``GATEHOUSE_DATABASE_TIMEOUT_SECONDS``; when it does not answer,
the scrape still answers with everything else and ``gatehouse_database_up 0``.
"""

from __future__ import annotations

import asyncio
import logging

from prometheus_client.exposition import choose_encoder
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from graph.http.access import InternalNetwork
from graph.http.refusals import PLAIN
from graph.services import Services
from resolvers import availability, metrics
from resolvers.metrics import RegistrationCounts

log = logging.getLogger("gatehouse.metrics")


def routes(services: Services) -> list[BaseRoute]:
    timeout = services.settings.database_timeout_seconds

    async def scrape(request: Request) -> Response:
        counts: RegistrationCounts | None
        try:
            counts = await metrics.registration_counts(timeout)
        except Exception as error:
            if not availability.is_unavailable(error) and not isinstance(error, TimeoutError):
                raise
            log.warning("metrics: registrations not read, the database is unavailable: %r", error)
            counts = None
        encode, content_type = choose_encoder(request.headers.get("accept", ""))
        registry = metrics.scrape_registry(counts)
        # Several workers: reading their files is disk work, kept off the event loop.
        body = await asyncio.to_thread(encode, registry)
        return Response(body, headers={"Content-Type": content_type, "Cache-Control": "no-store"})

    return [
        services.gate.route(
            "/metrics", scrape, access=InternalNetwork(), refusal=PLAIN, methods=["GET"]
        )
    ]
