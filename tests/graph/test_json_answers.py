"""GraphQL answers are JSON encoded by orjson (``graph/graphql/json_text.py``): the same values
as the standard library's encoder wrote, whatever the characters."""

from __future__ import annotations

import json

from graph.graphql.json_text import json_text
from tests.kit.clients import GraphQLClient

CREATE = "mutation($name: String!) { createGroup(name: $name) { id name } }"


async def test_text_of_every_kind_comes_back_as_sent(admin: GraphQLClient) -> None:
    name = 'Halle Süd ✓ 東 "quoted" \\ back/slash 😀'
    response = await admin.post(CREATE, {"name": name})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert json.loads(response.content.decode("utf-8"))["data"]["createGroup"]["name"] == name


def test_values_orjson_refuses_are_encoded_as_before() -> None:
    for value in ({"data": {"n": 2**70}}, {1: "a"}, {"a": [1, None, True, "é"]}):
        assert json.loads(json_text(value)) == json.loads(json.dumps(value))
    assert json_text({"data": {"n": 2**70}}) == '{"data":{"n":1180591620717411303424}}'
