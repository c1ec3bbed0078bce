"""Guards of ``/graphql``: depth, aliases, tokens, suggestions, introspection, GraphiQL,
and masking of unexpected errors."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import resolvers.options
from graph.settings import Settings
from tests.kit.clients import GraphQLClient, app_client, error_codes

INTROSPECTION = "{ __schema { queryType { name } } }"


def nested_parents(levels: int) -> str:
    return '{ group(id: "1") { ' + "parent { " * levels + "id" + " }" * levels + " } }"


def assert_refused(body: dict[str, Any]) -> None:
    assert body["errors"], body
    assert body.get("data") is None


async def test_deeply_nested_query_is_refused(admin: GraphQLClient) -> None:
    body = await admin(nested_parents(15))
    assert_refused(body)
    assert "depth" in body["errors"][0]["message"]


async def test_query_nested_within_the_limit_is_served(admin: GraphQLClient) -> None:
    # group + 8 parents + id: 10 levels, the default limit.
    assert await admin.data(nested_parents(8)) == {"group": None}


async def test_more_than_30_aliases_are_refused(admin: GraphQLClient) -> None:
    body = await admin("{ " + " ".join(f"a{i}: me {{ username }}" for i in range(31)) + " }")
    assert_refused(body)


async def test_30_aliases_are_served(admin: GraphQLClient) -> None:
    data = await admin.data("{ " + " ".join(f"a{i}: me {{ username }}" for i in range(30)) + " }")
    assert len(data) == 30


async def test_document_over_the_token_limit_is_refused(admin: GraphQLClient) -> None:
    body = await admin("{ me { " + "username " * 6000 + "} }")
    assert_refused(body)


async def test_misspelled_field_gets_no_suggestion(admin: GraphQLClient) -> None:
    for document in ("{ mee }", "{ me { usernam } }", "{ groupz { totalCount } }"):
        body = await admin(document)
        assert_refused(body)
        assert all("Did you mean" not in e["message"] for e in body["errors"]), body


async def test_no_suggestions_reveal_the_schema_when_introspection_is_off(db: str) -> None:
    misspelled = {
        "argument": "{ groups(frist: 1) { totalCount } }",
        "type": '{ tenantOption(category: "a", key: "b") { ... on TenantOptio { key } } }',
        "enum value": 'mutation { createUser(username: "x", password: "xxxxxxxx", '
        "permissions: [INVENTORY_REED]) { username } }",
        "variable type": "query($p: Permision) { me { username } }",
    }
    async with app_client(Settings(introspection=False)) as http:
        client = GraphQLClient(http, "management/admin", "admin-password")
        leaks = []
        for case, document in misspelled.items():
            body = await client(document)
            assert_refused(body)
            leaks += [case for e in body["errors"] if "Did you mean" in e["message"]]
    assert leaks == []


async def test_introspection_works_by_default(admin: GraphQLClient) -> None:
    assert await admin.data(INTROSPECTION) == {"__schema": {"queryType": {"name": "Query"}}}


async def test_introspection_can_be_switched_off(db: str) -> None:
    async with app_client(Settings(introspection=False)) as http:
        client = GraphQLClient(http, "management/admin", "admin-password")
        assert_refused(await client(INTROSPECTION))
        assert_refused(await client('{ __type(name: "Query") { name } }'))
        # Ordinary queries (and __typename) still work.
        assert await client.data("{ __typename me { username } }") == {
            "__typename": "Query",
            "me": {"username": "admin"},
        }


async def test_graphiql_can_be_switched_off(db: str) -> None:
    async with app_client(Settings(graphiql=False)) as http:
        client = GraphQLClient(http, "management/admin", "admin-password")
        response = await http.get("/graphql", headers={"Accept": "text/html", **client.headers()})
        assert not response.headers.get("content-type", "").startswith("text/html")
        assert "graphiql" not in response.text.lower()
        # The API itself is still served.
        assert (await client.data("{ me { username } }"))["me"]["username"] == "admin"


async def test_graphiql_off_still_asks_for_credentials(db: str) -> None:
    async with app_client(Settings(graphiql=False)) as http:
        response = await http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="gatehouse"'


async def test_unexpected_error_is_masked_and_logged_with_a_request_id(
    admin: GraphQLClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret detail")

    # graph/graphql/options.py calls options.list_options through the module, so this reaches it.
    monkeypatch.setattr(resolvers.options, "list_options", broken)
    caplog.set_level(logging.INFO)
    response = await admin.post("{ tenantOptions { key } }")
    assert response.status_code == 200
    assert "secret detail" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    request_id = error["extensions"]["requestId"]
    assert request_id
    assert request_id in error["message"]
    logged = [r for r in caplog.records if r.exc_info and request_id in r.getMessage()]
    assert len(logged) == 1
    assert logged[0].levelno == logging.ERROR
    exc_info = logged[0].exc_info
    assert exc_info is not None
    assert isinstance(exc_info[1], RuntimeError)
    assert "secret detail" in caplog.text
    assert "Traceback" in caplog.text


async def test_request_ids_differ_between_requests(
    admin: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret detail")

    monkeypatch.setattr(resolvers.options, "list_options", broken)
    ids = set()
    for _ in range(3):
        body = await admin("{ tenantOptions { key } }")
        ids.add(body["errors"][0]["extensions"]["requestId"])
    assert len(ids) == 3


async def test_expected_errors_keep_their_message_and_code(admin: GraphQLClient) -> None:
    body = await admin("{ groups(first: -1) { totalCount } }")
    assert error_codes(body) == ["INVALID_INPUT"]
    assert "first" in body["errors"][0]["message"]
    assert "requestId" not in body["errors"][0]["extensions"]
