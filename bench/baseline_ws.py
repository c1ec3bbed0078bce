"""Baseline for the fan-out benchmark: the least a Python server does to broadcast one message.

``POST /broadcast`` stamps the time and sends ``{"at": ...}`` to every open
``/ws`` socket, one after another on the event loop, as Gatehouse does.
"""

from __future__ import annotations

import json
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

sockets: set[WebSocket] = set()


async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    sockets.add(websocket)
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        sockets.discard(websocket)


async def broadcast(request: Request) -> JSONResponse:
    message = json.dumps({"at": time.time()})
    for socket in list(sockets):
        await socket.send_text(message)
    return JSONResponse({"sent": len(sockets)})


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        WebSocketRoute("/ws", ws),
        Route("/broadcast", broadcast, methods=["POST"]),
        Route("/health", health),
    ]
)
