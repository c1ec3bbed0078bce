"""Talking to the Cumulocity REST paths in-process, as one login (API.md §8)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from tests.kit.clients import GraphQLClient, basic

DEVICE_REQUESTS = "/devicecontrol/newDeviceRequests"
BULK = "/devicecontrol/bulkNewDeviceRequests"
OPTIONS = "/tenant/options"
#: Cumulocity's own media types, as its clients send them.
NEW_DEVICE_REQUEST_TYPE = "application/vnd.com.nsn.cumulocity.newdevicerequest+json"
OPTION_TYPE = "application/vnd.com.nsn.cumulocity.option+json"


@dataclass
class RestClient:
    """Requests to the app with one login's ``Authorization`` header."""

    http: httpx.AsyncClient
    login: str | None
    password: str | None

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.login is not None and self.password is not None:
            headers["Authorization"] = basic(self.login, self.password)
        return headers | (extra or {})

    async def request(
        self,
        method: str,
        path: str,
        json: Any = None,
        *,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        return await self.http.request(
            method, path, json=json, headers=self.headers(headers), **kwargs
        )

    async def get(self, path: str, **params: Any) -> httpx.Response:
        """``GET path``; ``params`` (when given) replace any query ``path`` has."""
        return await self.request("GET", path, **({"params": params} if params else {}))

    async def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", path, json, **kwargs)

    async def put(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.request("PUT", path, json, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.request("DELETE", path, **kwargs)


def rest(client: GraphQLClient) -> RestClient:
    """The REST twin of a GraphQL client: same HTTP client, same login."""
    return RestClient(client.http, client.login, client.password)


def error_of(response: httpx.Response) -> str:
    """The Cumulocity ``error`` of a failed answer (asserting the body's shape)."""
    body = response.json()
    assert set(body) >= {"error", "message", "info"}, body
    return str(body["error"])


async def create_request(client: RestClient, device_id: str, **fields: Any) -> dict[str, Any]:
    """``POST`` a device request that must succeed; its NewDeviceRequest."""
    response = await client.post(DEVICE_REQUESTS, {"id": device_id, **fields})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
