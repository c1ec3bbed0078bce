"""Completing long lists of plain objects without graphql-core's per-field work.

graphql-core completes every field of every item on its own: for the 100,000
lines of a ``registerCsv`` answer that is some 300,000 field executions, most
of the mutation's time, and for a page of 500 registrations with their groups
some 3,500 (60 % of the request in the profile). For the list types named in
:data:`COMPILED_TYPES`, this executor reads the query's selection once, builds
a small function that turns one item into its result (attribute reads and
scalar serializers), and applies it to every item. Only what is certain to
mean the same is compiled: fields that are plain attributes or resolvers of
``self`` alone, with no arguments, permission classes or extensions, of leaf
or object types (values of exactly the object type's class, with no
``is_type_of`` of their own); with ``@defer``, ``@stream``, a field argument,
a union, a list inside, or a value that would be an error (a null where the
schema says non-null, a value a scalar cannot serialize), the whole list is
completed the usual way, which then reports the error as it always does.
Aliases, fragments, ``__typename`` and ``@skip`` / ``@include`` come resolved
from graphql-core's own field collection.

A field whose resolver needs more than ``self`` (``Registration.group`` reads
the request's DataLoader when its group was not preloaded) can name, in its
strawberry ``metadata`` under :data:`COMPILED_GETTER`, a function of the source
alone that gives the same value, or raises :class:`NotCompiled` where only the
resolver knows. ``tests/graph/test_compiled_lists.py`` compares both ways, on
generated documents too.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from types import CodeType
from typing import Any, cast

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLList,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLString,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import FieldDetails
from graphql.pyutils import Path, Undefined
from strawberry.types.cast import TYPE_CAST_ATTRIBUTE as TYPE_CAST
from strawberry.types.field import StrawberryField

from graph.graphql.shared_execution import SharedEventExecution

#: The GraphQL object types whose lists are compiled: ``registerCsv``'s lines, a page of
#: registrations (``registrations``, ``Group.registrations``), and ``register``'s and
#: ``acceptAll``'s lists of registrations.
COMPILED_TYPES = frozenset({"BulkRegisterLine", "RegistrationEdge", "Registration"})
#: Shorter lists are not worth compiling.
MIN_ITEMS = 50
DEFINITION = "strawberry-definition"
#: The key, in a strawberry field's ``metadata``, of its resolver's stand-in for compiled
#: lists (see the module docstring).
COMPILED_GETTER = "gatehouse.compiled-getter"

Serializer = Callable[[Any], dict[str, Any]]


class NotCompiled(Exception):
    """This value (or selection) must be completed the usual way."""


def _getter(field: StrawberryField | None) -> Callable[[Any], Any] | None:
    """How to read ``field`` from its source object, when that is all it does."""
    if field is None or field.extensions:
        return None
    stand_in = field.metadata.get(COMPILED_GETTER) if field.metadata else None
    if stand_in is not None:
        return cast(Callable[[Any], Any], stand_in)
    if field.is_basic_field:
        return attrgetter(field.python_name)
    resolver = field.base_resolver
    if (
        resolver is None
        or resolver.is_async
        or resolver.arguments
        or resolver.info_parameter is not None
        or resolver.self_parameter is None
    ):
        return None
    function = cast(Callable[[Any], Any], resolver.wrapped_func)
    return lambda source: function(source)


#: Built-in scalars whose coercion returns a value of this exact type as it is.
_AS_IS: dict[GraphQLScalarType | GraphQLEnumType, type] = {
    GraphQLString: str,
    GraphQLID: str,
    GraphQLBoolean: bool,
}


def _leaf(field_type: Any, non_null: bool) -> Callable[[Any], Any]:
    """Completes a scalar or enum value as ``complete_leaf_value`` does (``coerce_output_value``),
    with a short cut for a string or boolean that stays as it is, and each enum member's
    name worked out once (kept by the member's identity, with the member itself: an enum's
    ``__hash__`` is a Python call)."""
    coerce = field_type.coerce_output_value
    as_is = _AS_IS.get(field_type)
    members: dict[int, tuple[Any, Any]] | None = (
        {} if isinstance(field_type, GraphQLEnumType) else None
    )

    def complete(value: Any) -> Any:
        if value is None:
            if non_null:
                raise NotCompiled
            return None
        if type(value) is as_is:
            return value
        if members is not None:
            found = members.get(id(value))
            if found is not None and found[0] is value:
                return found[1]
        if isinstance(value, Exception):
            raise NotCompiled  # graphql-core raises it
        coerced = coerce(value)
        if coerced is Undefined or coerced is None:
            raise NotCompiled
        if members is not None and isinstance(value, enum.Enum):
            members[id(value)] = (value, coerced)
        return coerced

    return complete


@dataclass(frozen=True)
class Step:
    """One field of a compiled object: its value is ``complete(read(source))``, or, for a
    value of exactly the type ``as_is``, ``read(source)`` itself; or always ``constant``.
    An object field's ``complete`` is its type's serializer, and ``nullable`` says whether
    a null stays null (a serializer refuses a null, so a non-null one is completed the usual
    way, which reports the error)."""

    read: Callable[[Any], Any] | None = None
    complete: Callable[[Any], Any] | None = None
    as_is: type | None = None
    constant: Any = None
    nullable_object: bool = False


def _assemble(origin: type, checks_type: bool, steps: list[tuple[str, Step]]) -> Serializer:
    """One function that turns a source into its result dictionary, written out field by
    field (no loop, no call per field beyond reading and completing it).

    The generated text holds only names made here (``k0``, ``r0`` ...); the response keys
    and functions are passed in its namespace, never written into the text.
    """
    namespace: dict[str, Any] = {
        "origin": origin,
        "TYPE_CAST": TYPE_CAST,
        "NotCompiled": NotCompiled,
    }
    entries = []
    for n, (key, step) in enumerate(steps):
        namespace[f"k{n}"] = key
        if step.read is None:
            namespace[f"v{n}"] = step.constant
            entries.append(f"k{n}: v{n}")
            continue
        namespace[f"r{n}"], namespace[f"c{n}"] = step.read, step.complete
        if step.nullable_object:
            entries.append(f"k{n}: (None if (v := r{n}(source)) is None else c{n}(v))")
        elif step.as_is is None:
            entries.append(f"k{n}: c{n}(r{n}(source))")
        else:
            namespace[f"t{n}"] = step.as_is
            entries.append(f"k{n}: (v if type(v := r{n}(source)) is t{n} else c{n}(v))")
    check = " or hasattr(source, TYPE_CAST)" if checks_type else ""
    text = (
        "def serialize(source):\n"
        f"    if type(source) is not origin{check}:\n"
        "        raise NotCompiled\n"
        f"    return {{{', '.join(entries)}}}\n"
    )
    exec(_code(text), namespace)  # noqa: S102
    return cast(Serializer, namespace["serialize"])


#: Compiled serializer texts (each is a shape: how many fields, of which kind), so that a
#: repeated operation does not pay Python's compiler again; bounded.
_CODES: dict[str, CodeType] = {}
MAX_CODES = 256


def _code(text: str) -> CodeType:
    code = _CODES.get(text)
    if code is None:
        if len(_CODES) >= MAX_CODES:
            _CODES.clear()
        code = _CODES[text] = compile(text, "<compiled list serializer>", "exec")
    return code


class CompiledListExecution(SharedEventExecution):
    """The app's executor, with compiled completion for the lists of :data:`COMPILED_TYPES`."""

    def complete_list_value(
        self,
        return_type: GraphQLList[GraphQLOutputType],
        field_details_list: list[FieldDetails],
        info: GraphQLResolveInfo,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        item_type = get_nullable_type(return_type.of_type)
        if (
            isinstance(result, list)
            and len(result) >= MIN_ITEMS
            and isinstance(item_type, GraphQLObjectType)
            and item_type.name in COMPILED_TYPES
        ):
            serializer = self._compile(item_type, field_details_list)
            if serializer is not None:
                try:
                    return [serializer(item) for item in result]
                except Exception:  # noqa: S110
                    # NotCompiled, or an error: the usual way reports it where it belongs
                    # (the getters only read, so running them again changes nothing).
                    pass
        return super().complete_list_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _compile(
        self, object_type: GraphQLObjectType, field_details_list: list[FieldDetails]
    ) -> Serializer | None:
        definition = object_type.extensions.get(DEFINITION)
        origin = getattr(definition, "origin", None)
        if origin is None or getattr(definition, "is_type_of", None) is not None:
            return None  # not a strawberry type, or one that checks its values its own way
        # graphql-core calls strawberry's is_type_of (types with interfaces have one): True
        # for an instance of the type itself that was not ``strawberry.cast`` to another.
        checks_type = object_type.is_type_of is not None
        collected = self.collect_subfields(object_type, field_details_list)
        if collected.new_defer_usages or collected.forbidden_directive_instances:
            return None
        steps: list[tuple[str, Step]] = []
        for key, details in collected.grouped_field_set.items():
            step = self._field(object_type, details)
            if step is None:
                return None
            steps.append((key, step))
        return _assemble(origin, checks_type, steps)

    def _field(self, object_type: GraphQLObjectType, details: list[FieldDetails]) -> Step | None:
        """How to read the field of ``details`` from a source, and how to complete its value."""
        if any(d.defer_usage is not None or d.node.arguments for d in details):
            return None
        name = details[0].node.name.value
        if name == "__typename":
            type_name = object_type.name
            return Step(constant=type_name)
        field = object_type.fields.get(name)
        getter = _getter(field.extensions.get(DEFINITION)) if field is not None else None
        if field is None or getter is None:
            return None
        non_null = is_non_null_type(field.type)
        field_type = get_nullable_type(field.type)
        if is_leaf_type(field_type):
            return Step(getter, _leaf(field_type, non_null), _AS_IS.get(field_type))
        if isinstance(field_type, GraphQLObjectType):
            nested = self._compile(field_type, details)
            if nested is None:
                return None
            return Step(getter, nested, nullable_object=not non_null)
        return None
