"""Every place of the schema where a client can put text: for tests that try each one.

From the GraphQL schema itself, so an argument added later is tried too: for
each root field of Query and Mutation, each ``String`` or ``ID`` argument, and
each such field of an input-object argument (inside lists too), a document
with variables that fill every required argument with a plausible value and
that one place with the text under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
)

from graph.graphql.schema import build_schema

TEXT_TYPES = {"String", "ID"}
_SAMPLES: dict[str, Any] = {"String": "text", "ID": "1", "Int": 1, "Boolean": True}


@dataclass(frozen=True)
class TextSlot:
    operation: str  # "query" or "mutation"
    field: str
    path: tuple[str | int, ...]  # argument name, then input fields / list indexes
    document: str
    variables: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.field}({'.'.join(str(p) for p in self.path)})"


def _type_name(type_: GraphQLInputType) -> str:
    if isinstance(type_, GraphQLNonNull):
        return f"{_type_name(type_.of_type)}!"
    if isinstance(type_, GraphQLList):
        return f"[{_type_name(type_.of_type)}]"
    return type_.name


def _sample(type_: GraphQLInputType) -> Any:
    if isinstance(type_, GraphQLNonNull):
        return _sample(type_.of_type)
    if isinstance(type_, GraphQLList):
        return [_sample(type_.of_type)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        return {
            name: _sample(field.type)
            for name, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull)
        }
    assert isinstance(type_, GraphQLScalarType)
    return _SAMPLES.get(type_.name, "2026-01-01T00:00:00Z")


def _text_paths(type_: GraphQLInputType) -> Iterator[tuple[str | int, ...]]:
    """Paths inside a value of ``type_`` that hold text (``()`` for the value itself)."""
    if isinstance(type_, GraphQLNonNull):
        yield from _text_paths(type_.of_type)
    elif isinstance(type_, GraphQLList):
        for path in _text_paths(type_.of_type):
            yield (0, *path)
    elif isinstance(type_, GraphQLInputObjectType):
        for name, field in type_.fields.items():
            for path in _text_paths(field.type):
                yield (name, *path)
    elif isinstance(type_, GraphQLScalarType) and type_.name in TEXT_TYPES:
        yield ()


def _put(value: Any, type_: GraphQLInputType, path: tuple[str | int, ...], text: str) -> Any:
    if not path:
        return text
    if isinstance(type_, GraphQLNonNull):
        return _put(value, type_.of_type, path, text)
    head, *rest = path
    if isinstance(type_, GraphQLList):
        items = list(value) if value else [_sample(type_.of_type)]
        items[0] = _put(items[0], type_.of_type, tuple(rest), text)
        return items
    assert isinstance(type_, GraphQLInputObjectType) and isinstance(head, str)
    field_type = type_.fields[head].type
    filled = dict(value or {})
    filled[head] = _put(filled.get(head, _sample(field_type)), field_type, tuple(rest), text)
    return filled


def _document(operation: str, name: str, field: GraphQLField) -> str:
    definitions = ", ".join(f"${a}: {_type_name(arg.type)}" for a, arg in field.args.items())
    arguments = ", ".join(f"{a}: ${a}" for a in field.args)
    selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
    call = f"{name}({arguments})" if arguments else name
    head = f"{operation}({definitions})" if definitions else operation
    return f"{head} {{ {call}{selection} }}"


def text_slots(text: str, schema: GraphQLSchema | None = None) -> list[TextSlot]:
    """One :class:`TextSlot` for every place of the schema that takes text."""
    schema = schema or build_schema()._schema
    slots = []
    for operation, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        assert isinstance(root, GraphQLObjectType)
        for name, field in root.fields.items():
            document = _document(operation, name, field)
            required = {
                a: _sample(arg.type)
                for a, arg in field.args.items()
                if isinstance(arg.type, GraphQLNonNull)
            }
            for arg_name, arg in field.args.items():
                for path in _text_paths(arg.type):
                    variables = dict(required)
                    variables[arg_name] = _put(required.get(arg_name), arg.type, path, text)
                    slots.append(TextSlot(operation, name, (arg_name, *path), document, variables))
    return slots
