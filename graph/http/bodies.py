"""Request bodies: read at most a limit, then handed to the endpoint; JSON parsed safely.

The gate (``graph/http/gate.py``) reads each request's body before the
endpoint runs, through :func:`read_body`: a ``Content-Length`` beyond the
route's limit is refused before a byte is read, and a chunked body as soon as
it passes the limit, so no body larger than the limit is ever held in memory
(API.md §9.3, §9.6). The endpoint then receives the body from
:class:`BodyReplay`, which also reports the client's disconnect, so a request
whose client went away can be cancelled (see the gate).
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from starlette.datastructures import Headers
from starlette.types import Message, Receive

#: The deepest nesting of arrays and objects a JSON body may have.
MAX_JSON_DEPTH = 64
#: The most values (counted as ``{``, ``[`` and ``,``) a JSON body may hold: building
#: Python objects for each costs the event loop; a ``register`` of 10,000 devices, the
#: largest request the schema takes, has about 40,000.
MAX_JSON_VALUES = 100_000


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body must be at most {limit} bytes")
        self.limit = limit


class ClientGone(Exception):
    """The client disconnected before its request body was complete."""


def declared_length(headers: Headers) -> int | None:
    value = headers.get("content-length")
    if value is None or not value.isdigit():
        return None
    return int(value)


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole body, or :class:`BodyTooLarge` as soon as more than ``limit`` bytes came."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        if chunk:
            chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class BodyReplay:
    """The endpoint's ``receive``: the body read by the gate, then the disconnect."""

    def __init__(self, body: bytes) -> None:
        self._body: bytes | None = body
        self._gone: asyncio.Event | None = None  # made only if someone waits for it

    def disconnect(self) -> None:
        """The client went away: whoever waits for the next message gets the disconnect."""
        if self._gone is None:
            self._gone = asyncio.Event()
        self._gone.set()

    async def __call__(self) -> Message:
        if self._body is not None:
            body, self._body = self._body, None
            return {"type": "http.request", "body": body, "more_body": False}
        if self._gone is None:
            self._gone = asyncio.Event()
        await self._gone.wait()
        return {"type": "http.disconnect"}


class MalformedJson(ValueError):
    """A body that is not JSON the server will work on; the message says why."""


class TooManyJsonValues(MalformedJson):
    """Well-formed perhaps, but more values than any request of the API holds (413)."""


_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text nests arrays and objects more than ``limit`` deep.

    Done on the text with C-speed operations: strings are removed, then every
    byte but brackets, then innermost pairs ``limit`` times; anything left was
    deeper. (For text that parsed as JSON, whose brackets balance.)
    """
    brackets = _STRINGS.sub(b"", raw).translate(None, _NOT_BRACKETS)
    for _ in range(limit):
        if not brackets:
            return False
        brackets = brackets.replace(b"[]", b"").replace(b"{}", b"")
    return bool(brackets)


def parse_json(raw: bytes | str) -> Any:
    """The JSON value of a body, or :class:`MalformedJson` (never a crash)."""
    data = raw.encode() if isinstance(raw, str) else raw
    # Counted in C before a single object is built (strings holding commas count too:
    # the bound is generous for that).
    brackets = data.count(b"{") + data.count(b"[")
    if data.count(b",") + brackets > MAX_JSON_VALUES:
        raise TooManyJsonValues(
            f"the body holds more than {MAX_JSON_VALUES} JSON values; "
            "no request of this API needs as many (register at most 10000 devices a call)"
        )
    try:
        value = json.loads(data)
    except RecursionError:
        raise MalformedJson(f"the JSON nests deeper than {MAX_JSON_DEPTH} levels") from None
    except json.JSONDecodeError as error:
        raise MalformedJson(f"the body is not valid JSON ({error})") from None
    except ValueError:
        # Not UTF-8, or an integer longer than Python converts (4,300 digits).
        raise MalformedJson("the body is not valid JSON text") from None
    if brackets > MAX_JSON_DEPTH and json_too_deep(data):
        raise MalformedJson(f"the JSON nests deeper than {MAX_JSON_DEPTH} levels")
    return value
