"""Cumulocity's numbered pages (API.md §8): sizes, numbers, totals. Pure."""

from __future__ import annotations

import pytest

from resolvers.errors import InvalidInput
from resolvers.page_numbers import NumberedPage, PageRequest, page_request


def test_defaults_are_five_items_of_the_first_page() -> None:
    assert page_request() == PageRequest(size=5, number=1, with_total=False)
    assert page_request(2000, 3).offset == 4000


@pytest.mark.parametrize(("size", "number"), [(0, 1), (2001, 1), (5, 0), (5, -1), (5, 10**10)])
def test_numbers_out_of_range_are_invalid_input(size: int, number: int) -> None:
    with pytest.raises(InvalidInput):
        page_request(size, number)


def test_total_pages_round_up() -> None:
    request = page_request(3, 1, with_total=True)
    assert NumberedPage([], request, False, total_elements=7).total_pages == 3
    assert NumberedPage([], request, False, total_elements=0).total_pages == 0
    assert NumberedPage([], request, False).total_pages is None
