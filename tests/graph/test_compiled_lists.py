"""Compiled list completion answers exactly what graphql-core's own completion answers.

``registerCsv``'s ``lines`` are completed by ``graph/graphql/compiled_lists.py``
when they are long; the same mutation with compilation switched off must give
the same JSON, whatever the selection's aliases, fragments and directives.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from graph.graphql import compiled_lists
from tests.kit.clients import GraphQLClient

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
