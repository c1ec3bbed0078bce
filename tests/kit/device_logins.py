"""Devices with credentials of their own, and the broker and gateway callbacks they pass."""

from __future__ import annotations

from typing import Any

import httpx

from tests.kit.clients import GraphQLClient, basic
from tests.kit.devices import poll
from tests.kit.documents import RESET_CREDENTIALS
from tests.kit.registrations import accept, register


async def issue(
    http: httpx.AsyncClient, operator: GraphQLClient, device_id: str, token: str | None = None
) -> dict[str, Any]:
    """Register, first contact, accept and collect: the device's 201 answer (its credentials)."""
    registered = await register(operator, {"id": device_id})
    assert registered["__typename"] == "RegisterSuccess", registered
    assert (await poll(http, device_id, token=token)).status_code == 404
    accepted = await accept(operator, device_id, token)
    assert accepted["__typename"] == "Registration", accepted
    collected = await poll(http, device_id, token=token)
    assert collected.status_code == 201, collected.text
    body: dict[str, Any] = collected.json()
    return body


async def reset(operator: GraphQLClient, device_id: str) -> dict[str, Any]:
    """The ``resetCredentials`` result for ``device_id``."""
    result: dict[str, Any] = (await operator.data(RESET_CREDENTIALS, id=device_id))[
        "resetCredentials"
    ]
    return result


async def rabbitmq(http: httpx.AsyncClient, check: str, **params: str) -> httpx.Response:
    """One RabbitMQ callback (``user``, ``vhost``, ``resource``, ``topic``), a POST form."""
    return await http.post(f"/auth/rabbitmq/{check}", data=params)


async def rabbitmq_user(
    http: httpx.AsyncClient, username: str, password: str, client_id: str | None = None
) -> str:
    """The body of RabbitMQ's ``user`` check as RabbitMQ 3.10 sends it for MQTT."""
    params = {"username": username, "password": password, "vhost": "/"}
    if client_id is not None:
        params["client_id"] = client_id
    response = await rabbitmq(http, "user", **params)
    assert response.status_code == 200, response.text
    return response.text


async def gateway(http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    """``GET /auth/http`` with the device's Basic login, as a gateway forwards it."""
    return await http.get("/auth/http", headers={"Authorization": basic(username, password)})


DEVICE_EVENTS = """
query($id: ID!) { events(deviceId: $id, first: 100) { edges { node { kind } } } }"""


async def logged_kinds(operator: GraphQLClient, device_id: str) -> list[str]:
    """The kinds of the device's events in the tenant's log, oldest first (through GraphQL)."""
    edges = (await operator.data(DEVICE_EVENTS, id=device_id))["events"]["edges"]
    return [edge["node"]["kind"] for edge in edges]
