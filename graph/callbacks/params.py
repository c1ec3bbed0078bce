"""Reading callback parameters: form bodies, query strings and JSON, within a size limit."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

#: Brokers send a few short fields; anything larger is not a callback.
MAX_BODY_BYTES = 16 * 1024


class Malformed(Exception):
    """The request is not what the protocol sends; the message says why (no secret in it)."""


async def body(request: Request) -> bytes:
    """The request body, refused once it passes :data:`MAX_BODY_BYTES`."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Malformed(f"the body must be at most {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _form(raw: bytes) -> dict[str, str]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("the body is not UTF-8") from None
    # The first value of each name, as the brokers send each once.
    found: dict[str, str] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        found.setdefault(name, value)
    return found


async def form_or_query(request: Request) -> dict[str, str]:
    """RabbitMQ's parameters: the form body of a POST, or the query string of a GET."""
    if request.method == "GET":
        return _form(request.url.query.encode())
    return _form(await body(request))


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def fields(request: Request) -> dict[str, Any]:
    """A JSON object body, or a form body (``application/x-www-form-urlencoded``)."""
    raw = await body(request)
    if _media_type(request) == "application/x-www-form-urlencoded":
        return dict(_form(raw))
    try:
        parsed: Any = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise Malformed("the body is not JSON") from None
    if not isinstance(parsed, dict):
        raise Malformed("the body must be a JSON object")
    return parsed


def text(found: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    """The string field ``name``: ``None`` when absent and not required."""
    value = found.get(name)
    if value is None:
        if required:
            raise Malformed(f'"{name}" is missing')
        return None
    if not isinstance(value, str):
        raise Malformed(f'"{name}" must be a string')
    return value
