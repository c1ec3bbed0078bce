"""Websockets: message size, sockets that never log in, malformed messages (API.md §9.3, §9.6).

A real ``gatehouse serve`` and real websocket clients, both protocols. Whatever
a client sends, the socket is closed with a close code of the protocol
(4400 for a malformed message, 1009 for one too large), never 1006 from a
handler that crashed.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import websockets
from hypothesis import strategies as st
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from tests.kit.accounts import ADMIN_LOGIN, ADMIN_PASSWORD, BOOTSTRAP_PASSWORD
from tests.kit.clients import basic
from tests.kit.hypothesis_async import check_examples
from tests.kit.servers import Server, run_env, start_server

TRANSPORT = "graphql-transport-ws"
LEGACY = "graphql-ws"
AUTH = {"Authorization": basic(ADMIN_LOGIN, ADMIN_PASSWORD)}
#: Close codes a protocol handler sends on purpose; 1006 (no close frame) and 1011
#: (the server failed) mean a handler crashed.
DELIBERATE = {1000, 1009, 4400, 4401, 4403, 4406, 4408, 4409, 4429}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = run_env(
        GATEHOUSE_ADMIN_PASSWORD=ADMIN_PASSWORD,
        GATEHOUSE_BOOTSTRAP_PASSWORD=BOOTSTRAP_PASSWORD,
        GATEHOUSE_LOG_LEVEL="WARNING",
    )
    started = start_server(tmp_path_factory.mktemp("ws"), env, startup_line=None)
    yield started
    started.stop()


async def open_socket(server: Server, protocol: str, *, init: bool) -> ClientConnection:
    connection = await websockets.connect(
        server.ws_url,
        subprotocols=[protocol],  # type: ignore[list-item]
        max_size=None,
        open_timeout=10,
    )
    if init:
        await connection.send(json.dumps({"type": "connection_init", "payload": AUTH}))
        ack = json.loads(await asyncio.wait_for(connection.recv(), 10))
        assert ack["type"] == "connection_ack", ack
    return connection


async def close_code(connection: ClientConnection, within: float) -> int | None:
    """The close code the server sends within ``within`` seconds (1006 for none), or
    ``None`` when the socket is still open then."""
    try:
        async with asyncio.timeout(within):
            while True:
                await connection.recv()
    except TimeoutError:
        return None
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else 1006


async def test_a_message_over_1_mib_closes_with_1009(server: Server) -> None:
    for protocol in (TRANSPORT, LEGACY):
        connection = await open_socket(server, protocol, init=True)
        big = {"id": "1", "type": "subscribe", "payload": {"query": "x" * (1024 * 1024 + 10)}}
        await connection.send(json.dumps(big))
        assert await close_code(connection, 5) == 1009, protocol


async def test_a_message_just_under_1_mib_is_read(server: Server) -> None:
    connection = await open_socket(server, TRANSPORT, init=True)
    query = 'query($c: String!) { tenantOption(category: $c, key: "k") { value } }'
    payload = {"query": query, "variables": {"c": "x" * (1024 * 1024 - 500)}}
    await connection.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    reply = json.loads(await asyncio.wait_for(connection.recv(), 10))
    assert reply == {"id": "1", "type": "next", "payload": {"data": {"tenantOption": None}}}
    await connection.close()


async def test_a_document_over_the_length_limit_is_refused_alone(server: Server) -> None:
    connection = await open_socket(server, TRANSPORT, init=True)
    long = '{ tenantOption(category: "' + "c" * 300_000 + '", key: "k") { value } }'
    await connection.send(
        json.dumps({"id": "long", "type": "subscribe", "payload": {"query": long}})
    )
    refused = json.loads(await asyncio.wait_for(connection.recv(), 10))
    assert refused["type"] == "error" and refused["id"] == "long", refused
    assert refused["payload"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert await close_code(connection, 0.5) is None
    await connection.close()


async def test_a_legacy_socket_without_connection_init_is_closed_after_10_s(
    server: Server,
) -> None:
    started = time.monotonic()
    connection = await open_socket(server, LEGACY, init=False)
    code = await close_code(connection, 14)
    took = time.monotonic() - started
    print(f"legacy graphql-ws without connection_init: closed with {code} after {took:.1f} s")
    assert code == 4408
    assert 9 < took < 13


async def test_a_legacy_socket_that_logs_in_stays_open(server: Server) -> None:
    connection = await open_socket(server, LEGACY, init=True)
    assert await close_code(connection, 11) is None
    await connection.close()


async def test_an_operation_over_the_token_limit_is_refused_alone(server: Server) -> None:
    connection = await open_socket(server, TRANSPORT, init=True)
    huge = "{ me { " + "username " * 6000 + "} }"
    await connection.send(
        json.dumps({"id": "big", "type": "subscribe", "payload": {"query": huge}})
    )
    refused = json.loads(await asyncio.wait_for(connection.recv(), 10))
    assert refused["type"] == "error" and refused["id"] == "big", refused
    assert "tokens" in refused["payload"][0]["message"]
    ok = {"id": "ok", "type": "subscribe", "payload": {"query": "{ me { username } }"}}
    await connection.send(json.dumps(ok))
    answer = json.loads(await asyncio.wait_for(connection.recv(), 10))
    assert answer == {
        "id": "ok",
        "type": "next",
        "payload": {"data": {"me": {"username": "admin"}}},
    }
    await connection.close()


@pytest.mark.parametrize(
    "message",
    [
        "[]",
        "1",
        '"subscribe"',
        "null",
        '{"type": 5}',
        '{"type": "subscribe", "id": 7, "payload": {"query": "{ me { username } }"}}',
        '{"type": "subscribe", "id": "1", "payload": "query"}',
        '{"type": "subscribe", "id": "1", "payload": {"query": ["x"]}}',
        '{"type": "subscribe", "id": "1", "payload": {"query": "{ me { username } }", '
        '"variables": [1]}}',
        '{"type": "complete", "id": {}}',
        "{not json",
        '{"type": "start", "id": "1", "payload": {"query": 1}}',
        '{"type": "stop", "id": null}',
    ],
)
@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_a_malformed_message_closes_with_4400(
    server: Server, protocol: str, message: str
) -> None:
    connection = await open_socket(server, protocol, init=True)
    await connection.send(message)
    code = await close_code(connection, 5)
    if code is None:
        # graphql-ws ignores message types that are not its own; the socket still works.
        await connection.close()
        own = ('"start"', '"stop"', '"connection_init"', '"connection_terminate"')
        assert protocol == LEGACY and not any(kind in message for kind in own), message
        return
    assert code == 4400, (protocol, message, code)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
KEYS = st.sampled_from(["type", "id", "payload", "query", "variables", "operationName"])
TYPES = st.sampled_from(
    ["connection_init", "subscribe", "start", "stop", "complete", "ping", "pong", "x"]
)
SHAPED = st.fixed_dictionaries(
    {"type": TYPES},
    optional={
        "id": JSON,
        "payload": JSON | st.fixed_dictionaries({}, optional={"query": JSON, "variables": JSON}),
    },
)
MESSAGES = st.one_of(
    st.binary(max_size=64),
    st.text(max_size=64),
    JSON.map(json.dumps),
    SHAPED.map(json.dumps),
    st.dictionaries(KEYS, JSON, max_size=4).map(json.dumps),
)


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
@pytest.mark.parametrize("init", [True, False], ids=["logged in", "before init"])
async def test_random_bytes_and_json_shapes_never_crash_the_handler(
    server: Server, protocol: str, init: bool
) -> None:
    async def check(message: Any) -> None:
        connection = await open_socket(server, protocol, init=init)
        try:
            await connection.send(message)
            code = await close_code(connection, 0.5)
            assert code is None or code in DELIBERATE, (protocol, message, code)
        finally:
            await connection.close()

    await check_examples(MESSAGES, check, max_examples=40)
