"""The exported ``schema.graphql`` is current, and the schema keeps API.md's fixed contract."""

from __future__ import annotations

import re
from pathlib import Path

import graphql
import pytest

from graph.graphql.schema import build_schema

ROOT = Path(__file__).parents[1]
CONTRACT = Path(__file__).parents[2] / "shared" / "API.md"


def test_schema_file_matches_the_code() -> None:
    exported = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert exported == build_schema().as_str() + "\n", (
        "schema.graphql is out of date: run `gatehouse export-schema -o schema.graphql`"
    )


def contract_schema() -> graphql.GraphQLSchema:
    if not CONTRACT.is_file():
        pytest.skip(f"the API contract is not at {CONTRACT}")
    text = CONTRACT.read_text(encoding="utf-8")
    section = text[text.index("## 3.") :]
    block = re.search(r"```graphql\n(.*?)```", section, re.DOTALL)
    assert block is not None, "API.md §3 has no ```graphql block"
    return graphql.build_schema(block.group(1))


def signature(value: graphql.GraphQLArgument | graphql.GraphQLInputField) -> str:
    """``Type`` or ``Type = default``, as written in SDL (both schemas are built from SDL)."""
    node = value.ast_node
    default = node.default_value if node is not None else None
    return f"{value.type}" + ("" if default is None else f" = {graphql.print_ast(default)}")


def mismatches(contract: graphql.GraphQLSchema, ours: graphql.GraphQLSchema) -> list[str]:
    """How our schema differs from the contract where it implements the contract's names."""
    found: list[str] = []
    for name, wanted in contract.type_map.items():
        have = ours.type_map.get(name)
        if name.startswith("__") or have is None:
            continue
        if type(have) is not type(wanted):
            found.append(f"{name} is a {type(have).__name__}, not a {type(wanted).__name__}")
            continue
        if isinstance(wanted, graphql.GraphQLEnumType):
            assert isinstance(have, graphql.GraphQLEnumType)
            missing = set(wanted.values) - set(have.values)
            found += [f"{name}.{value} is missing" for value in sorted(missing)]
        if isinstance(wanted, graphql.GraphQLUnionType):
            assert isinstance(have, graphql.GraphQLUnionType)
            members = {t.name for t in wanted.types} - {t.name for t in have.types}
            found += [f"{name} lacks member {member}" for member in sorted(members)]
        if isinstance(wanted, graphql.GraphQLObjectType | graphql.GraphQLInterfaceType):
            assert isinstance(have, graphql.GraphQLObjectType | graphql.GraphQLInterfaceType)
            interfaces = {i.name for i in wanted.interfaces} - {i.name for i in have.interfaces}
            found += [f"{name} does not implement {i}" for i in sorted(interfaces)]
        if isinstance(
            wanted,
            graphql.GraphQLObjectType
            | graphql.GraphQLInterfaceType
            | graphql.GraphQLInputObjectType,
        ):
            assert isinstance(
                have,
                graphql.GraphQLObjectType
                | graphql.GraphQLInterfaceType
                | graphql.GraphQLInputObjectType,
            )
            for field_name, field in wanted.fields.items():
                ours_field = have.fields.get(field_name)
                if ours_field is None:
                    continue
                where = f"{name}.{field_name}"
                if str(ours_field.type) != str(field.type):
                    found.append(f"{where}: {ours_field.type}, contract says {field.type}")
                if isinstance(field, graphql.GraphQLInputField):
                    assert isinstance(ours_field, graphql.GraphQLInputField)
                    if signature(ours_field) != signature(field):
                        found.append(f"{where}: default differs from the contract")
                if not isinstance(field, graphql.GraphQLField):
                    continue
                assert isinstance(ours_field, graphql.GraphQLField)
                for arg_name, arg in field.args.items():
                    ours_arg = ours_field.args.get(arg_name)
                    if ours_arg is None:
                        found.append(f"{where}({arg_name}:) is missing")
                    elif signature(ours_arg) != signature(arg):
                        found.append(
                            f"{where}({arg_name}:) is {signature(ours_arg)}, "
                            f"contract says {signature(arg)}"
                        )
                for arg_name, ours_arg in ours_field.args.items():
                    if arg_name not in field.args and graphql.is_required_argument(ours_arg):
                        found.append(f"{where}({arg_name}:) is required but not in the contract")
    return found


def test_schema_keeps_the_contract_signatures() -> None:
    contract = contract_schema()
    ours = graphql.build_schema(build_schema().as_str())
    assert mismatches(contract, ours) == []


def test_contract_check_sees_a_changed_signature() -> None:
    """The comparison itself: a renamed type, a changed field type or default is reported."""
    contract = graphql.build_schema(
        "type Query { a(first: Int = 50): String!  b: Int }  enum E { X Y }"
    )
    ours = graphql.build_schema("type Query { a(first: Int = 10): String  b: Int }  enum E { X }")
    assert mismatches(contract, ours) == [
        "Query.a: String, contract says String!",
        "Query.a(first:) is Int = 10, contract says Int = 50",
        "E.Y is missing",
    ]
