"""Every input is handled, none crashes (API.md §9.6), on SQLite and PostgreSQL alike.

NUL and other control characters in logins and in every text argument of the
schema, cursors and ids out of range, deep or huge JSON, content types,
documents with several operations, validation errors, ``first: 0``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from tests.kit.accounts import ADMIN_LOGIN, ADMIN_PASSWORD, BOOTSTRAP_LOGIN, BOOTSTRAP_PASSWORD
from tests.kit.clients import GraphQLClient, basic, error_codes
from tests.kit.devices import CREDENTIALS_URL
from tests.kit.documents import REGISTER, REGISTERED_IDS, REGISTRATIONS
from tests.kit.registrations import register
from tests.kit.schema_arguments import text_slots


def raw_basic(login: bytes, password: bytes) -> str:
    return "Basic " + base64.b64encode(login + b":" + password).decode()


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def post_json(http: httpx.AsyncClient, body: bytes, content_type: str) -> httpx.Response:
    return await http.post(
        "/graphql",
        content=body,
        headers={"Authorization": basic(ADMIN_LOGIN, ADMIN_PASSWORD), "Content-Type": content_type},
    )


# ---------------------------------------------------------------- logins


@pytest.mark.parametrize(
    "login",
    [
        b"management/ad\x00min",
        b"manage\x00ment/admin",
        b"management/admin\x07",
        b"\x00",
        b"a\x1b/b",
    ],
)
async def test_control_characters_in_a_login_are_a_wrong_login(
    http: httpx.AsyncClient, login: bytes
) -> None:
    graphql = await http.post(
        "/graphql",
        json={"query": "{ me { username } }"},
        headers={"Authorization": raw_basic(login, ADMIN_PASSWORD.encode())},
    )
    assert graphql.status_code == 401
    assert error_codes(graphql.json()) == ["UNAUTHENTICATED"]
    device = await http.post(
        CREDENTIALS_URL,
        json={"id": "some-device"},
        headers={"Authorization": raw_basic(login, BOOTSTRAP_PASSWORD.encode())},
    )
    assert device.status_code == 401


async def test_nul_in_a_password_is_a_wrong_password(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql",
        json={"query": "{ me { username } }"},
        headers={"Authorization": raw_basic(ADMIN_LOGIN.encode(), b"admin-\x00password")},
    )
    assert response.status_code == 401


# ---------------------------------------------------------------- text arguments

NUL_SLOTS = text_slots("a\x00b")


@pytest.mark.parametrize("slot", NUL_SLOTS, ids=str)
async def test_nul_in_every_text_argument_is_invalid_input(admin: GraphQLClient, slot: Any) -> None:
    response = await admin.post(slot.document, slot.variables)
    assert response.status_code == 200, response.text
    body = response.json()
    assert error_codes(body) == ["INVALID_INPUT"], body
    assert body["data"] is None
    assert "NUL" in body["errors"][0]["message"]


async def test_nul_in_a_string_literal_is_invalid_input(admin: GraphQLClient) -> None:
    body = await admin('mutation { createGroup(name: "a\\u0000b") { id } }')
    assert error_codes(body) == ["INVALID_INPUT"]
    assert body["errors"][0]["locations"] == [{"line": 1, "column": 30}]
    assert (await admin.data("{ groups { totalCount } }"))["groups"]["totalCount"] == 0


@pytest.mark.parametrize("char", ["\x01", "\x1b", "\x7f", "\u2028", "\ud7ff"])
async def test_other_control_characters_in_every_text_argument_never_crash(
    admin: GraphQLClient, char: str
) -> None:
    for slot in text_slots(f"a{char}b"):
        response = await admin.post(slot.document, slot.variables)
        assert response.status_code == 200, (str(slot), response.text)
        assert "INTERNAL_SERVER_ERROR" not in error_codes(response.json()), (str(slot), char)


async def test_text_longer_than_any_column_in_every_argument_never_crashes(
    admin: GraphQLClient,
) -> None:
    for slot in text_slots("x" * 100_000):
        response = await admin.post(slot.document, slot.variables)
        assert response.status_code == 200, str(slot)
        codes = error_codes(response.json())
        assert "INTERNAL_SERVER_ERROR" not in codes, (str(slot), response.text[:300])


async def test_nul_in_a_device_request_is_not_found(http: httpx.AsyncClient) -> None:
    headers = {"Authorization": basic(BOOTSTRAP_LOGIN, BOOTSTRAP_PASSWORD)}
    for body in ({"id": "a\x00b"}, {"id": "\x00"}, {"id": "dev", "securityToken": "t\x00k"}):
        response = await http.post(CREDENTIALS_URL, json=body, headers=headers)
        assert response.status_code == 404, (body, response.text)
        assert response.json()["error"] == "devicecontrol/Not Found"


# ---------------------------------------------------------------- cursors and ids


@pytest.mark.parametrize(
    ("document", "after"),
    [
        ("{ registrations(after: $after) { totalCount } }", cursor("registration:a\x00b")),
        ("{ registrations(after: $after) { totalCount } }", cursor("registration:\x01")),
        ("{ groups(after: $after) { totalCount } }", cursor("group:99999999999999999999")),
        ("{ groups(after: $after) { totalCount } }", cursor(f"group:{2**63}")),
        ("{ events(after: $after) { edges { cursor } } }", cursor(f"event:management:{2**63}")),
        ("{ events(after: $after) { edges { cursor } } }", cursor("event:management:" + "9" * 40)),
        ("{ events(after: $after) { edges { cursor } } }", cursor("event:management:-1")),
    ],
)
async def test_cursors_out_of_range_are_invalid_input(
    admin: GraphQLClient, document: str, after: str
) -> None:
    query = "query($after: String) " + document
    assert error_codes(await admin(query, after=after)) == ["INVALID_INPUT"]


async def test_ids_out_of_range_find_nothing(admin: GraphQLClient) -> None:
    data = await admin.data(
        """query($big: ID!, $long: ID!) {
          g: group(id: $big) { id }
          r: registration(id: $long) { id }
        }""",
        big="9" * 40,
        long="x" * 100_000,
    )
    assert data == {"g": None, "r": None}
    body = await admin('mutation { accept(id: "' + "y" * 5000 + '") { __typename } }')
    assert body["data"]["accept"]["__typename"] == "NotFound"


# ---------------------------------------------------------------- JSON bodies


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"query": "{ me { username } }", "variables": ' + b'{"a": ' * 100 + b"1" + b"}" * 101,
        b'{"query": "{ me { username } }", "extensions": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    ],
    ids=["100000 deep", "variables 100 deep", "extensions 5000 deep"],
)
async def test_deeply_nested_json_is_400(http: httpx.AsyncClient, body: bytes) -> None:
    response = await post_json(http, body, "application/json")
    assert response.status_code == 400
    assert "nests deeper" in response.text


async def test_deeply_nested_json_to_the_device_endpoint_is_422(http: httpx.AsyncClient) -> None:
    response = await http.post(
        CREDENTIALS_URL,
        content=b"[" * 8000 + b"]" * 8000,
        headers={
            "Authorization": basic(BOOTSTRAP_LOGIN, BOOTSTRAP_PASSWORD),
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 422
    assert response.json()["error"] == "devicecontrol/Unprocessable Entity"


async def test_json_a_little_nested_is_fine(http: httpx.AsyncClient) -> None:
    body = {"query": "{ me { username } }", "extensions": {"a": [{"b": [[{"c": [1]}]]}]}}
    response = await post_json(http, json.dumps(body).encode(), "application/json")
    assert response.json() == {"data": {"me": {"username": "admin"}}}


async def test_a_number_too_long_for_python_is_400(http: httpx.AsyncClient) -> None:
    body = b'{"query": "{ me { username } }", "variables": {"n": ' + b"7" * 5000 + b"}}"
    response = await post_json(http, body, "application/json")
    assert response.status_code == 400


async def test_more_json_values_than_any_request_holds_is_413(http: httpx.AsyncClient) -> None:
    body = json.dumps({"query": "{ me { username } }", "variables": {"x": [0] * 150_000}})
    response = await post_json(http, body.encode(), "application/json")
    assert response.status_code == 413
    assert "JSON values" in response.text


# ---------------------------------------------------------------- content types


@pytest.mark.parametrize(
    "content_type", ["application/jsonx", "text/plain", "application/json-patch+json", "x"]
)
async def test_content_type_other_than_json_is_415(
    http: httpx.AsyncClient, content_type: str
) -> None:
    body = json.dumps({"query": "{ me { username } }"}).encode()
    response = await post_json(http, body, content_type)
    assert response.status_code == 415


@pytest.mark.parametrize(
    "content_type", ["application/json", "Application/JSON", "application/json; charset=utf-8"]
)
async def test_json_content_types_are_accepted(http: httpx.AsyncClient, content_type: str) -> None:
    body = json.dumps({"query": "{ me { username } }"}).encode()
    response = await post_json(http, body, content_type)
    assert response.json() == {"data": {"me": {"username": "admin"}}}


async def test_device_endpoint_matches_content_types_exactly(http: httpx.AsyncClient) -> None:
    response = await http.post(
        CREDENTIALS_URL,
        content=b'{"id": "dev"}',
        headers={
            "Authorization": basic(BOOTSTRAP_LOGIN, BOOTSTRAP_PASSWORD),
            "Content-Type": "application/jsonx",
        },
    )
    assert response.status_code == 415


# ---------------------------------------------------------------- documents

TWO_OPERATIONS = """
mutation Add { register(devices: [{id: "added-by-accident"}]) { __typename } }
query Who { me { username } }
"""


async def test_several_operations_without_operation_name_run_none(
    admin: GraphQLClient, http: httpx.AsyncClient
) -> None:
    body = await admin(TWO_OPERATIONS)
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "operationName" in body["errors"][0]["message"]
    assert (await admin.data(REGISTERED_IDS))["registrations"]["totalCount"] == 0

    named = await http.post(
        "/graphql",
        json={"query": TWO_OPERATIONS, "operationName": "Who"},
        headers=admin.headers(),
    )
    assert named.json() == {"data": {"me": {"username": "admin"}}}
    assert (await admin.data(REGISTERED_IDS))["registrations"]["totalCount"] == 0


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ nope }", {}),
        ('{ registrations(first: "ten") { totalCount } }', {}),
        ("{ registrations { edges { node { nope } } } }", {}),
        ("query($f: Int) { registrations(first: $f) { totalCount } }", {"f": "ten"}),
        ("query($f: Int!) { registrations(first: $f) { totalCount } }", {}),
        (
            "mutation($d: [RegisterDeviceInput!]!) { register(devices: $d) { __typename } }",
            {"d": [{"id": 5}]},
        ),
    ],
)
async def test_a_request_that_does_not_fit_the_schema_is_validation_failed(
    admin: GraphQLClient, query: str, variables: dict[str, Any]
) -> None:
    body = await admin(query, **variables)
    assert error_codes(body) == ["GRAPHQL_VALIDATION_FAILED"], body


async def test_a_syntax_error_is_parse_failed(admin: GraphQLClient) -> None:
    assert error_codes(await admin("{ me { username ")) == ["GRAPHQL_PARSE_FAILED"]


async def test_a_document_over_the_length_limit_is_refused_before_it_is_read(
    admin: GraphQLClient,
) -> None:
    query = '{ tenantOption(category: "' + "c" * 300_000 + '", key: "k") { value } }'
    body = await admin(query)
    assert error_codes(body) == ["GRAPHQL_PARSE_FAILED"]
    assert "characters" in body["errors"][0]["message"]


async def test_a_list_beyond_the_limit_is_refused_before_its_items_are_read(
    admin: GraphQLClient,
) -> None:
    # The last item does not even have the input's type: had the list been coerced item
    # by item, that would be the error.
    devices: list[Any] = [{"id": f"d{n}"} for n in range(20_000)]
    devices[-1] = {"id": 5}
    body = await admin(REGISTER, devices=devices)
    assert error_codes(body) == ["INVALID_INPUT"]
    assert "$devices has 20000 items" in body["errors"][0]["message"]
    assert (await admin.data(REGISTERED_IDS))["registrations"]["totalCount"] == 0


async def test_too_many_variables_are_refused(admin: GraphQLClient) -> None:
    variables = {f"v{n}": n for n in range(500)}
    assert error_codes(await admin("{ me { username } }", **variables)) == ["INVALID_INPUT"]


# ---------------------------------------------------------------- first: 0


async def test_first_zero_answers_count_and_page_info_without_edges(
    admin: GraphQLClient,
) -> None:
    await register(admin, {"id": "zero-1"}, {"id": "zero-2"})
    page = (await admin.data(REGISTRATIONS, first=0))["registrations"]
    assert page == {
        "totalCount": 2,
        "pageInfo": {"hasNextPage": True, "endCursor": None},
        "edges": [],
    }
    events = await admin.data("{ events(first: 0) { edges { cursor } pageInfo { hasNextPage } } }")
    assert events["events"] == {"edges": [], "pageInfo": {"hasNextPage": True}}
    assert error_codes(await admin(REGISTRATIONS, first=-1)) == ["INVALID_INPUT"]
