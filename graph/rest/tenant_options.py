"""``/tenant/options``: the tenant's options as Cumulocity's clients read and write them (§8.2).

The same service functions as GraphQL's ``tenantOption(s)``, ``setTenantOption``
and ``deleteTenantOption``, so every value passes the one option table
(``resolvers/known_options.py``) and a refused one answers 422
``options/Invalid Option`` with the message ``InvalidOption`` carries.
Category and key come from the raw path, URL-decoded one segment each.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from graph.http.access import UserLogin
from graph.rest.cumulocity import (
    Paths,
    answer,
    base_url,
    domain_error,
    error_body,
    json_object,
    not_found,
    page_body,
    page_parameters,
    path_parts,
    query_text,
    string_field,
    validation_error,
)
from graph.services import Services
from models.options import TenantOption
from resolvers import errors, options
from resolvers.permissions import Permission

PATH = "/tenant/options"
DOMAIN = "options"
KIND = "option"
COLLECTION_KIND = "optioncollection"


def representation(option: TenantOption, base: str) -> dict[str, Any]:
    category, key = quote(option.category, safe=""), quote(option.key, safe="")
    return {
        "category": option.category,
        "key": option.key,
        "value": option.value,
        "self": f"{base}{PATH}/{category}/{key}",
    }


def _option_name(request: Request) -> tuple[str, str | None]:
    """``(category, key)`` of the path; ``key`` is ``None`` for a whole category."""
    parts = path_parts(request, PATH)
    if len(parts) == 1:
        return parts[0], None
    if len(parts) == 2:
        return parts[0], parts[1]
    raise not_found(DOMAIN, "no such option path: use /tenant/options/{category}/{key}")


def _values(body: dict[str, Any]) -> dict[str, str]:
    values = {}
    for key, value in body.items():
        if not isinstance(value, str):
            raise validation_error(f"the value of {key[:128]!r} must be a string")
        values[key] = value
    return values


def routes(services: Services) -> list[BaseRoute]:
    public_url = services.settings.public_url
    paths = Paths(services.gate)
    read = UserLogin(Permission.OPTION_MANAGEMENT_READ)
    admin = UserLogin(Permission.OPTION_MANAGEMENT_ADMIN)

    def one(request: Request, option: TenantOption, status: int = 200) -> JSONResponse:
        return answer(request, representation(option, base_url(request, public_url)), KIND, status)

    async def set_one(request: Request, category: str, key: str, value: str) -> TenantOption:
        try:
            return await options.set_option(request.state.actor, category, key, value)
        except errors.DomainError as error:
            raise domain_error(error, DOMAIN) from None

    async def list_options(request: Request) -> Response:
        category = query_text(request, "category")
        page = await options.option_page(request.state.actor, page_parameters(request), category)
        base = base_url(request, public_url)
        items = [representation(o, base) for o in page.items]
        body = page_body(request, page, "options", items, public_url)
        return answer(request, body, COLLECTION_KIND)

    async def create_option(request: Request) -> Response:
        body = await json_object(request)
        category, key = string_field(body, "category"), string_field(body, "key")
        value = string_field(body, "value")
        assert category is not None and key is not None and value is not None
        return one(request, await set_one(request, category, key, value), 201)

    async def read_option(request: Request) -> Response:
        category, key = _option_name(request)
        actor = request.state.actor
        if key is None:
            found = await options.list_options(actor, category)
            return answer(request, {o.key: o.value for o in found}, KIND)
        option = await options.get_option(actor, category, key)
        if option is None:
            raise not_found(DOMAIN, f"no option {key[:128]!r} in category {category[:128]!r}")
        return one(request, option)

    async def update_option(request: Request) -> Response:
        category, key = _option_name(request)
        body = await json_object(request)
        if key is None:
            try:
                stored = await options.set_category(request.state.actor, category, _values(body))
            except errors.DomainError as error:
                raise domain_error(error, DOMAIN) from None
            return answer(request, {o.key: o.value for o in stored}, KIND)
        for name, expected in (("category", category), ("key", key)):
            given = body.get(name)
            if given is not None and given != expected:
                raise validation_error(f"the {name} in the body is not the {name} in the path")
        value = string_field(body, "value")
        assert value is not None
        return one(request, await set_one(request, category, key, value))

    async def delete_option(request: Request) -> Response:
        category, key = _option_name(request)
        if key is None:
            return error_body(
                405, "general/Method Not Allowed", "delete options one by one: category and key"
            )
        if not await options.delete_option(request.state.actor, category, key):
            raise not_found(DOMAIN, f"no option {key[:128]!r} in category {category[:128]!r}")
        return Response(status_code=204)

    named = f"{PATH}/{{name:path}}"
    return [
        *paths.route(PATH, list_options, access=read, methods=["GET"]),
        *paths.route(PATH, create_option, access=admin, methods=["POST"]),
        *paths.route(named, read_option, access=read, methods=["GET"], slash=False),
        *paths.route(named, update_option, access=admin, methods=["PUT"], slash=False),
        *paths.route(named, delete_option, access=admin, methods=["DELETE"], slash=False),
        *paths.other_methods(PATH),
        *paths.other_methods(named, slash=False),
    ]
