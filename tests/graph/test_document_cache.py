"""A repeated operation text skips parsing and validation, and answers exactly as before.

``graph/graphql/document_cache.py`` keeps the documents of operation texts that
parsed and validated cleanly. Everything that depends on more than the text is
still checked on every request: the request guards (variables, operation
name), permissions, and any error, which is found and answered again each time.
"""

from __future__ import annotations

from typing import Any

import pytest
import strawberry.schema.schema as strawberry_schema
from graphql import parse

from graph.graphql import document_cache
from graph.graphql.document_cache import Documents
from tests.kit.accounts import bootstrap_client
from tests.kit.clients import GraphQLClient, error_codes
from tests.kit.documents import REGISTRATIONS
from tests.kit.registrations import register

TWO_OPERATIONS = "query A { registrations { totalCount } } query B { groups { totalCount } }"


async def test_a_repeated_operation_answers_as_the_first_time(
    admin: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await register(admin, {"id": "cached-1"}, {"id": "cached-2"})
    validated: list[object] = []
    validate = strawberry_schema.validate_document

    def counted(*args: Any) -> Any:
        validated.append(args[1])
        return validate(*args)

    monkeypatch.setattr(strawberry_schema, "validate_document", counted)
    first = await admin(REGISTRATIONS, first=1)
    again = await admin(REGISTRATIONS, first=1)
    other_variables = await admin(REGISTRATIONS, first=2)
    assert len(validated) == 1  # the same text is validated once, whatever its variables
    assert first == again
    assert [e["node"]["id"] for e in first["data"]["registrations"]["edges"]] == ["cached-1"]
    assert len(other_variables["data"]["registrations"]["edges"]) == 2


async def test_the_guards_still_refuse_a_known_operation_for_its_variables(
    admin: GraphQLClient,
) -> None:
    assert "errors" not in await admin(REGISTRATIONS, after=None)
    refused = await admin(REGISTRATIONS, after="a\x00b")
    assert error_codes(refused) == ["INVALID_INPUT"]
    assert "NUL" in refused["errors"][0]["message"]


async def test_a_known_document_still_needs_its_operation_name(admin: GraphQLClient) -> None:
    named = await admin.http.post(
        "/graphql",
        json={"query": TWO_OPERATIONS, "operationName": "A"},
        headers=admin.headers(),
    )
    assert "errors" not in named.json()
    unnamed = await admin(TWO_OPERATIONS)
    assert error_codes(unnamed) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "operationName" in unnamed["errors"][0]["message"]


async def test_an_invalid_document_is_refused_every_time(admin: GraphQLClient) -> None:
    query = "{ registrations { totalCount noSuchField } }"
    answers = [await admin(query) for _ in range(3)]
    assert answers[0] == answers[1] == answers[2]
    assert error_codes(answers[0]) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_each_caller_is_still_checked_for_permission(admin: GraphQLClient) -> None:
    assert "errors" not in await admin(REGISTRATIONS)
    refused = await bootstrap_client(admin)(REGISTRATIONS)
    assert error_codes(refused) == ["FORBIDDEN"]


def test_the_cache_keeps_few_short_texts_dropping_the_least_recently_used() -> None:
    documents = Documents(size=2)
    for text in ("{ a }", "{ b }"):
        documents.keep(text, parse(text))
    assert documents.get("{ a }") is not None  # now the most recently used
    documents.keep("{ c }", parse("{ c }"))
    assert len(documents) == 2
    assert documents.get("{ b }") is None
    assert documents.get("{ a }") is not None and documents.get("{ c }") is not None
    long_text = "{ " + "a " * document_cache.MAX_TEXT_LENGTH + "}"
    documents.keep(long_text, parse(long_text))
    assert documents.get(long_text) is None
