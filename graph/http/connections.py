"""Limits on connections that uvicorn does not have: the edge of API.md §9.6.

uvicorn bounds nothing before a request's headers are complete: a client can
open a connection, send half a request line and keep the file descriptor for
ever, send megabytes of headers, or open connections until the process runs
out of descriptors. :class:`GatehouseHttpProtocol` is uvicorn's own httptools
protocol with four additions, each a few lines around the parser's callbacks:

- **Header timeout**: a connection whose request headers are not complete
  ``header_timeout`` seconds after it opened (or after the first byte of a
  later request on a kept-alive connection) is closed.
- **Header size and count**: more than ``max_header_bytes`` of request line and
  headers, or more than ``max_headers`` header lines, answer 431 and close.
  Bytes are counted as they arrive, so a header that never ends is refused at
  the limit, not when it ends.
- **Connection cap**: beyond ``max_connections`` open connections (HTTP and
  websocket) of this process, a new connection is answered 503 at once and
  closed, so the process keeps descriptors for the connections it serves.
- **Lingering close**: when a response closes a connection whose request body
  is still arriving (a 413), the connection stops parsing, discards what still
  comes for a short while and then closes, so the client reads the answer
  instead of a reset, and nothing it sends is kept.

Subclassing the protocol keeps uvicorn (its workers, reload, websockets,
lifespan) exactly as it is; the alternative, another server in front or
instead, would add a process or replace everything else that works.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("gatehouse.connections")

#: How long a closing connection keeps discarding a request body it will not read.
LINGER_SECONDS = 2.0


@dataclass(frozen=True)
class EdgeLimits:
    header_timeout: float = 10.0
    max_header_bytes: int = 16 * 1024
    max_headers: int = 100
    max_connections: int = 4000


class GatehouseConfig(uvicorn.Config):
    """uvicorn's configuration with the limits :class:`GatehouseHttpProtocol` enforces.

    It travels to worker processes with the rest of the configuration.
    """

    def __init__(self, app: Any, *, edge_limits: EdgeLimits, **kwargs: Any) -> None:
        kwargs["http"] = GatehouseHttpProtocol
        super().__init__(app, **kwargs)
        self.edge_limits = edge_limits


def _response(status: bytes, body: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\n"
        b"content-type: text/plain; charset=utf-8\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n"
        b"connection: close\r\n\r\n" + body
    )


TOO_MANY_CONNECTIONS = _response(
    b"503 Service Unavailable", b"Too many open connections; try again shortly.\n"
)
HEADERS_TOO_LARGE = _response(
    b"431 Request Header Fields Too Large",
    b"The request line and headers are too large or too many.\n",
)


class HeaderLimit(Exception):
    """Raised inside a parser callback: the request's headers passed a limit."""


class _LingeringTransport:
    """The transport as a request's cycle sees it: ``close`` lingers while a body arrives,
    and the writes of one event-loop step go out together.

    uvicorn writes a response's headers and its body separately, two system
    calls (and, on a socket, often two packets) for every small answer. Here a
    write is held until the step that made it ends (``call_soon``), and whatever
    the step wrote meanwhile, the body of the same answer typically, joins it:
    the same bytes, in the same order, in one call. Closing sends what is held
    first.
    """

    def __init__(self, protocol: GatehouseHttpProtocol) -> None:
        self._protocol = protocol
        self._transport = protocol.transport
        self._held: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._held is None:
            self._held = bytes(data)
            self._protocol.loop.call_soon(self.flush)
        else:
            self._held += data

    def flush(self) -> None:
        held, self._held = self._held, None
        if held and not self._transport.is_closing():
            self._transport.write(held)

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        cycle = self._protocol.cycle
        if cycle is not None and cycle.more_body and not self._transport.is_closing():
            self._protocol.linger()
        else:
            self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class GatehouseHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits of the module docstring."""

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.limits: EdgeLimits = getattr(config, "edge_limits", EdgeLimits())
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0  # bytes received while the headers were incomplete
        self._header_size = 0  # request line and header lines parsed so far
        self._header_count = 0
        self._in_headers = True
        self._discarding = False

    # ------------------------------------------------------------ connection cap

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        cap = self.limits.max_connections
        if cap and len(self.connections) >= cap:
            self.transport = transport
            self._discarding = True
            transport.write(TOO_MANY_CONNECTIONS)
            transport.close()
            log.warning("refused a connection: %d are open (GATEHOUSE_MAX_CONNECTIONS)", cap)
            return
        super().connection_made(transport)
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        if self.flow is None:  # refused at connection_made: nothing else was set up
            return
        super().connection_lost(exc)

    # ------------------------------------------------------------ header timeout

    def _arm_header_timer(self) -> None:
        if self._header_timer is None and self.limits.header_timeout:
            self._header_timer = self.loop.call_later(
                self.limits.header_timeout, self._header_timeout
            )

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timeout(self) -> None:
        self._header_timer = None
        if self._in_headers and not self.transport.is_closing():
            log.info(
                "closed a connection from %s: no complete request headers within %gs",
                self.client[0] if self.client else "?",
                self.limits.header_timeout,
            )
            self.transport.close()

    # ------------------------------------------------------------ parsing

    def data_received(self, data: bytes) -> None:
        if self._discarding:
            return
        self._unset_keepalive_if_required()
        if self._in_headers:
            self._header_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as error:
            if isinstance(error.__context__, HeaderLimit):
                self._refuse_headers(str(error.__context__))
                return
            self._invalid_request()
        except httptools.HttpParserError:
            self._invalid_request()
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        else:
            if self._in_headers and self._header_bytes > self.limits.max_header_bytes:
                self._refuse_headers("request headers still incomplete past the size limit")

    def _invalid_request(self) -> None:
        msg = "Invalid HTTP request received."
        self.logger.warning(msg)
        self.send_400_response(msg)

    def _refuse_headers(self, why: str) -> None:
        log.info("431 to %s: %s", self.client[0] if self.client else "?", why)
        self._discarding = True
        self._cancel_header_timer()
        self.transport.write(HEADERS_TOO_LARGE)
        self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True
        self._header_size = 0
        self._header_count = 0
        self._arm_header_timer()

    def on_url(self, url: bytes) -> None:
        self._grow_headers(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > self.limits.max_headers:
            raise HeaderLimit(f"more than {self.limits.max_headers} headers")
        self._grow_headers(len(name) + len(value) + 4)
        super().on_header(name, value)

    def _grow_headers(self, size: int) -> None:
        self._header_size += size
        if self._header_size > self.limits.max_header_bytes:
            raise HeaderLimit(f"request line and headers over {self.limits.max_header_bytes} bytes")

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._header_bytes = 0
        self._cancel_header_timer()
        super().on_headers_complete()
        if self.cycle is not None and self.cycle.scope is self.scope:
            self.cycle.transport = _LingeringTransport(self)  # type: ignore[assignment]

    # ------------------------------------------------------------ lingering close

    def linger(self) -> None:
        """Answer sent, body still arriving: half-close, discard the rest, then close."""
        self._discarding = True
        self.flow.resume_reading()
        transport = self.transport
        if transport.can_write_eof():
            transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, transport.close)

    def eof_received(self) -> None:
        if self._discarding:
            self.transport.close()
