"""RabbitMQ's ``rabbitmq_auth_backend_http`` (API.md §6.1): ``/auth/rabbitmq/<check>``.

The checks are ``user``, ``vhost``, ``resource`` and ``topic``.

Parameters come as a form body (``auth_http.http_method = post``) or a query
string (GET); names beyond those read here are ignored. Every answer is 200
``text/plain`` with the body exactly ``allow`` or ``deny`` (RabbitMQ 3.10 reads
``allow\\n`` from the vhost path as a broken answer), except the 403 that
callers outside the internal networks get.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute

from graph.callbacks.params import Malformed, form_or_query
from graph.http.access import InternalNetwork
from graph.http.refusals import RABBITMQ
from graph.services import Services
from resolvers.device_auth import Verdict
from resolvers.device_logins import DeviceLogins

Check = Callable[[DeviceLogins, dict[str, str]], Awaitable[Verdict]]


def _client_id(found: dict[str, str]) -> str | None:
    # ``resource`` and ``vhost`` send ``client_id``; ``topic`` sends ``variable_map.client_id``.
    return found.get("client_id", found.get("variable_map.client_id"))


async def _user(devices: DeviceLogins, found: dict[str, str]) -> Verdict:
    return await devices.login(
        "rabbitmq", found.get("username", ""), found.get("password", ""), _client_id(found)
    )


async def _vhost(devices: DeviceLogins, found: dict[str, str]) -> Verdict:
    return await devices.rabbitmq_vhost(
        found.get("username", ""), found.get("vhost", ""), _client_id(found)
    )


async def _resource(devices: DeviceLogins, found: dict[str, str]) -> Verdict:
    return await devices.rabbitmq_resource(
        found.get("username", ""),
        _client_id(found),
        found.get("vhost", ""),
        found.get("resource", ""),
        found.get("name", ""),
        found.get("permission", ""),
    )


async def _topic(devices: DeviceLogins, found: dict[str, str]) -> Verdict:
    return await devices.rabbitmq_topic(
        found.get("username", ""),
        _client_id(found),
        found.get("vhost", ""),
        found.get("name", ""),
        found.get("permission", ""),
        found.get("routing_key", ""),
    )


CHECKS: dict[str, Check] = {"user": _user, "vhost": _vhost, "resource": _resource, "topic": _topic}


def _answer(allowed: bool) -> Response:
    return PlainTextResponse("allow" if allowed else "deny")


def routes(services: Services) -> list[BaseRoute]:
    devices = services.device_logins

    def endpoint(check: Check) -> Callable[[Request], Awaitable[Response]]:
        async def answer(request: Request) -> Response:
            try:
                found = await form_or_query(request)
            except Malformed:
                return _answer(False)
            return _answer((await check(devices, found)).allowed)

        return answer

    return [
        services.gate.route(
            f"/auth/rabbitmq/{name}",
            endpoint(check),
            access=InternalNetwork(),
            refusal=RABBITMQ,
            methods=["GET", "POST"],
        )
        for name, check in CHECKS.items()
    ]
