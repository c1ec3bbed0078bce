"""The input rules of ``resolvers/validation.py``: pure functions, no database."""

from __future__ import annotations

import pytest

from resolvers import validation
from resolvers.errors import InvalidInput


@pytest.mark.parametrize("value", ["a", "acme", "a-1", "0", "x" * 32, "-"])
def test_tenant_id_accepts_lowercase_letters_digits_and_dashes(value: str) -> None:
    assert validation.tenant_id(value) == value


@pytest.mark.parametrize(
    "value", ["", "UPPER", "a_b", "x" * 33, "with space", "a/b", "ümlaut", "acme\n", "a.b"]
)
def test_tenant_id_refuses_anything_else(value: str) -> None:
    with pytest.raises(InvalidInput, match="tenant id"):
        validation.tenant_id(value)


@pytest.mark.parametrize("value", ["a", "Alice", "first.last+tag@example-1_a", "x" * 64])
def test_username_accepts_letters_digits_and_some_punctuation(value: str) -> None:
    assert validation.username(value) == value


@pytest.mark.parametrize(
    "value", ["", "with space", "a/b", "a:b", "x" * 65, "ümlaut", "tab\there", "new\nline"]
)
def test_username_refuses_anything_else(value: str) -> None:
    with pytest.raises(InvalidInput, match="username"):
        validation.username(value)


@pytest.mark.parametrize("value", ["8-chars!", "x" * 1024, "pa:ss wörd €"])
def test_password_of_8_to_1024_characters_is_accepted(value: str) -> None:
    assert validation.password(value) == value


@pytest.mark.parametrize(
    ("value", "message"), [("", "at least 8"), ("7-chars", "at least 8"), ("x" * 1025, "at most")]
)
def test_password_outside_8_to_1024_characters_is_refused(value: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        validation.password(value)


def test_display_name_is_trimmed() -> None:
    assert validation.display_name("  Lab 1 \n", "group name") == "Lab 1"


@pytest.mark.parametrize("value", ["", "   ", "\t\n"])
def test_display_name_must_not_be_empty(value: str) -> None:
    with pytest.raises(InvalidInput, match="the group name must not be empty"):
        validation.display_name(value, "group name")


@pytest.mark.parametrize("value", ["a\x00b", "a\x1bb", "line\nbreak", "tab\tinside"])
def test_display_name_refuses_control_characters(value: str) -> None:
    with pytest.raises(InvalidInput, match="control characters"):
        validation.display_name(value, "group name")


def test_display_name_limit_counts_characters_after_trimming() -> None:
    assert validation.display_name(" " + "ü" * 255 + " ", "group name") == "ü" * 255
    with pytest.raises(InvalidInput, match="at most 255"):
        validation.display_name("n" * 256, "group name")
    with pytest.raises(InvalidInput, match="at most 128"):
        validation.display_name("n" * 129, "tenant name", 128)
