"""What every Cumulocity REST path shares (API.md §8): paths, bodies, pages, errors.

- Paths match with or without a trailing slash (:meth:`Paths.route` adds both),
  and the ``{id}`` parts are read from the raw, still URL-encoded path
  (:func:`path_parts`), so an id or option key holding ``/`` or ``%`` arrives whole.
- Requests are ``application/json`` or a Cumulocity media type
  (``application/vnd.com.nsn.cumulocity.<type>+json``), answers JSON.
- Domain errors become Cumulocity's ``{"error", "message", "info"}`` here and only
  here (:func:`domain_error`), so every path answers the same failure alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send

from graph.http.access import PUBLIC, Access
from graph.http.gate import Endpoint, Gatekeeper
from graph.http.refusals import CUMULOCITY
from resolvers import errors
from resolvers.page_numbers import NumberedPage, PageRequest, page_request

MEDIA_TYPE = re.compile(r"application/(json|vnd\.com\.nsn\.cumulocity\.[a-z0-9]+\+json)")
#: Where a client reads about these answers (the gate's refusals say the same).
INFO = CUMULOCITY.INFO
MAX_JSON_BYTES = 1024 * 1024


class RestError(Exception):
    """An answer other than success, raised anywhere in an endpoint."""

    def __init__(self, http_status: int, error: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.error = error
        self.message = message
        self.extra = extra

    def response(self) -> JSONResponse:
        return error_body(self.http_status, self.error, self.message, **self.extra)


def error_body(http_status: int, error: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": error, "message": message, "info": INFO, **extra}, http_status)


def validation_error(message: str) -> RestError:
    """A request Gatehouse cannot read: a bad body, a bad parameter (422)."""
    return RestError(422, "undefined/validationError", message, code="INVALID_INPUT")


# ---------------------------------------------------------------- domain errors

#: A problem code's (status, Cumulocity error kind) where no path says otherwise.
_KINDS: dict[str, tuple[int, str]] = {
    "NOT_FOUND": (404, "Not Found"),
    "ALREADY_EXISTS": (409, "Non Unique Result"),
    "INVALID_ID": (422, "Invalid Id"),
    "TENANT_AND_GROUP": (422, "Tenant And Group"),
    "INVALID_STATUS": (422, "Invalid Status"),
    "SECURITY_TOKEN_MISMATCH": (422, "Security Token Mismatch"),
    "BLOCKED": (422, "Blocked"),
    "INVALID_OPTION": (422, "Invalid Option"),
    "FORBIDDEN": (403, "Forbidden"),
}


def domain_error(error: errors.DomainError, domain: str, *, referenced: bool = False) -> RestError:
    """The Cumulocity answer to a domain error of ``domain`` (``devicecontrol``, ``options``).

    The body carries the problem ``code`` as GraphQL names it, and the details
    its Problem type has (``failedAttempts``, ``attemptsLeft``, ``status``).
    With ``referenced``, ``NOT_FOUND`` names something the body referred to (a
    group, a tenant), not the resource of the path: 422 ``<domain>/Invalid Reference``.
    """
    code = error.code
    if isinstance(error, errors.RegisterRefused) and len(error.problems) == 1:
        # One device per request on these paths: answer for that device.
        return domain_error(error.problems[0], domain, referenced=referenced)
    if referenced and code == "NOT_FOUND":
        return RestError(422, f"{domain}/Invalid Reference", error.message, code=code)
    extra: dict[str, Any] = {"code": code}
    if isinstance(error, errors.SecurityTokenMismatch):
        extra |= {"failedAttempts": error.failed_attempts, "attemptsLeft": error.attempts_left}
    if isinstance(error, errors.InvalidStatus):
        extra["status"] = error.status
    if code == "FORBIDDEN":
        return RestError(403, "security/Forbidden", error.message, **extra)
    if code not in _KINDS:
        return RestError(422, "undefined/validationError", error.message, **extra)
    status, kind = _KINDS[code]
    return RestError(status, f"{domain}/{kind}", error.message, **extra)


def not_found(domain: str, message: str) -> RestError:
    return RestError(404, f"{domain}/Not Found", message, code="NOT_FOUND")


# ---------------------------------------------------------------- requests


def path_parts(request: Request, prefix: str) -> list[str]:
    """The URL-decoded segments of the request path after ``prefix`` (one trailing ``/`` dropped).

    Read from the raw path, so ``%2F`` inside a segment stays inside it.
    """
    raw = request.scope.get("raw_path") or request.url.path.encode()
    path = raw.decode("latin-1").split("?", 1)[0]
    rest = path[len(prefix) :].strip("/") if path.startswith(prefix) else ""
    if not rest:
        return []
    try:
        parts = [unquote(part, errors="strict") for part in rest.split("/")]
    except UnicodeDecodeError:
        raise validation_error("the path is not valid UTF-8 once URL-decoded") from None
    if any("\x00" in part for part in parts):
        raise validation_error("the path must not contain the NUL character")
    return parts


def _media_type(header: str) -> str:
    return header.split(";", 1)[0].strip().lower()


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or the Cumulocity answer why not (415, 422)."""
    media_type = _media_type(request.headers.get("content-type", "application/json"))
    if not MEDIA_TYPE.fullmatch(media_type):
        raise RestError(
            415,
            "general/Unsupported Media Type",
            "send the body as application/json or application/vnd.com.nsn.cumulocity.<type>+json",
        )
    raw = await request.body()
    if len(raw) > MAX_JSON_BYTES:
        raise RestError(413, "general/Request Entity Too Large", "the body is too large")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise validation_error("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise validation_error("the body must be a JSON object")
    return body


def string_field(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    """``body[name]`` as a string (a number is taken as its digits), or a 422."""
    value = body.get(name)
    if value is None:
        if required:
            raise validation_error(f'the body must have "{name}"')
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise validation_error(f'"{name}" must be a string')
    if isinstance(value, str) and "\x00" in value:
        raise validation_error(f'"{name}" must not contain the NUL character')
    return str(value)


def query_text(request: Request, name: str) -> str | None:
    """A text query parameter (``None`` when absent or empty), or a 422 for NUL."""
    value = request.query_params.get(name) or None
    if value is not None and "\x00" in value:
        raise validation_error(f"{name} must not contain the NUL character")
    return value


def _int_parameter(request: Request, name: str) -> int | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return None
    if not (text.isascii() and text.lstrip("-").isdigit()) or len(text) > 12:
        raise validation_error(f"{name} must be a whole number, got {text[:20]!r}")
    return int(text)


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() == "true"


def page_parameters(request: Request) -> PageRequest:
    """``pageSize``, ``currentPage``, ``withTotalPages`` / ``withTotalElements``, checked."""
    try:
        return page_request(
            _int_parameter(request, "pageSize"),
            _int_parameter(request, "currentPage"),
            with_total=_flag(request, "withTotalPages") or _flag(request, "withTotalElements"),
        )
    except errors.InvalidInput as error:
        raise validation_error(error.message) from None


# ---------------------------------------------------------------- answers


def base_url(request: Request, public_url: str | None) -> str:
    return public_url or str(request.base_url).rstrip("/")


def timestamp(at: datetime) -> str:
    """Cumulocity's time format: UTC with milliseconds, ``2026-12-01T10:00:00.000Z``."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def answer(request: Request, body: Any, kind: str, status: int = 200) -> JSONResponse:
    """JSON, typed as the Cumulocity media type ``kind`` when the client's Accept names it."""
    media_type = f"application/vnd.com.nsn.cumulocity.{kind}+json"
    if media_type not in request.headers.get("accept", "").lower():
        media_type = "application/json"
    return JSONResponse(body, status, media_type=media_type)


def page_body(
    request: Request,
    page: NumberedPage[Any],
    collection: str,
    items: list[Any],
    public_url: str | None,
) -> dict[str, Any]:
    """A Cumulocity collection: ``self``, the items, ``statistics``, ``next`` and ``prev``."""
    number = page.request.number
    statistics: dict[str, Any] = {"currentPage": number, "pageSize": page.request.size}
    if page.total_elements is not None:
        statistics["totalPages"] = page.total_pages
        statistics["totalElements"] = page.total_elements
    url = base_url(request, public_url) + request.url.path

    def link(page_number: int) -> str:
        params = dict(request.query_params)
        params["currentPage"] = str(page_number)
        params.setdefault("pageSize", str(page.request.size))
        return f"{url}?{urlencode(params)}"

    body: dict[str, Any] = {"self": link(number), collection: items, "statistics": statistics}
    if page.has_next_page:
        body["next"] = link(number + 1)
    if number > 1:
        body["prev"] = link(number - 1)
    return body


# ---------------------------------------------------------------- routes


#: Every method a 405 may answer for (the routes before it take the ones they serve).
ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@dataclass(frozen=True)
class Paths:
    """Routes of one Cumulocity surface, each behind the gate with the Cumulocity refusal."""

    gate: Gatekeeper

    def route(
        self,
        path: str,
        endpoint: Endpoint,
        *,
        access: Access,
        methods: Sequence[str],
        slash: bool = True,
        max_body_bytes: int | None = None,
    ) -> list[BaseRoute]:
        """``path`` and (with ``slash``) ``path/``, with RestError answered as its body.

        A path ending in a ``{name:path}`` parameter takes the slash itself: ``slash=False``.
        ``max_body_bytes`` is the route's own body limit (default: GATEHOUSE_MAX_BODY_BYTES).
        """

        async def handle(request: Request) -> Response:
            try:
                return await endpoint(request)
            except RestError as error:
                return error.response()

        handle.__name__ = getattr(endpoint, "__name__", "endpoint")
        return [
            self.gate.route(
                p,
                handle,
                access=access,
                refusal=CUMULOCITY,
                methods=methods,
                max_body_bytes=max_body_bytes,
            )
            for p in ((path, path + "/") if slash else (path,))
        ]

    def other_methods(self, *paths: str, slash: bool = True) -> list[BaseRoute]:
        """A JSON 405 for any method a path does not serve (listed after its routes)."""

        ends = ("", "/") if slash else ("",)
        return [
            self.gate.route(
                p + end, _MethodNotAllowed(), access=PUBLIC, refusal=CUMULOCITY, methods=ALL_METHODS
            )
            for p in paths
            for end in ends
        ]


class _MethodNotAllowed:
    """An ASGI app (not a function, so that Starlette routes every method to it)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = error_body(
            405,
            "general/Method Not Allowed",
            f"{request.method} is not supported on {request.url.path}",
        )
        await response(scope, receive, send)
