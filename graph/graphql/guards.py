"""Checks on a GraphQL request that run before graphql-core spends any work on it.

graphql-core coerces variables item by item in Python: a ``register`` of
400,000 devices held the event loop for seconds before the resolver could
count them. The raw variables are therefore looked at first, where a list's
length costs nothing to read (API.md §9.6 "List limits are checked before the
list is processed item by item"). The same pass refuses the NUL character,
which PostgreSQL cannot store or compare, in any string of the request, so
that no argument reaches the database with one. A document with several
operations and no ``operationName`` is an error here rather than its first
operation, and a document longer than the limit is refused before it is lexed
(the lexer reads string literals character by character).

A refusal is an ordinary GraphQL error with ``extensions.code``, for that
operation only: over a websocket the connection stays open.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from graphql import (
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    StringValueNode,
    parse,
    visit,
)
from graphql.language import Visitor
from strawberry.extensions import SchemaExtension

from resolvers.registrations import MAX_DEVICES_PER_CALL

#: The longest list any argument may hold: ``register``'s device limit is the largest list
#: the schema takes, so no list beyond it can be meant.
MAX_LIST_ITEMS = MAX_DEVICES_PER_CALL
#: Lists longer than this make a request large enough that a caller who may not run it
#: is refused before its variables are coerced (see :func:`forbidden_root_field`).
LARGE_LIST_ITEMS = 1000
#: The most entries of one JSON object in the variables (the schema's input objects have
#: three fields; a request names a handful of variables).
MAX_OBJECT_ENTRIES = 100

#: What stands in for a document refused before it was lexed.
_STAND_IN = parse("query { __typename }")

VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
INVALID_INPUT = "INVALID_INPUT"


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str
    node: StringValueNode | None = None

    def error(self) -> GraphQLError:
        return GraphQLError(self.message, nodes=self.node, extensions={"code": self.code})


def _describe(path: tuple[str | int, ...]) -> str:
    name, *rest = path
    return f"${name}" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest)


def longest_list(variables: Mapping[str, object] | None) -> int:
    """The length of the longest list at the top of the variables or one level below."""
    longest = 0
    for value in (variables or {}).values():
        if isinstance(value, list):
            longest = max(longest, len(value))
    return longest


def forbidden_root_field(
    context: object, operation: OperationDefinitionNode
) -> GraphQLError | None:
    """The error of a root field the caller lacks the permission for, or ``None``.

    graphql-core coerces every variable before any field runs, and strawberry
    converts the arguments before a field's permission is checked: a caller who
    may not ``register`` at all would still cost the event loop the coercion of
    10,000 devices. For large requests the root fields' permissions are checked
    first, with the answer the field itself would give.
    """
    actor = getattr(getattr(context, "context", None), "actor", None)
    schema = getattr(context, "schema", None)
    if actor is None or schema is None:
        return None
    root = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}
    definition = schema.get_type_by_name(root[operation.operation.value])
    fields = {f.graphql_name or f.name: f for f in getattr(definition, "fields", [])}
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode):
            continue
        field = fields.get(selection.name.value)
        for permission_class in getattr(field, "permission_classes", None) or ():
            required = getattr(permission_class, "required", None)
            if required is not None and not actor.can(required):
                key = selection.alias.value if selection.alias else selection.name.value
                return GraphQLError(
                    permission_class.message,
                    nodes=selection,
                    path=[key],
                    extensions={"code": "FORBIDDEN"},
                )
    return None


def variables_problem(variables: Mapping[str, object] | None) -> Refusal | None:
    """Why raw (JSON) variables are refused, or ``None``: sizes first, then every string.

    Iterative, so a deeply nested value cannot exhaust the stack; a list's length is
    checked before any of its items is looked at.
    """
    if not variables:
        return None
    if len(variables) > MAX_OBJECT_ENTRIES:
        return Refusal(INVALID_INPUT, f"a request may have at most {MAX_OBJECT_ENTRIES} variables")
    stack: list[tuple[tuple[str | int, ...], object]] = [((k,), v) for k, v in variables.items()]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return Refusal(
                    INVALID_INPUT,
                    f"variable {_describe(path)}: text must not contain the NUL character",
                )
        elif isinstance(value, list):
            if len(value) > MAX_LIST_ITEMS:
                return Refusal(
                    INVALID_INPUT,
                    f"variable {_describe(path)} has {len(value)} items; "
                    f"a list may hold at most {MAX_LIST_ITEMS}",
                )
            stack.extend(((*path, i), item) for i, item in enumerate(value))
        elif isinstance(value, dict):
            if len(value) > MAX_OBJECT_ENTRIES:
                return Refusal(
                    INVALID_INPUT,
                    f"variable {_describe(path)} has {len(value)} fields; "
                    f"at most {MAX_OBJECT_ENTRIES} are allowed",
                )
            for key, item in value.items():
                if "\x00" in key:
                    return Refusal(
                        INVALID_INPUT,
                        f"variable {_describe(path)}: names must not contain the NUL character",
                    )
                stack.append(((*path, key), item))
    return None


class _NulInLiterals(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: StringValueNode | None = None

    def enter_string_value(self, node: StringValueNode, *_: object) -> object:
        if "\x00" in node.value:
            self.found = node
            return self.BREAK
        return None


def document_problem(
    operations: list[OperationDefinitionNode], operation_name: str | None
) -> Refusal | None:
    """Several operations and no ``operationName``: say which to run instead of guessing."""
    if operation_name is None and len(operations) > 1:
        names = ", ".join(op.name.value if op.name else "(anonymous)" for op in operations)
        return Refusal(
            VALIDATION_FAILED,
            f"the document has {len(operations)} operations ({names}); "
            "name the one to run in operationName",
        )
    return None


class RequestGuards(SchemaExtension):
    """The checks of the module docstring, as a strawberry extension."""

    def __init__(self, *, max_document_length: int) -> None:
        self.max_document_length = max_document_length
        self._too_long: Refusal | None = None

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        if query is not None and len(query) > self.max_document_length:
            self._too_long = Refusal(
                PARSE_FAILED,
                f"the document has {len(query)} characters; at most "
                f"{self.max_document_length} are allowed (send large values as variables)",
            )
            # Not lexed: a stand-in takes its place, and validation answers the refusal
            # through the usual error path (over a websocket too).
            context.graphql_document = _STAND_IN
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        refusal = self._too_long or variables_problem(context.variables)
        if refusal is None and document is not None:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            refusal = document_problem(operations, context._provided_operation_name)
            if refusal is None:
                literals = _NulInLiterals()
                visit(document, literals)
                if literals.found is not None:
                    refusal = Refusal(
                        INVALID_INPUT,
                        "text must not contain the NUL character",
                        literals.found,
                    )
        if refusal is not None:
            # Validation runs only while there are no errors yet: this skips it.
            context.pre_execution_errors = [refusal.error()]
        elif document is not None and longest_list(context.variables) > LARGE_LIST_ITEMS:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) == 1:
                forbidden = forbidden_root_field(context, operations[0])
                if forbidden is not None:
                    context.pre_execution_errors = [forbidden]
        yield
