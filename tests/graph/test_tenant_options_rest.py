"""``/tenant/options`` row by row (API.md §8.2), and GraphQL's ``deleteTenantOption``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from models.options import TenantOption
from tests.kit.accounts import make_tenant, make_user
from tests.kit.clients import GraphQLClient, error_codes
from tests.kit.devices import TOKEN, pending, poll
from tests.kit.options import (
    MAX_FAILED_ATTEMPTS_KEY,
    REGISTRATION_CATEGORY,
    TOKEN_POLICY_KEY,
    set_option,
    token_policy,
)
from tests.kit.registrations import accept
from tests.kit.rest import OPTION_TYPE, OPTIONS, error_of, rest

POLICY_PATH = f"{OPTIONS}/{REGISTRATION_CATEGORY}/{TOKEN_POLICY_KEY}"
DELETE = """
mutation($category: String!, $key: String!) { deleteTenantOption(category: $category, key: $key) }
"""


def option_path(category: str, key: str | None = None) -> str:
    path = f"{OPTIONS}/{quote(category, safe='')}"
    return path if key is None else f"{path}/{quote(key, safe='')}"


async def stored(tenant_id: str) -> dict[tuple[str, str], str]:
    rows = await TenantOption.filter(tenant_id=tenant_id)
    return {(r.category, r.key): r.value for r in rows}


async def test_post_creates_an_option_that_graphql_reads(admin: GraphQLClient) -> None:
    body = {"category": REGISTRATION_CATEGORY, "key": TOKEN_POLICY_KEY, "value": "REQUIRED"}
    response = await rest(admin).post(OPTIONS, body, headers={"Content-Type": OPTION_TYPE})
    assert response.status_code == 201, response.text
    assert response.json() == body | {"self": f"http://gatehouse.test{POLICY_PATH}"}
    assert await token_policy(admin) == "REQUIRED"


async def test_the_policy_set_over_rest_rules_accept(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await pending(http, admin, "SN-quiet")  # connected without a token
    response = await rest(admin).put(POLICY_PATH, {"value": "REQUIRED"})
    assert response.status_code == 200
    result = await accept(admin, "SN-quiet")
    assert result["__typename"] == "SecurityTokenMismatch"
    assert (await poll(http, "SN-quiet", token=TOKEN)).status_code == 404


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (TOKEN_POLICY_KEY, "SOMETIMES"),
        (MAX_FAILED_ATTEMPTS_KEY, "0"),
        (MAX_FAILED_ATTEMPTS_KEY, "101"),
    ],
)
async def test_a_refused_value_is_422_with_the_invalid_option_message(
    admin: GraphQLClient, key: str, value: str
) -> None:
    graphql = await set_option(admin, REGISTRATION_CATEGORY, key, value)
    assert graphql["__typename"] == "InvalidOption"
    client = rest(admin)
    for response in (
        await client.post(OPTIONS, {"category": REGISTRATION_CATEGORY, "key": key, "value": value}),
        await client.put(option_path(REGISTRATION_CATEGORY, key), {"value": value}),
        await client.put(option_path(REGISTRATION_CATEGORY), {key: value}),
    ):
        assert response.status_code == 422
        assert error_of(response) == "options/Invalid Option"
        assert response.json()["message"] == graphql["message"]
    assert await stored("management") == {}


async def test_get_of_one_option_and_404_for_a_missing_one(admin: GraphQLClient) -> None:
    await set_option(admin, "app/ui", "colour:main", "red")
    path = option_path("app/ui", "colour:main")
    assert path == "/tenant/options/app%2Fui/colour%3Amain"
    for p in (path, path + "/"):
        response = await rest(admin).get(p)
        assert response.status_code == 200
        assert response.json() == {
            "category": "app/ui",
            "key": "colour:main",
            "value": "red",
            "self": f"http://gatehouse.test{path}",
        }
    missing = await rest(admin).get(option_path("app/ui", "size"))
    assert missing.status_code == 404
    assert error_of(missing) == "options/Not Found"


async def test_a_category_reads_and_writes_as_one_object(admin: GraphQLClient) -> None:
    client = rest(admin)
    assert (await client.get(option_path("app"))).json() == {}
    response = await client.put(option_path("app") + "/", {"colour": "red", "size": "L"})
    assert (response.status_code, response.json()) == (200, {"colour": "red", "size": "L"})
    response = await client.put(option_path("app"), {"size": "XL"})
    assert response.json() == {"colour": "red", "size": "XL"}
    assert (await client.get(option_path("app"))).json() == {"colour": "red", "size": "XL"}


async def test_a_category_write_is_all_or_nothing(admin: GraphQLClient) -> None:
    response = await rest(admin).put(
        option_path(REGISTRATION_CATEGORY),
        {MAX_FAILED_ATTEMPTS_KEY: "3", TOKEN_POLICY_KEY: "NEVER"},
    )
    assert response.status_code == 422
    assert await stored("management") == {}
    response = await rest(admin).put(option_path("app"), {"colour": "red", "size": 3})
    assert (response.status_code, error_of(response)) == (422, "undefined/validationError")
    assert await stored("management") == {}


async def test_put_of_one_option_takes_the_body_cumulocity_clients_send(
    admin: GraphQLClient,
) -> None:
    client = rest(admin)
    body = {"category": REGISTRATION_CATEGORY, "key": TOKEN_POLICY_KEY, "value": "IGNORED"}
    response = await client.put(POLICY_PATH, body)
    assert response.status_code == 200, response.text
    assert response.json()["value"] == "IGNORED"
    assert await token_policy(admin) == "IGNORED"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"value": ["REQUIRED"]},
        {"category": "other", "value": "REQUIRED"},
        {"key": "other", "value": "REQUIRED"},
    ],
)
async def test_put_of_one_option_refuses_a_body_it_cannot_use(
    admin: GraphQLClient, body: dict[str, Any]
) -> None:
    response = await rest(admin).put(POLICY_PATH, body)
    assert response.status_code == 422
    assert error_of(response) == "undefined/validationError"
    assert await stored("management") == {}


async def test_delete_answers_204_then_404_and_the_default_holds_again(
    admin: GraphQLClient,
) -> None:
    await set_option(admin, REGISTRATION_CATEGORY, TOKEN_POLICY_KEY, "REQUIRED")
    response = await rest(admin).delete(POLICY_PATH)
    assert (response.status_code, response.content) == (204, b"")
    assert await token_policy(admin) == "OPTIONAL"
    again = await rest(admin).delete(POLICY_PATH + "/")
    assert (again.status_code, error_of(again)) == (404, "options/Not Found")
    whole = await rest(admin).delete(option_path(REGISTRATION_CATEGORY))
    assert whole.status_code == 405


async def test_delete_tenant_option_in_graphql(admin: GraphQLClient) -> None:
    await set_option(admin, "app", "colour", "red")
    assert (await admin.data(DELETE, category="app", key="colour")) == {"deleteTenantOption": True}
    assert (await admin.data(DELETE, category="app", key="colour")) == {"deleteTenantOption": False}
    reader = await make_user(admin, "reader", ["OPTION_MANAGEMENT_READ"])
    await set_option(admin, "app", "colour", "blue")
    body = await reader(DELETE, category="app", key="colour")
    assert error_codes(body) == ["FORBIDDEN"]
    assert body["data"] is None
    assert await stored("management") == {("app", "colour"): "blue"}


async def test_list_pages_through_every_option_in_order(admin: GraphQLClient) -> None:
    for n in range(7):
        await set_option(admin, f"cat-{n % 2}", f"key-{n}", str(n))
    client = rest(admin)
    seen = []
    page = 1
    while True:
        body = (await client.get(OPTIONS, pageSize=3, currentPage=page)).json()
        if not body["options"]:
            break
        seen += [(o["category"], o["key"]) for o in body["options"]]
        assert ("next" in body) == (page < 3)
        page += 1
    assert seen == sorted(seen)
    assert len(seen) == 7
    assert page == 4
    filtered = (await client.get(OPTIONS, category="cat-1", pageSize=100)).json()
    assert [o["key"] for o in filtered["options"]] == ["key-1", "key-3", "key-5"]


ROUTES = [
    ("GET", OPTIONS, None, "OPTION_MANAGEMENT_READ"),
    (
        "POST",
        OPTIONS,
        {"category": "app", "key": "colour", "value": "x"},
        "OPTION_MANAGEMENT_ADMIN",
    ),
    ("GET", option_path("app"), None, "OPTION_MANAGEMENT_READ"),
    ("PUT", option_path("app"), {"colour": "x"}, "OPTION_MANAGEMENT_ADMIN"),
    ("GET", option_path("app", "colour"), None, "OPTION_MANAGEMENT_READ"),
    ("PUT", option_path("app", "colour"), {"value": "x"}, "OPTION_MANAGEMENT_ADMIN"),
    ("DELETE", option_path("app", "colour"), None, "OPTION_MANAGEMENT_ADMIN"),
]


@pytest.mark.parametrize(("method", "path", "body", "permission"), ROUTES)
async def test_a_caller_without_the_permission_gets_403_and_changes_nothing(
    admin: GraphQLClient, method: str, path: str, body: Any, permission: str
) -> None:
    await set_option(admin, "app", "colour", "red")
    everything_else = [
        "DEVICE_CONTROL_READ",
        "DEVICE_CONTROL_ADMIN",
        "INVENTORY_READ",
        "INVENTORY_ADMIN",
        "OPTION_MANAGEMENT_READ",
        "OPTION_MANAGEMENT_ADMIN",
        "USER_MANAGEMENT_ADMIN",
    ]
    lacking = await make_user(admin, "lacking", [p for p in everything_else if p != permission])
    response = await rest(lacking).request(method, path, body)
    assert response.status_code == 403
    assert error_of(response) == "security/Forbidden"
    assert await stored("management") == {("app", "colour"): "red"}


async def test_options_stay_in_their_tenant(admin: GraphQLClient) -> None:
    acme = await make_tenant(admin, "acme")
    await set_option(acme, "app", "colour", "acme-red")
    client = rest(admin)
    assert (await client.get(option_path("app", "colour"))).status_code == 404
    assert (await client.get(option_path("app"))).json() == {}
    assert (await client.get(OPTIONS, pageSize=100)).json()["options"] == []
    assert (await client.delete(option_path("app", "colour"))).status_code == 404
    assert (await client.put(option_path("app", "colour"), {"value": "mine"})).status_code == 200
    assert await stored("acme") == {("app", "colour"): "acme-red"}
    assert await stored("management") == {("app", "colour"): "mine"}


async def test_nul_characters_in_paths_and_parameters_are_refused(admin: GraphQLClient) -> None:
    client = rest(admin)
    for response in (
        await client.get(OPTIONS, category="app\x00"),
        await client.get(OPTIONS + "/app%00/colour"),
        await client.put(OPTIONS + "/app%00", {"colour": "red"}),
        await client.delete(OPTIONS + "/app/colour%00"),
    ):
        assert response.status_code == 422, response.text
        assert error_of(response) == "undefined/validationError"
    assert await stored("management") == {}
