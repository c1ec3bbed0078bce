"""``/auth/http``: HTTP gateways ask whether a request carries a device's credentials (API.md §6.4).

For nginx ``auth_request``, Traefik ForwardAuth and Envoy's external
authorization: any method, the device's ``Authorization: Basic ...`` (as the
gateway forwards it). Valid credentials answer 200 with an empty body and
``X-Device-Id``, ``X-Tenant-Id`` and ``X-Username``, which the gateway passes on
to the services behind it (values are UTF-8, as device ids may be); anything
else is an empty 401 with ``WWW-Authenticate: Basic realm="gatehouse"``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from graph.http.access import DeviceCredentials, InternalNetwork
from graph.http.refusals import GATEWAY
from graph.services import Services
from resolvers.device_auth import DeviceLogin

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


async def admitted(request: Request) -> Response:
    device: DeviceLogin = request.state.device
    response = Response(status_code=200, headers={"Cache-Control": "no-store"})
    for name, value in (
        (b"x-device-id", device.device_id),
        (b"x-tenant-id", device.tenant_id),
        (b"x-username", device.username),
    ):
        response.raw_headers.append((name, value.encode("utf-8")))
    return response


def routes(services: Services) -> list[BaseRoute]:
    return [
        services.gate.route(
            "/auth/http",
            admitted,
            access=InternalNetwork(then=DeviceCredentials()),
            refusal=GATEWAY,
            methods=METHODS,
        )
    ]
