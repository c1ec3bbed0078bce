"""No document makes the server fail (API.md §9.5): generated GraphQL against the app.

hypothesis-graphql generates documents from the schema itself, valid ones
(every field, argument and literal the schema allows, NUL and odd text
included) and invalid ones; a second strategy sends a set of operations with
variables of every JSON shape. Whatever comes, the answer is never HTTP 500
nor an error with ``INTERNAL_SERVER_ERROR``. Bounded, so the suite stays fast.
"""

from __future__ import annotations

from typing import Any

from graphql import StringValueNode
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema

from graph.graphql.schema import build_schema
from tests.kit.clients import GraphQLClient, error_codes
from tests.kit.documents import ACCEPT, REGISTER, REGISTRATIONS, SET_TENANT_OPTION
from tests.kit.hypothesis_async import check_examples

SCHEMA = build_schema()._schema
ALLOWED_STATUSES = {200, 400, 413, 415}


def documents(mode: Mode) -> st.SearchStrategy[str]:
    strategy: st.SearchStrategy[str] = from_schema(
        SCHEMA,
        mode=mode,
        custom_scalars={"DateTime": st.just(StringValueNode(value="2026-01-01T00:00:00Z"))},
    )
    return strategy


async def answer_is_handled(admin: GraphQLClient, query: str, variables: Any) -> None:
    response = await admin.http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=admin.headers()
    )
    assert response.status_code in ALLOWED_STATUSES, (query, variables, response.text[:500])
    if response.status_code == 200:
        codes = error_codes(response.json())
        assert "INTERNAL_SERVER_ERROR" not in codes, (query, variables, response.text[:500])


async def test_generated_documents_never_fail_the_server(admin: GraphQLClient) -> None:
    strategy = st.one_of(documents(Mode.POSITIVE), documents(Mode.NEGATIVE))

    async def check(query: str) -> None:
        await answer_is_handled(admin, query, None)

    known = (  # what crashed the server before
        '{ registration(id: "a\\u0000b") { id } }',
        '{ tenantOption(category: "a\\u0000", key: "k") { value } }',
        "{ registration(id: " + '"' + "x" * 300 + '"' + ") { id } }",
    )
    await check_examples(strategy, check, max_examples=300, explicit=known)


#: Text as attackers send it: short, odd, with NUL and control characters, or longer
#: than any column.
TEXT = (
    st.text(max_size=30)
    | st.text(st.characters(max_codepoint=0x1F), min_size=1, max_size=5)
    | st.text(min_size=250, max_size=400)
    | st.sampled_from(
        ["a\x00b", "\x00", "x" * 256, "ZXZlbnQ6bWFuYWdlbWVudDo5OTk5OTk5OTk5OTk5OTk5OTk5"]
    )
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.sampled_from(["id", "groupId", "tenantId", "x"]), inner, max_size=4)
    ),
    max_leaves=15,
)
OPERATIONS = {
    REGISTER: ["devices"],
    ACCEPT: ["id", "token"],
    REGISTRATIONS: ["status", "groupId", "first", "after"],
    SET_TENANT_OPTION: ["category", "key", "value"],
    "query($after: String, $first: Int, $d: ID) { events(after: $after, first: $first, "
    "deviceId: $d) { edges { cursor } } }": ["after", "first", "d"],
}
REQUESTS = st.sampled_from(sorted(OPERATIONS)).flatmap(
    lambda query: st.tuples(
        st.just(query),
        st.fixed_dictionaries({}, optional={name: JSON for name in OPERATIONS[query]}),
    )
)


async def test_generated_variables_never_fail_the_server(admin: GraphQLClient) -> None:
    async def check(request: tuple[str, dict[str, Any]]) -> None:
        await answer_is_handled(admin, *request)

    events = next(query for query in OPERATIONS if "events" in query)
    known = (  # what crashed the server before (HTTP 200 with INTERNAL_SERVER_ERROR)
        (ACCEPT, {"id": "a\x00b"}),
        (ACCEPT, {"id": "x" * 300}),
        (events, {"d": "x" * 300}),
        (REGISTRATIONS, {"after": "cmVnaXN0cmF0aW9uOgBh"}),  # "registration:\\x00a"
    )
    await check_examples(REQUESTS, check, max_examples=200, explicit=known)
