"""Keyset pagination: opaque cursors and pages of at most ``MAX_PAGE_SIZE`` items."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Generic, TypeVar

from resolvers.errors import InvalidInput

T = TypeVar("T")
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    has_next_page: bool


@dataclass(frozen=True)
class CountedPage(Page[T]):
    total_count: int


def page_size(first: int | None, default: int = 50) -> int:
    size = default if first is None else first
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"first must be between 1 and {MAX_PAGE_SIZE}, got {size}")
    return size


def encode_cursor(kind: str, value: str | int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str) -> str:
    """The value inside a cursor made by :func:`encode_cursor` for ``kind``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    prefix, _, value = raw.partition(":")
    if prefix != kind or not value:
        raise InvalidInput(
            f"invalid cursor {cursor[:60]!r}: pass an endCursor or edge cursor as given"
        )
    return value


def decode_int_cursor(kind: str, cursor: str) -> int:
    value = decode_cursor(kind, cursor)
    if not value.isascii() or not value.isdigit():
        raise InvalidInput(f"invalid cursor {cursor[:60]!r}")
    return int(value)
