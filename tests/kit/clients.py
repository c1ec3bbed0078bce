"""Talking to the app in-process: HTTP Basic headers, the GraphQL client and its error codes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from bench.processes import basic as basic
from graph.app import create_app
from graph.settings import Settings


@dataclass
class GraphQLClient:
    """Posts GraphQL documents to the app as one login."""

    http: httpx.AsyncClient
    login: str | None
    password: str | None

    def as_user(self, login: str, password: str) -> GraphQLClient:
        """A client on the same HTTP client, logged in as ``login``."""
        return GraphQLClient(self.http, login, password)

    def headers(self) -> dict[str, str]:
        """The ``Authorization`` header of this login (none without a login)."""
        if self.login is None or self.password is None:
            return {}
        return {"Authorization": basic(self.login, self.password)}

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        """The raw HTTP response to ``query``, whatever its status."""
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=self.headers()
        )

    async def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        """The response body of ``query``; asserts HTTP 200."""
        response = await self.post(query, variables)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, **variables: Any) -> dict[str, Any]:
        """The ``data`` of a response that must have no errors."""
        body = await self(query, **variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data


def error_codes(body: dict[str, Any]) -> list[str]:
    """The ``extensions.code`` of each error of a GraphQL response body, in order."""
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


@asynccontextmanager
async def app_client(app_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for an app built with ``app_settings``, on the database of ``db``."""
    app = create_app(app_settings, manage_orm=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gatehouse.test") as client:
        yield client


@asynccontextmanager
async def app_clients(
    app_settings: Settings, *addresses: str
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """HTTP clients for one app built with ``app_settings``, one per client ``address``
    (the peer address the app sees), all on the database of ``db``."""
    app = create_app(app_settings, manage_orm=False)
    async with AsyncExitStack() as stack:
        yield [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app, client=(address, 40000)),
                    base_url="http://gatehouse.test",
                )
            )
            for address in addresses
        ]
