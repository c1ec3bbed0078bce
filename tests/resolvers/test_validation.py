"""The input rules of ``resolvers/validation.py``: pure functions, no database."""

from __future__ import annotations

import pytest

from resolvers import validation
from resolvers.errors import InvalidInput, InvalidOption

CATEGORY = "device-registration"
POLICY = "security-token.policy"
MAX_ATTEMPTS = "security-token.max-failed-attempts"


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


@pytest.mark.parametrize("value", ["IGNORED", "OPTIONAL", "REQUIRED"])
def test_policy_option_accepts_the_three_values(value: str) -> None:
    validation.tenant_option(CATEGORY, POLICY, value)


@pytest.mark.parametrize("value", ["required", "", "STRICT", " REQUIRED", "REQUIRED "])
def test_policy_option_refuses_other_values(value: str) -> None:
    with pytest.raises(InvalidOption, match="must be one of IGNORED, OPTIONAL, REQUIRED"):
        validation.tenant_option(CATEGORY, POLICY, value)


@pytest.mark.parametrize("value", ["1", "100", "42", "007"])
def test_max_failed_attempts_accepts_whole_numbers_1_to_100(value: str) -> None:
    validation.tenant_option(CATEGORY, MAX_ATTEMPTS, value)


@pytest.mark.parametrize(
    "value", ["0", "101", "-1", "abc", "5.5", " 5", "5 ", "", "1e2", "+5", "٣", "²"]
)
def test_max_failed_attempts_refuses_anything_else(value: str) -> None:
    with pytest.raises(InvalidOption, match="whole number from 1 to 100"):
        validation.tenant_option(CATEGORY, MAX_ATTEMPTS, value)


@pytest.mark.parametrize(
    ("category", "key", "value"),
    [
        ("my-app", "colour", "anything ✓"),
        ("my-app", "empty", ""),
        (CATEGORY, "other-key", "not validated"),
        ("Device-Registration", POLICY, "only the exact category is known"),
        ("c" * 128, "k" * 128, "x" * 65536),
        ("app", "k", "é" * 32768),
    ],
)
def test_other_options_are_accepted_within_the_limits(category: str, key: str, value: str) -> None:
    validation.tenant_option(category, key, value)


@pytest.mark.parametrize(
    ("category", "key", "value", "message"),
    [
        ("", "k", "v", "category"),
        ("c" * 129, "k", "v", "category"),
        ("app", "", "v", "key"),
        ("app", "k" * 129, "v", "key"),
        ("app", "k", "x" * 65537, "value"),
        ("app", "k", "é" * 32768 + "x", "value"),
    ],
)
def test_option_limits(category: str, key: str, value: str, message: str) -> None:
    with pytest.raises(InvalidOption, match=message):
        validation.tenant_option(category, key, value)


@pytest.mark.parametrize(
    ("category", "key", "value", "label"),
    [("a\x00", "k", "v", "category"), ("app", "\x00", "v", "key"), ("app", "k", "a\x00b", "value")],
)
def test_option_parts_must_not_contain_nul(category: str, key: str, value: str, label: str) -> None:
    with pytest.raises(InvalidOption, match=f"option {label} must not contain the NUL"):
        validation.tenant_option(category, key, value)


def test_option_limits_apply_before_known_values() -> None:
    # A valid policy under an overlong key is still refused for the key.
    with pytest.raises(InvalidOption, match="key"):
        validation.tenant_option(CATEGORY, "k" * 129, "REQUIRED")
