"""Closing a device's RabbitMQ connections through the management API (API.md §10.3).

RabbitMQ asks Gatehouse about a login once per connection and keeps topic
answers while a connection is busy, so a revoked device's open session lasts
until it reconnects unless it is closed. :class:`RabbitMQManagement` lists the
connections (``GET /api/connections``, only the ``name`` and ``user`` columns)
and closes those of given devices (``DELETE /api/connections/<name>`` with an
``X-Reason`` header). A connection that is already gone (404) counts as closed.

Closing another user's connection takes the ``administrator`` tag in RabbitMQ
3.10 (``monitoring`` lists them but a DELETE answers 401); the error says so.
One HTTP client per process, reused; every request has a timeout.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import quote

import httpx

from resolvers.broker_urls import BrokerLogin
from resolvers.device_auth import parse_username

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
#: DELETEs in flight at once (a bulk removal may close many connections).
PARALLEL_CLOSES = 8


class ManagementError(Exception):
    """The management API did not do what was asked (the message names why; no secret)."""


@dataclass(frozen=True)
class Connection:
    name: str
    user: str

    @property
    def device_id(self) -> str | None:
        """The device whose login opened it (``device_<id>`` or ``<tenant>/device_<id>``)."""
        parsed = parse_username(self.user)
        return parsed.device_id if parsed is not None else None


def _explain(response: httpx.Response, doing: str) -> str:
    status = response.status_code
    if status == 401 and doing == "close":
        hint = (
            "the management user may not close other users' connections "
            "(give it the administrator tag)"
        )
    elif status == 401:
        hint = "wrong management user or password, or a user without the monitoring tag"
    else:
        hint = response.reason_phrase or "unexpected answer"
    return f"RabbitMQ management API: HTTP {status} to {doing} connections: {hint}"


class RabbitMQManagement:
    """The management API of one RabbitMQ cluster, logged in as ``login``."""

    def __init__(
        self,
        login: BrokerLogin,
        *,
        timeout: float = TIMEOUT_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.login = login
        self.timeout = timeout
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self.login.base_url,
                auth=(self.login.username, self.login.password),
                timeout=self.timeout,
                transport=self._transport,
                follow_redirects=False,
                trust_env=False,
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def connections(self) -> list[Connection]:
        """Every open connection's name and user."""
        try:
            response = await self._http().get("/api/connections", params={"columns": "name,user"})
        except httpx.HTTPError as error:
            raise ManagementError(
                f"RabbitMQ management API unreachable: {type(error).__name__} {error}"
            ) from None
        if response.status_code != 200:
            raise ManagementError(_explain(response, "list"))
        try:
            rows = response.json()
            return [
                Connection(str(row["name"]), str(row.get("user", "")))
                for row in rows
                if isinstance(row, dict) and "name" in row
            ]
        except (ValueError, TypeError) as error:
            raise ManagementError(f"RabbitMQ management API: unreadable list: {error}") from None

    async def close_connection(self, name: str, reason: str) -> None:
        """Close one connection; gone already counts as closed."""
        try:
            response = await self._http().delete(
                f"/api/connections/{quote(name, safe='')}", headers={"X-Reason": reason}
            )
        except httpx.HTTPError as error:
            raise ManagementError(
                f"RabbitMQ management API unreachable: {type(error).__name__} {error}"
            ) from None
        if response.status_code not in (200, 204, 404):
            raise ManagementError(_explain(response, "close"))

    async def close_devices(
        self, device_ids: Collection[str], reason: str
    ) -> dict[str, ManagementError | int]:
        """Close every connection of these devices: per device, how many were closed or
        what went wrong. Listing failing raises :class:`ManagementError` for all of them."""
        wanted = set(device_ids)
        found = [c for c in await self.connections() if c.device_id in wanted]
        outcome: dict[str, ManagementError | int] = dict.fromkeys(wanted, 0)
        gate = asyncio.Semaphore(PARALLEL_CLOSES)

        async def close_one(connection: Connection) -> None:
            device = connection.device_id
            assert device is not None
            async with gate:
                try:
                    await self.close_connection(connection.name, reason)
                except ManagementError as error:
                    outcome[device] = error
                    return
            current = outcome[device]
            if isinstance(current, int):
                outcome[device] = current + 1

        await asyncio.gather(*(close_one(c) for c in found))
        return outcome
