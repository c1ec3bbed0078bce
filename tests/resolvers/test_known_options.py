"""The table of known tenant options (``resolvers/known_options.py``): pure, no database."""

from __future__ import annotations

import pytest

from resolvers.errors import InvalidOption
from resolvers.known_options import check_option

CATEGORY = "device-registration"
POLICY = "security-token.policy"
MAX_ATTEMPTS = "security-token.max-failed-attempts"


@pytest.mark.parametrize("value", ["IGNORED", "OPTIONAL", "REQUIRED"])
def test_policy_option_accepts_the_three_values(value: str) -> None:
    check_option(CATEGORY, POLICY, value)


@pytest.mark.parametrize("value", ["required", "", "STRICT", " REQUIRED", "REQUIRED "])
def test_policy_option_refuses_other_values(value: str) -> None:
    with pytest.raises(InvalidOption, match="must be one of IGNORED, OPTIONAL, REQUIRED"):
        check_option(CATEGORY, POLICY, value)


@pytest.mark.parametrize("value", ["1", "100", "42", "007"])
def test_max_failed_attempts_accepts_whole_numbers_1_to_100(value: str) -> None:
    check_option(CATEGORY, MAX_ATTEMPTS, value)


@pytest.mark.parametrize(
    "value", ["0", "101", "-1", "abc", "5.5", " 5", "5 ", "", "1e2", "+5", "٣", "²"]
)
def test_max_failed_attempts_refuses_anything_else(value: str) -> None:
    with pytest.raises(InvalidOption, match="whole number from 1 to 100"):
        check_option(CATEGORY, MAX_ATTEMPTS, value)


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
    check_option(category, key, value)


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
        check_option(category, key, value)


@pytest.mark.parametrize(
    ("category", "key", "value", "label"),
    [("a\x00", "k", "v", "category"), ("app", "\x00", "v", "key"), ("app", "k", "a\x00b", "value")],
)
def test_option_parts_must_not_contain_nul(category: str, key: str, value: str, label: str) -> None:
    with pytest.raises(InvalidOption, match=f"option {label} must not contain the NUL"):
        check_option(category, key, value)


def test_option_limits_apply_before_known_values() -> None:
    # A valid policy under an overlong key is still refused for the key.
    with pytest.raises(InvalidOption, match="key"):
        check_option(CATEGORY, "k" * 129, "REQUIRED")
