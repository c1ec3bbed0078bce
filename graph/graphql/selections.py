"""What a query selected under the field being resolved, for fields that cost a query."""

from __future__ import annotations

from collections.abc import Iterable

from strawberry.types.nodes import SelectedField, Selection

from graph.graphql.context import Info


def selects(info: Info, name: str) -> bool:
    """Whether the query asks for the subfield ``name`` (fragments included, aliases ignored)."""
    return any(_has(field.selections, name) for field in info.selected_fields)


def _has(selections: Iterable[Selection], name: str) -> bool:
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == name:
                return True
        elif _has(selection.selections, name):
            return True
    return False
