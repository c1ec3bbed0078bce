"""Numbered pages, as Cumulocity's REST collections page (API.md §8).

``pageSize`` items from page ``currentPage`` (counted from 1) of a list in a
fixed order. GraphQL pages with cursors (``resolvers/pagination.py``); the
Cumulocity paths keep the numbers their clients send, and both read the same
rows. :func:`page_request` is the rule (pure); :func:`numbered_page` reads
one page in one statement (two with the total).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

from resolvers.errors import InvalidInput

M = TypeVar("M", bound=Model)

DEFAULT_PAGE_SIZE = 5
MAX_PAGE_SIZE = 2000
#: Far beyond any real list; keeps the offset a number every database takes.
MAX_PAGE_NUMBER = 1_000_000_000


@dataclass(frozen=True)
class PageRequest:
    size: int = DEFAULT_PAGE_SIZE
    number: int = 1
    #: Count the list too (Cumulocity's ``withTotalPages`` / ``withTotalElements``).
    with_total: bool = False

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


@dataclass(frozen=True)
class NumberedPage(Generic[M]):
    items: list[M]
    request: PageRequest
    has_next_page: bool
    #: Only when the request asked for it.
    total_elements: int | None = None

    @property
    def total_pages(self) -> int | None:
        if self.total_elements is None:
            return None
        return -(-self.total_elements // self.request.size)


def page_request(
    size: int | None = None, number: int | None = None, *, with_total: bool = False
) -> PageRequest:
    """The page asked for, or :class:`InvalidInput` naming the bad number and its range."""
    size = DEFAULT_PAGE_SIZE if size is None else size
    number = 1 if number is None else number
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"pageSize must be from 1 to {MAX_PAGE_SIZE}, got {size}")
    if not 1 <= number <= MAX_PAGE_NUMBER:
        raise InvalidInput(f"currentPage must be from 1 to {MAX_PAGE_NUMBER}, got {number}")
    return PageRequest(size=size, number=number, with_total=with_total)


async def numbered_page(query: QuerySet[M], request: PageRequest) -> NumberedPage[M]:
    """One page of ``query`` (already ordered); a page past the end is empty."""
    rows = await query.offset(request.offset).limit(request.size + 1)
    total = await query.count() if request.with_total else None
    return NumberedPage(
        items=rows[: request.size],
        request=request,
        has_next_page=len(rows) > request.size,
        total_elements=total,
    )
