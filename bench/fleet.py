"""A lean websocket client fleet for the fan-out benchmark (``python -m bench.fleet``).

The fan-out figure is the time from sending a change to its receipt by the
last of thousands of subscribers, so the clients must not be what is slow.
The ``websockets`` library spends some 100 µs of Python per received message
(frame objects, a reader task, a queue); for 5,000 subscribers that alone is
half a second on the load CPU. Here each connection is a bare
``asyncio.Protocol`` on uvloop: it parses the server's (unmasked) frames from
the bytes it is handed and stamps each text message with ``time.time()`` in
the same callback. The baseline and Gatehouse are received by the same code.

The coordinator (``bench/fanout.py``) starts several of these processes (they
inherit its CPU affinity: the load CPU), each with a share of the subscribers,
and talks to each over its stdin and stdout, one line each way:

- the fleet prints ``ready`` once every connection is open (``graphql``: acked
  and subscribed);
- after each round it prints ``round <k>`` once every connection has received
  ``k`` messages, or ``late <k> <missing>`` after ``--round-timeout`` seconds;
- ``stop`` on stdin: it prints one JSON line (every connection's receipt
  times, and the messages that did not have the expected content) and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import struct
import sys
import time
from typing import Any, cast

import uvloop

SUBSCRIPTION = """subscription { registrationEvents(status: [PENDING_ACCEPTANCE]) { id at } }"""
TEXT, CLOSE, PING = 0x1, 0x8, 0x9


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked frame, as a client must send (RFC 6455 §5.3)."""
    mask = os.urandom(4)
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + mask + masked


class Subscriber(asyncio.Protocol):
    """One websocket: handshake, then (``graphql``) connection_init and subscribe."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.ready = asyncio.get_running_loop().create_future()
        self.received: list[float] = []
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        key = base64.b64encode(os.urandom(16)).decode()
        protocol = "Sec-WebSocket-Protocol: graphql-transport-ws\r\n" if self.fleet.graphql else ""
        self.transport.write(
            (
                f"GET {self.fleet.path} HTTP/1.1\r\nHost: {self.fleet.host}:{self.fleet.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{protocol}\r\n"
            ).encode()
        )

    def send_text(self, text: str) -> None:
        assert self.transport is not None
        self.transport.write(client_frame(TEXT, text.encode()))

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buffer[: buffer.find(b"\r\n")])
            del buffer[: end + 4]
            if b" 101 " not in status:
                self._fail(f"upgrade refused: {status!r}")
                return
            self.upgraded = True
            if self.fleet.graphql:
                init = {"type": "connection_init", "payload": {"Authorization": self.fleet.auth}}
                self.send_text(json.dumps(init))
            elif not self.ready.done():
                self.ready.set_result(None)
        while len(buffer) >= 2:
            opcode = buffer[0] & 0x0F
            length = buffer[1] & 0x7F
            start = 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length = struct.unpack_from("!H", buffer, 2)[0]
                start = 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length = struct.unpack_from("!Q", buffer, 2)[0]
                start = 10
            if len(buffer) < start + length:
                return
            payload = bytes(buffer[start : start + length])
            del buffer[: start + length]
            if opcode == TEXT:
                self._message(payload)
            elif opcode == PING:
                assert self.transport is not None
                self.transport.write(client_frame(0xA, payload))
            elif opcode == CLOSE:
                code = struct.unpack_from("!H", payload)[0] if len(payload) >= 2 else 1005
                self._fail(f"closed by the server: {code} {payload[2:]!r}")
                return

    def _message(self, payload: bytes) -> None:
        if not self.ready.done():
            message = json.loads(payload)
            if message.get("type") == "connection_ack":
                self.send_text(
                    json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
                )
                self.ready.set_result(None)
            return
        self.received.append(time.time())
        self.fleet.on_message(self, payload)

    def _fail(self, reason: str) -> None:
        self.lost = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(reason))
        else:
            self.fleet.problems.append(reason)
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost:
            self._fail(f"connection lost: {exc!r}")

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.lost = True
            self.transport.write(client_frame(CLOSE, struct.pack("!H", 1000)))
            self.transport.close()


class Fleet:
    def __init__(self, args: argparse.Namespace) -> None:
        self.host = args.host
        self.port = args.port
        self.path = args.path
        self.graphql = args.graphql
        self.auth = args.auth
        self.expected: list[str] = args.expect or []
        self.round_timeout = args.round_timeout
        self.subscribers: list[Subscriber] = []
        self.problems: list[str] = []
        self.counts: dict[int, int] = {}  # messages received so far -> connections at that count
        self.waiting: tuple[int, asyncio.Future[None]] | None = None

    def on_message(self, subscriber: Subscriber, payload: bytes) -> None:
        index = len(subscriber.received)
        if self.graphql:
            message = json.loads(payload)
            expected = self.expected[index - 1] if index <= len(self.expected) else None
            event = (message.get("payload") or {}).get("data", {}).get("registrationEvents")
            if message.get("type") != "next" or event is None or event.get("id") != expected:
                self.problems.append(f"unexpected message {index}: {payload[:200]!r}")
        self.counts[index] = self.counts.get(index, 0) + 1
        waiting = self.waiting
        everyone = self.counts[index] == len(self.subscribers)
        if waiting is not None and index == waiting[0] and everyone and not waiting[1].done():
            waiting[1].set_result(None)

    async def open(self, count: int, concurrency: int = 50) -> None:
        loop = asyncio.get_running_loop()
        for start in range(0, count, concurrency):
            batch = range(start, min(count, start + concurrency))
            made = await asyncio.gather(
                *(
                    loop.create_connection(lambda: Subscriber(self), self.host, self.port)
                    for _ in batch
                )
            )
            opened = [protocol for _, protocol in made]
            await asyncio.wait_for(asyncio.gather(*(p.ready for p in opened)), 60)
            self.subscribers.extend(opened)

    async def wait_round(self, k: int) -> int:
        """Wait until every connection has ``k`` messages; how many are missing."""
        future = asyncio.get_running_loop().create_future()
        self.waiting = (k, future)
        if self.counts.get(k, 0) >= len(self.subscribers):
            return 0
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(future, self.round_timeout)
        return len(self.subscribers) - self.counts.get(k, 0)

    def report(self) -> dict[str, Any]:
        return {
            "received": [s.received for s in self.subscribers],
            "problems": self.problems[:20],
            "problem_count": len(self.problems),
        }


async def main(args: argparse.Namespace) -> None:
    fleet = Fleet(args)
    await fleet.open(args.count)
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = (await reader.readline()).decode().strip()
        if not line or line == "stop":
            break
        command, k = line.split()
        assert command == "round", line
        missing = await fleet.wait_round(int(k))
        print(f"round {k}" if not missing else f"late {k} {missing}", flush=True)
    print(json.dumps(fleet.report()), flush=True)
    for subscriber in fleet.subscribers:
        subscriber.close()
    await asyncio.sleep(0.2)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.fleet")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/ws")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--graphql", action="store_true", help="graphql-transport-ws subscribe")
    parser.add_argument("--auth", default="")
    parser.add_argument("--expect", nargs="*", help="(graphql) the event id of each round")
    parser.add_argument("--round-timeout", type=float, default=30.0)
    return parser.parse_args(argv)


if __name__ == "__main__":
    uvloop.run(main(parse()))
