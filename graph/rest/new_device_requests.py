"""``/devicecontrol/newDeviceRequests``: Cumulocity's device requests for operators (API.md §8.1).

A thin adapter over the same service functions as GraphQL's ``registrations``,
``register``, ``accept``, ``acceptAll`` and ``removeRegistration``, so every rule
of §5 holds here and every change writes its events. A NewDeviceRequest is a
registration as Cumulocity's clients read it; no token or hash ever appears.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from graph.http.access import UserLogin
from graph.rest.cumulocity import (
    Paths,
    answer,
    base_url,
    domain_error,
    json_object,
    not_found,
    page_body,
    page_parameters,
    path_parts,
    string_field,
    timestamp,
    validation_error,
)
from graph.services import Services
from models.registrations import Registration, RegistrationStatus
from resolvers import errors, registrations
from resolvers.permissions import Permission

PATH = "/devicecontrol/newDeviceRequests"
DOMAIN = "devicecontrol"
KIND = "newdevicerequest"
COLLECTION_KIND = "newdevicerequestcollection"
#: What a PUT body may hold: the change (status), its token, and the id it names.
_PUT_FIELDS = {"status", "securityToken", "id"}


def representation(registration: Registration, base: str) -> dict[str, Any]:
    """A registration as a NewDeviceRequest."""
    body: dict[str, Any] = {
        "id": registration.device_id,
        "status": registration.status.value,
        "tenantId": registration.tenant_id,
        "owner": registration.owner,
        "creationTime": timestamp(registration.created_at),
    }
    if registration.group_id is not None:
        body["groupId"] = str(registration.group_id)
    body["self"] = f"{base}{PATH}/{quote(registration.device_id, safe='')}"
    return body


def _device_id(request: Request) -> str:
    parts = path_parts(request, PATH)
    if len(parts) != 1:
        raise not_found(DOMAIN, "no such device request")
    return parts[0]


def _token(body: dict[str, Any], device_id: str) -> str | None:
    """The security token of an accepting PUT, or a 422 for any other change."""
    others = sorted(set(body) - _PUT_FIELDS)
    if others:
        raise validation_error(
            f"only the status of a device request can be changed, not {', '.join(others)}"
        )
    if "id" in body and str(body["id"]) != device_id:
        raise validation_error("the id in the body is not the id in the path")
    if body.get("status") != RegistrationStatus.ACCEPTED.value:
        raise validation_error(
            'a device request can only be accepted: send {"status": "ACCEPTED"} '
            'and, where the device used one, "securityToken"'
        )
    token = body.get("securityToken")
    if token is not None and not isinstance(token, str):
        raise validation_error('"securityToken" must be a string')
    return token


def routes(services: Services) -> list[BaseRoute]:
    public_url = services.settings.public_url
    paths = Paths(services.gate)
    read = UserLogin(Permission.DEVICE_CONTROL_READ)
    admin = UserLogin(Permission.DEVICE_CONTROL_ADMIN)

    async def list_requests(request: Request) -> Response:
        page = await registrations.registration_page(request.state.actor, page_parameters(request))
        base = base_url(request, public_url)
        items = [representation(r, base) for r in page.items]
        body = page_body(request, page, "newDeviceRequests", items, public_url)
        return answer(request, body, COLLECTION_KIND)

    async def create_request(request: Request) -> Response:
        body = await json_object(request)
        device = registrations.DeviceToRegister(
            id=string_field(body, "id") or "",
            group_id=string_field(body, "groupId", required=False),
            tenant_id=string_field(body, "tenantId", required=False),
        )
        try:
            (created,) = await registrations.register(request.state.actor, [device])
        except errors.DomainError as error:
            raise domain_error(error, DOMAIN, referenced=True) from None
        return answer(request, representation(created, base_url(request, public_url)), KIND, 201)

    async def get_request(request: Request) -> Response:
        device_id = _device_id(request)
        found = await registrations.get_registration(request.state.actor, device_id)
        if found is None:
            raise not_found(DOMAIN, f"no device request with id {device_id[:255]!r}")
        return answer(request, representation(found, base_url(request, public_url)), KIND)

    async def accept_request(request: Request) -> Response:
        device_id = _device_id(request)
        token = _token(await json_object(request), device_id)
        try:
            accepted = await registrations.accept(request.state.actor, device_id, token)
        except errors.DomainError as error:
            raise domain_error(error, DOMAIN) from None
        return answer(request, representation(accepted, base_url(request, public_url)), KIND)

    async def delete_request(request: Request) -> Response:
        device_id = _device_id(request)
        try:
            await registrations.remove(request.state.actor, device_id)
        except errors.DomainError as error:
            raise domain_error(error, DOMAIN) from None
        return Response(status_code=204)

    async def accept_all(request: Request) -> Response:
        outcome = await registrations.accept_all(request.state.actor)
        results: list[dict[str, Any]] = [
            {"id": r.device_id, "successful": True} for r in outcome.accepted
        ]
        results += [
            {"id": p.id, "successful": False, "error": p.message} for p in outcome.not_accepted
        ]
        results.sort(key=lambda result: str(result["id"]))
        return answer(request, results, COLLECTION_KIND)

    async def limit(request: Request) -> Response:
        # Gatehouse sets no limit on the number of devices.
        return answer(request, {"isReached": False}, KIND)

    one = f"{PATH}/{{id:path}}"
    return [
        *paths.route(PATH, list_requests, access=read, methods=["GET"]),
        *paths.route(PATH, create_request, access=admin, methods=["POST"]),
        *paths.route(f"{PATH}/acceptAll", accept_all, access=admin, methods=["POST"]),
        *paths.route(f"{PATH}/limit", limit, access=read, methods=["GET"]),
        *paths.route(one, get_request, access=read, methods=["GET"], slash=False),
        *paths.route(one, accept_request, access=admin, methods=["PUT"], slash=False),
        *paths.route(one, delete_request, access=admin, methods=["DELETE"], slash=False),
        *paths.other_methods(PATH, f"{PATH}/acceptAll", f"{PATH}/limit"),
        *paths.other_methods(one, slash=False),
    ]
