"""HTTP spoken by hand over sockets, for what a well-behaved client library never sends:
bodies of hundreds of megabytes, half-finished request lines, oversized headers."""

from __future__ import annotations

import select
import socket
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: the connection ended without an answer
    head: bytes
    sent: int  # body bytes the client managed to send before it stopped


def connect(port: int, timeout: float = 10) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_head(sock: socket.socket, timeout: float = 10) -> bytes:
    """Bytes up to the end of the response headers (or whatever came before the close)."""
    data = b""
    deadline = time.monotonic() + timeout
    while b"\r\n\r\n" not in data and time.monotonic() < deadline:
        ready, _, _ = select.select([sock], [], [], max(deadline - time.monotonic(), 0))
        if not ready:
            break
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        data += chunk
    return data


def status_of(head: bytes) -> int | None:
    if not head.startswith(b"HTTP/1.1 "):
        return None
    return int(head.split(b" ", 2)[1])


def stream_body(
    port: int,
    path: str,
    headers: dict[str, str],
    total: int,
    *,
    chunked: bool,
    chunk_size: int = 256 * 1024,
) -> Answer:
    """POST a body of ``total`` bytes, streamed; stop sending as soon as an answer arrives."""
    head_headers = dict(headers)
    if chunked:
        head_headers["Transfer-Encoding"] = "chunked"
    else:
        head_headers["Content-Length"] = str(total)
    sock = connect(port)
    try:
        sock.sendall(request_head("POST", path, head_headers))
        piece = b"[" * chunk_size
        frame = f"{chunk_size:x}\r\n".encode() + piece + b"\r\n" if chunked else piece
        sent = 0
        while sent < total:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(frame)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += chunk_size
        head = read_head(sock)
        return Answer(status_of(head), head, sent)
    finally:
        sock.close()
