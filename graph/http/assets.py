"""Static files shipped inside the package, served under a URL that changes with their content.

An :class:`AssetTree` reads a folder of the package once, at start, and serves
it at ``<mount>/<digest>/<path>``, where the digest is taken over every file's
name and bytes. Any change to any file gives the whole tree a new URL, so each
response can be cached for a year (``immutable``), relative imports between
the files keep working, and a page (served ``no-cache``) that names the
current digest never mixes old and new files. A request for another digest is
404: a stale page reloads and finds the new one.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from graph.http.access import Public
from graph.http.gate import Gatekeeper
from graph.http.refusals import PLAIN

IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"

_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".md": "text/plain; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    "": "text/plain; charset=utf-8",  # LICENSE
}
#: Text worth compressing; smaller files go as they are.
_GZIP_MIN_BYTES = 1024


def media_type(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in _MEDIA_TYPES:
        return _MEDIA_TYPES[suffix]
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


@dataclass
class Asset:
    body: bytes
    media_type: str
    _gzipped: bytes | None = field(default=None, repr=False)

    def gzipped(self) -> bytes | None:
        """The body compressed (once, on first use), or ``None`` when not worth it."""
        if len(self.body) < _GZIP_MIN_BYTES or not self.media_type.startswith("text/"):
            return None
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gzipped


class AssetTree:
    """Every file under ``directory``, served at ``<mount>/<digest>/...``."""

    def __init__(self, directory: Path, mount: str, headers: Mapping[str, str]) -> None:
        self.mount = mount.rstrip("/")
        self.headers = dict(headers)
        self.files: dict[str, Asset] = {}
        digest = hashlib.sha256()
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            name = path.relative_to(directory).as_posix()
            if "__pycache__" in name:
                continue
            body = path.read_bytes()
            self.files[name] = Asset(body, media_type(name))
            digest.update(f"{name}\0{len(body)}\0".encode())
            digest.update(body)
        self.digest = digest.hexdigest()[:16]

    @property
    def prefix(self) -> str:
        """The URL every file of the current tree starts with (no trailing slash)."""
        return f"{self.mount}/{self.digest}"

    def url(self, name: str) -> str:
        if name not in self.files:
            raise KeyError(f"no asset {name!r}")
        return f"{self.prefix}/{name}"

    async def serve(self, request: Request) -> Response:
        asset = self.files.get(request.path_params["path"])
        if request.path_params["digest"] != self.digest or asset is None:
            return PlainTextResponse(
                "not found: reload the page\n", 404, headers={"Cache-Control": "no-store"}
            )
        headers = {
            **self.headers,
            "Cache-Control": IMMUTABLE,
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
        }
        body = asset.body
        compressed = asset.gzipped()
        if compressed is not None and "gzip" in request.headers.get("accept-encoding", ""):
            body = compressed
            headers["Content-Encoding"] = "gzip"
        return Response(body, media_type=asset.media_type, headers=headers)

    def route(self, gate: Gatekeeper) -> Route:
        """The public route of the tree (static files carry no data and need no login)."""
        return gate.route(
            f"{self.mount}/{{digest}}/{{path:path}}",
            self.serve,
            access=Public(),
            refusal=PLAIN,
            methods=["GET"],
        )
