"""Cursors are URL-safe base64 of ``kind:value`` without padding, and decode to what they hold."""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st

from resolvers.pagination import decode_cursor, encode_cursor

VALUES = st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=60)


@given(VALUES)
def test_a_cursor_is_url_safe_base64_without_padding_and_decodes_to_its_value(value: str) -> None:
    cursor = encode_cursor("registration", value)
    expected = base64.urlsafe_b64encode(f"registration:{value}".encode()).decode().rstrip("=")
    assert cursor == expected
    if value.isprintable():
        assert decode_cursor("registration", cursor) == value


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_integer_cursors_too(value: int) -> None:
    expected = base64.urlsafe_b64encode(f"group:{value}".encode()).decode().rstrip("=")
    assert encode_cursor("group", value) == expected
