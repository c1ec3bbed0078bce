"""HTTP Basic authentication of ``/graphql`` (API.md §1).

strawberry's view cannot answer 401 with ``WWW-Authenticate`` itself, so
:class:`BasicAuthGate` sits in front of it for HTTP: a request without valid
credentials never reaches the view, and a browser asking for GraphiQL gets the
login prompt. Websockets authenticate in ``connection_init`` instead (see
``graph/websockets.py``).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import uuid
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from resolvers.auth import Authenticator
from resolvers.permissions import MANAGEMENT_TENANT, Actor

log = logging.getLogger("gatehouse.auth")

REALM = 'Basic realm="gatehouse"'


@dataclass(frozen=True)
class Credentials:
    tenant_id: str
    username: str
    password: str


def parse_basic(header: str | None) -> Credentials | None:
    """``Basic base64(tenant/username:password)``; a bare username means the management tenant."""
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    login, sep, password = decoded.partition(":")
    if not sep:
        return None
    tenant_id, slash, username = login.partition("/")
    if not slash:
        tenant_id, username = MANAGEMENT_TENANT, login
    if not tenant_id or not username:
        return None
    return Credentials(tenant_id, username, password)


async def authenticate_header(authenticator: Authenticator, header: str | None) -> Actor | None:
    credentials = parse_basic(header)
    if credentials is None:
        return None
    return await authenticator.authenticate(
        credentials.tenant_id, credentials.username, credentials.password
    )


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


async def send_unauthorized(send: Send, message: str) -> None:
    body = json.dumps(
        {"data": None, "errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", REALM.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BasicAuthGate:
    """ASGI layer: authenticates HTTP requests and puts the actor in ``scope["state"]``."""

    def __init__(self, app: ASGIApp, authenticator: Authenticator) -> None:
        self.app = app
        self.authenticator = authenticator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.setdefault("state", {})
        state.setdefault("request_id", new_request_id())
        if scope["type"] == "http":
            header = Headers(scope=scope).get("authorization")
            actor = await authenticate_header(self.authenticator, header)
            if actor is None:
                if header:
                    log.info("rejected credentials from %s", _client(scope))
                await send_unauthorized(
                    send,
                    "log in with HTTP Basic as tenant/username"
                    if not header
                    else "wrong username or password",
                )
                return
            state["actor"] = actor
        await self.app(scope, receive, send)


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}" if client else "unknown client"
