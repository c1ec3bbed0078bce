"""Real ``gatehouse serve`` processes (from ``bench/processes.py``) and a websocket subscriber."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection

from bench.processes import GATEHOUSE, Server, free_port, run_env, start_server

__all__ = [
    "GATEHOUSE",
    "Server",
    "Subscriber",
    "free_port",
    "run_env",
    "start_server",
]


class Subscriber:
    """One ``graphql-transport-ws`` connection running one subscription."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    @classmethod
    async def open(
        cls,
        ws_url: str,
        authorization: str | None,
        query: str,
        variables: dict[str, Any] | None = None,
    ) -> Subscriber:
        """Connect to ``ws_url``, log in with ``authorization`` and start ``query``."""
        connection = await websockets.connect(ws_url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
        payload = {"Authorization": authorization} if authorization else {}
        await connection.send(json.dumps({"type": "connection_init", "payload": payload}))
        ack = json.loads(await asyncio.wait_for(connection.recv(), 5))
        assert ack["type"] == "connection_ack", ack
        await connection.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables or {}},
                }
            )
        )
        return cls(connection)

    async def message(self, timeout: float = 5) -> dict[str, Any]:
        """The next protocol message, whatever its type."""
        message: dict[str, Any] = json.loads(
            await asyncio.wait_for(self.connection.recv(), timeout)
        )
        return message

    async def events(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        """The next ``count`` events (the subscription field's value of each ``next``)."""
        received: list[dict[str, Any]] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while len(received) < count:
            left = deadline - asyncio.get_running_loop().time()
            message = await self.message(max(left, 0.01))
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            received.append(message["payload"]["data"]["registrationEvents"])
        return received

    async def nothing_within(self, seconds: float) -> bool:
        """Whether no message arrives for ``seconds``."""
        try:
            await asyncio.wait_for(self.connection.recv(), seconds)
        except TimeoutError:
            return True
        return False

    async def close(self) -> None:
        """Close the connection."""
        await self.connection.close()
