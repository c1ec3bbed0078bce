"""``/console/``: the operator console, a client of ``/graphql`` like any other (API.md §7).

Everything here is public static content: the page carries no data and logs
in through ``/graphql`` itself. ``index.html`` names the current asset digest
and is served ``no-cache``; every file under ``static/`` is served under that
digest, cached for a year (``graph/http/assets.py``). Every response carries
the console's Content-Security-Policy. ``GATEHOUSE_CONSOLE=false`` turns the
whole surface off.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute

from graph.http.access import Public
from graph.http.assets import NO_CACHE, AssetTree
from graph.http.gate import Endpoint
from graph.http.refusals import PLAIN
from graph.services import Services

HERE = Path(__file__).parent
PATH = "/console/"

#: Scripts and styles from files of this origin only: no inline code, no eval, no
#: other host (the websocket is same-origin too), and never inside a frame.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class Console:
    def __init__(self) -> None:
        self.assets = AssetTree(HERE / "static", "/console/assets", SECURITY_HEADERS)
        template = (HERE / "index.html").read_text(encoding="utf-8")
        self.index = template.replace("{{assets}}", self.assets.prefix)

    async def page(self, request: Request) -> Response:
        return HTMLResponse(self.index, headers={**SECURITY_HEADERS, "Cache-Control": NO_CACHE})


async def to_console(request: Request) -> Response:
    return RedirectResponse(PATH, status_code=302, headers=SECURITY_HEADERS)


def routes(services: Services) -> list[BaseRoute]:
    """The console's routes, or none with ``GATEHOUSE_CONSOLE=false``."""
    if not services.settings.console:
        return []
    console = Console()
    gate = services.gate

    def public(path: str, endpoint: Endpoint) -> BaseRoute:
        return gate.route(path, endpoint, access=Public(), refusal=PLAIN, methods=["GET"])

    return [
        public("/", to_console),
        public("/console", to_console),
        public(PATH, console.page),
        console.assets.route(gate),
    ]
