"""GraphiQL at ``GET /graphql`` for browsers, from files Gatehouse serves itself (API.md §7).

strawberry's own GraphiQL page loads React and GraphiQL from a CDN; this one
loads the same kind of files from ``/graphiql/assets/<digest>/`` (vendored in
``graphiql_static/vendor`` with their licences, see ``graph/vendor/sync.py``),
so GraphiQL works on a network without Internet access.
"""

from __future__ import annotations

from pathlib import Path

from starlette.responses import HTMLResponse

from graph.http.assets import NO_CACHE, AssetTree

HERE = Path(__file__).parent

#: GraphiQL needs inline styles (its editors position themselves with style attributes)
#: and fonts as data: URLs; its scripts still come from this origin only.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "font-src 'self' data:",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class GraphiQLPage:
    """The page and its assets; ``assets.route(gate)`` serves the files."""

    def __init__(self) -> None:
        self.assets = AssetTree(HERE / "graphiql_static", "/graphiql/assets", HEADERS)
        template = (HERE / "graphiql.html").read_text(encoding="utf-8")
        self.html = template.replace("{{assets}}", self.assets.prefix)

    def response(self) -> HTMLResponse:
        return HTMLResponse(self.html, headers={**HEADERS, "Cache-Control": NO_CACHE})
