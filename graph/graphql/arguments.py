"""Optional GraphQL arguments that the contract declares without a default value."""

from __future__ import annotations

from typing import TypeVar

from strawberry.types.unset import UnsetType

T = TypeVar("T")


def given(value: T | UnsetType | None) -> T | None:
    """``None`` for an argument left out (``UNSET``) or passed as null, else the value as sent."""
    return None if isinstance(value, UnsetType) else value
