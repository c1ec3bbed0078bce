"""The one way into the app: every route is a :class:`Gate` around its endpoint.

For each request the gate gives a request id, computes the client address once
(``graph/http/addresses.py``), runs the route's access check
(``graph/http/access.py``) and either answers the route's refusal
(``graph/http/refusals.py``) or hands the request on with ``request.state``
holding ``request_id``, ``client_address`` and ``actor`` (or ``device``, for
routes that admit a device's own credentials).

Before the endpoint runs, the gate also reads the request body within the
route's limit (``graph/http/bodies.py``: 413 beyond it), answers 503 in the
route's style when the database does not answer (``resolvers/availability.py``),
and cancels the endpoint when the client disconnects before its answer, so
that a change it was making is rolled back rather than committed for nobody.
It times every answer for ``gatehouse_http_request_duration_seconds`` under the
route's path template (``/devicecontrol/newDeviceRequests/{id}``, never the
path with its ids), so every route is measured, refusals included.

Websocket connections pass the gate with their request id and client address
only: the GraphQL websocket protocols authenticate in ``connection_init`` and
answer with close codes (API.md §1), which only the protocol handler can send
(``graph/graphql/websockets.py``).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute, request_response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph import logs
from graph.http.access import Access, Caller, Checks, Denied, Reason
from graph.http.addresses import ClientAddresses
from graph.http.bodies import BodyReplay, BodyTooLarge, ClientGone, declared_length, read_body
from graph.http.refusals import Refusal
from resolvers import availability
from resolvers.device_auth import DeviceLogin
from resolvers.metrics import REQUEST_DURATION

Endpoint = Callable[[Request], Awaitable[Response]]
log = logging.getLogger("gatehouse.gate")
#: The body limit of a route that declares none (``GATEHOUSE_MAX_BODY_BYTES``'s default).
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
#: How long a request runs before the gate starts watching for its client's disconnect.
WATCH_DISCONNECT_AFTER = 0.05


def new_request_id() -> str:
    """16 random hex digits, as ``uuid4().hex[:16]`` gave, without its system call.

    The id ties a request's log lines together; it is no secret, so the
    process's pseudo-random generator (reseeded in each forked worker) serves.
    """
    return f"{random.getrandbits(64):016x}"


def route_template(path: str) -> str:
    """A route's path as the metrics name it: ``/a/{id:path}/`` is ``/a/{id}``."""
    template = re.sub(r"\{(\w+):\w+\}", r"{\1}", path)
    return template.rstrip("/") or "/"


class Gate:
    """ASGI app: one route's access check and refusal in front of its endpoint.

    ``access`` and ``refusal`` are ``None`` for websockets (see the module docstring).
    """

    def __init__(
        self,
        app: ASGIApp,
        keeper: Gatekeeper,
        access: Access | None = None,
        refusal: Refusal | None = None,
        max_body_bytes: int | None = None,
        route: str | None = None,
    ) -> None:
        self.app = app
        self.keeper = keeper
        self.access = access
        self.refusal = refusal
        self.max_body_bytes = max_body_bytes
        #: The route's path template, the ``route`` label of the request durations.
        self.route = route
        #: The histogram's series of this route by method and status, looked up once each.
        self._durations: dict[tuple[str, int], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.setdefault("state", {})
        state.setdefault("request_id", new_request_id())
        logs.request_id.set(state["request_id"])
        client_address = state["client_address"] = self.keeper.addresses.of(scope)
        if scope["type"] != "http" or self.access is None or self.refusal is None:
            await self.app(scope, receive, send)
            return
        if self.route is None:
            await self._http(scope, receive, send, client_address)
            return
        started = time.perf_counter()
        status = 0

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self._http(scope, receive, timed_send, client_address)
        except Exception:
            status = status or 500  # the app's error handler answers 500 outside the gate
            raise
        finally:
            if status:  # a request whose client left before any answer has no status
                self._observe(scope["method"], status, time.perf_counter() - started)

    def _observe(self, method: str, status: int, seconds: float) -> None:
        series = self._durations.get((method, status))
        if series is None:
            assert self.route is not None
            series = REQUEST_DURATION.labels(self.route, method, str(status))
            self._durations[(method, status)] = series
        series.observe(seconds)

    async def _http(self, scope: Scope, receive: Receive, send: Send, client_address: str) -> None:
        """The access check, the body and the endpoint of one HTTP request."""
        assert self.access is not None and self.refusal is not None
        state = scope["state"]
        caller = Caller(Headers(scope=scope), client_address)
        limit = self.max_body_bytes or self.keeper.max_body_bytes
        declared = declared_length(caller.headers)
        try:
            if declared is not None and declared > limit:
                raise BodyTooLarge(limit)  # refused before a byte of it is read
            admitted = await self.access.admit(caller, self.keeper.checks)
            state["device" if isinstance(admitted, DeviceLogin) else "actor"] = admitted
            body = await read_body(receive, limit)
        except BodyTooLarge:
            too_large = Denied(Reason.TOO_LARGE, f"the request body must be at most {limit} bytes")
            await self._refuse(too_large, caller, scope, receive, send)
            return
        except Denied as denied:
            await self._refuse(denied, caller, scope, receive, send)
            return
        except ClientGone:
            return
        except Exception as error:
            if not availability.is_unavailable(error):
                raise
            log.warning("request %s: database unavailable: %r", state["request_id"], error)
            await self._refuse(
                Denied(Reason.UNAVAILABLE, availability.MESSAGE), caller, scope, receive, send
            )
            return
        await self._endpoint(scope, body, caller, receive, send)

    async def _refuse(
        self, denied: Denied, caller: Caller, scope: Scope, receive: Receive, send: Send
    ) -> None:
        assert self.refusal is not None
        response = self.refusal.response(denied, caller)
        if denied.reason is Reason.TOO_LARGE:
            # The rest of the body is not read: this connection cannot carry another request.
            response.headers["Connection"] = "close"
        if denied.reason is Reason.UNAVAILABLE:
            response.headers["Retry-After"] = str(availability.RETRY_AFTER_SECONDS)
        await response(scope, receive, send)

    async def _endpoint(
        self, scope: Scope, body: bytes, caller: Caller, receive: Receive, send: Send
    ) -> None:
        """Run the endpoint on the read body; cancel it if the client disconnects first."""
        replay = BodyReplay(body)
        started = finished = gone = False

        async def tracked_send(message: Message) -> None:
            nonlocal started, finished
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                finished = True
            await send(message)

        task = asyncio.current_task()
        assert task is not None

        async def watch_disconnect() -> None:
            nonlocal gone
            while (await receive())["type"] != "http.disconnect":
                pass
            if not finished:
                gone = True
                replay.disconnect()
                task.cancel()

        # Most requests are answered before anyone could notice a disconnect: the watcher,
        # a task of its own, starts only once a request has taken a while.
        loop = asyncio.get_running_loop()
        watcher: asyncio.Task[None] | None = None

        def start_watching() -> None:
            nonlocal watcher
            if not finished:
                watcher = loop.create_task(watch_disconnect())

        timer = loop.call_later(WATCH_DISCONNECT_AFTER, start_watching)
        try:
            await self.app(scope, replay, tracked_send)
        except asyncio.CancelledError:
            if not gone:
                raise
            task.uncancel()
            log.info(
                "request %s cancelled: the client disconnected before the answer",
                scope["state"]["request_id"],
            )
        except Exception as error:
            if started or not availability.is_unavailable(error):
                raise
            log.warning("request %s: database unavailable: %r", scope["state"]["request_id"], error)
            await self._refuse(
                Denied(Reason.UNAVAILABLE, availability.MESSAGE), caller, scope, replay, send
            )
        finally:
            timer.cancel()
            if watcher is not None:
                watcher.cancel()


class Gatekeeper:
    """Builds gated routes; one per app, holding what every gate checks against."""

    def __init__(
        self,
        checks: Checks,
        addresses: ClientAddresses,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self.checks = checks
        self.addresses = addresses
        self.max_body_bytes = max_body_bytes

    def route(
        self,
        path: str,
        endpoint: Endpoint | ASGIApp,
        *,
        access: Access,
        refusal: Refusal,
        methods: Sequence[str],
        max_body_bytes: int | None = None,
    ) -> Route:
        """An HTTP route; ``endpoint`` is a Starlette request handler or an ASGI app.

        ``max_body_bytes`` is the route's body limit (default: the gatekeeper's).
        """
        if inspect.isfunction(endpoint) or inspect.ismethod(endpoint):
            app: ASGIApp = request_response(endpoint)
        else:
            app = endpoint  # type: ignore[assignment]
        gate = Gate(app, self, access, refusal, max_body_bytes, route=route_template(path))
        return Route(path, gate, methods=list(methods))

    def websocket_route(self, path: str, app: ASGIApp) -> BaseRoute:
        """A websocket route: request id and client address here, the login in the protocol."""
        return WebSocketRoute(path, Gate(app, self))
