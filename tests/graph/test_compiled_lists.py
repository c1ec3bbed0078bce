"""Compiled list completion answers exactly what graphql-core's own completion answers.

``registerCsv``'s ``lines`` and pages of registrations are completed by
``graph/graphql/compiled_lists.py`` when they are long; the same operation with
compilation switched off must give the same JSON, whatever the selection's
aliases, fragments and directives: for chosen selections, and for generated
documents (our own generator of selections over a page of registrations, and
hypothesis-graphql's over the schema), compared answer for answer.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from hypothesis import strategies as st
from hypothesis_graphql import from_schema

from graph.graphql import compiled_lists
from graph.graphql.schema import build_schema
from models.registrations import Registration, RegistrationStatus
from tests.kit.clients import GraphQLClient
from tests.kit.devices import poll
from tests.kit.groups import create_group
from tests.kit.hypothesis_async import check_examples
from tests.kit.registrations import accept, register

SELECTION = """
mutation($csv: String!, $withProblem: Boolean!, $skipId: Boolean!) {
  registerCsv(csv: $csv) {
    created failed
    lines {
      __typename
      number: line
      id @skip(if: $skipId)
      ...Problem @include(if: $withProblem)
      registration { __typename id status tenantId owner usesSecurityToken failedAttempts
                     acceptedAt blockedReason createdAt }
    }
  }
}
fragment Problem on BulkRegisterLine { problem { __typename code message deviceId: id } }
"""
WITH_GROUP = """
mutation($csv: String!) {
  registerCsv(csv: $csv) { lines { line registration { id group { name parent { name } } } } }
}"""


def bulk_file(prefix: str) -> str:
    lines = ["ID;PATH;CREDENTIALS"]
    for n in range(80):
        if n % 10 == 3:
            lines.append(f"{prefix} bad {n};;")
        elif n % 10 == 7:
            lines.append(f"{prefix}-{n};;preset")
        else:
            lines.append(f"{prefix}-{n};Hall {n % 2}/Bay;")
    return "\n".join(lines) + "\n"


def normalised(body: dict[str, Any], prefix: str) -> str:
    for line in body["data"]["registerCsv"]["lines"]:
        registration = line["registration"]
        if registration is not None:
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+(\+00:00|Z)", registration["createdAt"])
            registration["createdAt"] = "<time>"
    return json.dumps(body, sort_keys=True).replace(prefix, "<prefix>")


def spy_on_compilation(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each selection the executor tried to compile was compiled."""
    outcomes: list[bool] = []
    original = compiled_lists.CompiledListExecution._compile

    def compile_and_record(self: Any, object_type: Any, details: Any) -> Any:
        serializer = original(self, object_type, details)
        outcomes.append(serializer is not None)
        return serializer

    monkeypatch.setattr(compiled_lists.CompiledListExecution, "_compile", compile_and_record)
    return outcomes


@pytest.mark.parametrize(("with_problem", "skip_id"), [(True, False), (False, True)])
async def test_compiled_and_ordinary_completion_agree(
    admin: GraphQLClient, monkeypatch: pytest.MonkeyPatch, with_problem: bool, skip_id: bool
) -> None:
    variables = {"withProblem": with_problem, "skipId": skip_id}
    compiled_selections = spy_on_compilation(monkeypatch)
    compiled = await admin(SELECTION, csv=bulk_file("fast"), **variables)
    assert compiled_selections and all(compiled_selections)  # it did compile, all the way down
    monkeypatch.setattr(compiled_lists, "COMPILED_TYPES", frozenset())
    ordinary = await admin(SELECTION, csv=bulk_file("slow"), **variables)
    assert "errors" not in compiled, compiled
    assert normalised(compiled, "fast") == normalised(ordinary, "slow")
    lines = compiled["data"]["registerCsv"]["lines"]
    assert len(lines) == 80
    assert ("id" in lines[0]) is not skip_id
    assert ("problem" in lines[0]) is with_problem


async def test_a_selection_it_cannot_compile_is_completed_the_usual_way(
    admin: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    compiled_selections = spy_on_compilation(monkeypatch)
    body = await admin.data(WITH_GROUP, csv=bulk_file("group"))
    assert compiled_selections[0] is False  # Group.parent needs the request's loader
    lines = body["registerCsv"]["lines"]
    assert lines[0]["registration"]["group"] == {"name": "Bay", "parent": {"name": "Hall 0"}}
    assert lines[3]["registration"] is None


# ------------------------------------------------- generated documents, pages of registrations

REGISTRATION_LEAVES = [
    "id", "status", "tenantId", "owner", "createdAt", "updatedAt", "connectedAt",
    "connectedFrom", "usesSecurityToken", "failedAttempts", "acceptedAt", "acceptedBy",
    "blockedReason", "credentialsDeliveredAt", "lastAuthenticatedAt",
    "credentialsRequestedAgainAt", "__typename",
]  # fmt: skip
DIRECTIVES = ["", "", "", " @skip(if: $flag)", " @include(if: $flag)", " @include(if: true)"]


def selection(
    leaves: list[str], nested: dict[str, st.SearchStrategy[str]], fragment_type: str
) -> st.SearchStrategy[str]:
    """A selection set's body over ``leaves`` and ``nested`` fields: aliases (one alias per
    field name, so that it stays valid), repeated fields whose selections merge, directives,
    and inline fragments."""
    leaf = st.sampled_from(leaves)
    field = st.one_of(
        leaf,
        leaf,
        st.sampled_from(sorted(nested)).flatmap(
            lambda name: nested[name].map(lambda body: f"{name} {{ {body} }}")
        ),
    )
    aliased = st.tuples(st.booleans(), field, st.sampled_from(DIRECTIVES)).map(
        lambda t: (
            (f"{t[1].split()[0].lstrip('_')}Alias: " if t[0] and not t[1].startswith("...") else "")
            + t[1]
            + t[2]
        )
    )
    item = st.one_of(
        aliased,
        aliased,
        st.tuples(st.lists(aliased, min_size=1, max_size=3), st.sampled_from(DIRECTIVES)).map(
            lambda t: f"... on {fragment_type}{t[1]} {{ {' '.join(t[0])} }}"
        ),
    )
    return st.lists(item, min_size=1, max_size=4).map(" ".join)


#: A group's parent and registrations need the request (its loader, a permission): a list
#: that selects them is completed the usual way, which is compared too.
GROUP = selection(
    ["id", "name", "__typename", "...GroupNames", "id", "name", "parent { name }"],
    {"registrations": st.just("totalCount edges { node { id } }")},
    "Group",
)
NODE = selection(REGISTRATION_LEAVES, {"group": GROUP}, "Registration")
EDGE = selection(["cursor", "__typename"], {"node": NODE}, "RegistrationEdge")
PAGE = st.tuples(
    EDGE,
    st.sampled_from(["", "totalCount", "pageInfo { hasNextPage endCursor }", "__typename"]),
    st.sampled_from([1, 3, 50]),
).map(lambda t: f"registrations(first: {t[2]}) {{ {t[1]} edges {{ {t[0]} }} }}")


COMPILED_EDGE = (
    "cursorAlias: cursor __typename node { ... on Registration @include(if: $flag) { id "
    "statusAlias: status } owner group { id ...GroupNames } group { __typename name } "
    "tenantId @skip(if: $flag) }"
)


def document(body: str) -> str:
    """An operation around ``body`` declaring what it uses (GraphQL refuses the unused)."""
    flag = "($flag: Boolean!)" if "$flag" in body else ""
    fragment = "fragment GroupNames on Group { name }" if "...GroupNames" in body else ""
    return f"query{flag} {{ {body} }} {fragment}"


GENERATED = st.tuples(PAGE.map(document), st.booleans())
#: Documents hypothesis-graphql makes from the schema itself: every argument and field of
#: the read-only root fields whose answers hold registration lists.
SCHEMA_DOCUMENTS = from_schema(
    build_schema()._schema, fields=["registrations", "group", "groups"]
).map(lambda query: (query, False))


async def answer(admin: GraphQLClient, query: str, flag: bool) -> tuple[int, Any]:
    variables = {"flag": flag} if "$flag" in query else {}
    response = await admin.post(query, variables)
    if response.status_code != 200:
        return response.status_code, response.text
    body = response.json()
    # Errors are listed in the order their fields failed, which fields resolved at once
    # (a group's registrations on every edge) do not fix: compared as a collection.
    if isinstance(body.get("errors"), list):
        body["errors"].sort(key=lambda error: json.dumps(error, sort_keys=True))
    return response.status_code, body


def _data_is_null(*answers: tuple[int, Any]) -> bool:
    return all(isinstance(body, dict) and body.get("data") is None for _, body in answers)


async def register_page_data(http: httpx.AsyncClient, admin: GraphQLClient) -> None:
    """A few registrations in every state, in nested groups, one group, or none."""
    hall = await create_group(admin, "Hall")
    bay = await create_group(admin, "Bay", hall)
    devices = [{"id": f"page-{n}", "groupId": [hall, bay, None][n % 3]} for n in range(8)]
    await register(admin, *devices)
    for device_id in ("page-1", "page-2", "page-3"):
        assert (await poll(http, device_id, token="a-token")).status_code == 404
    assert (await accept(admin, "page-2", "a-token"))["__typename"] == "Registration"
    assert (await poll(http, "page-2", token="a-token")).status_code == 201
    await Registration.filter(device_id="page-3").update(
        status=RegistrationStatus.BLOCKED, blocked_reason="wrong tokens", failed_attempts=5
    )


async def test_generated_documents_answer_the_same_compiled_or_not(
    http: httpx.AsyncClient, admin: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await register_page_data(http, admin)
    monkeypatch.setattr(compiled_lists, "MIN_ITEMS", 1)  # the pages here are short
    compiled_selections = spy_on_compilation(monkeypatch)

    async def both_ways(case: tuple[str, bool]) -> tuple[Any, Any]:
        compiled = await answer(admin, *case)
        with monkeypatch.context() as ordinary_way:
            ordinary_way.setattr(compiled_lists, "COMPILED_TYPES", frozenset())
            ordinary = await answer(admin, *case)
        return compiled, ordinary

    async def check(case: tuple[str, bool]) -> None:
        compiled, ordinary = await both_ways(case)
        # Two failing non-null root fields (say a group that does not exist and a bad
        # cursor) race: graphql-core reports whichever fails first and nulls the data,
        # either way. Such an answer is compared again, until one pair agrees.
        for _ in range(5):
            if compiled == ordinary or not _data_is_null(compiled, ordinary):
                break
            compiled, ordinary = await both_ways(case)
        assert compiled == ordinary, case

    known = (  # one page compiled all the way down, one that cannot be (a group's parent)
        (document(f"registrations(first: 50) {{ totalCount edges {{ {COMPILED_EDGE} }} }}"), True),
        (document("registrations { edges { node { id group { name parent { name } } } } }"), False),
    )
    await check_examples(GENERATED, check, max_examples=60, explicit=known)
    # Both ways were taken: pages compiled, and pages completed the usual way.
    assert compiled_selections.count(True) >= 5 and False in compiled_selections
    await check_examples(SCHEMA_DOCUMENTS, check, max_examples=40)
