"""Device ids (API.md §5.1): 1-255 printable characters, no white space, / \\ : ? # %."""

from __future__ import annotations

import pytest

from resolvers.validation import device_id_problem


@pytest.mark.parametrize(
    "device_id",
    ["a", "IMEI-358240051111110", "x" * 255, "dev.1_2+3@4~5", "Gerät-Ω-7", "中文设备", "a!b$c&d*e"],
)
def test_valid_ids_have_no_problem(device_id: str) -> None:
    assert device_id_problem(device_id) is None


@pytest.mark.parametrize(
    ("device_id", "named"),
    [
        ("", "empty"),
        ("x" * 256, "255"),
        ("x" * 1000, "1000 characters"),
        ("a b", "white space"),
        (" leading", "white space"),
        ("trailing\n", "white space"),
        ("tab\t", "'\\t'"),
        ("nbsp\u00a0x", "white space"),
        ("a/b", "'/'"),
        ("a\\b", "'\\'"),
        ("a:b", "':'"),
        ("a?b", "'?'"),
        ("a#b", "'#'"),
        ("a%b", "'%'"),
        ("nul\x00", "unprintable"),
        ("esc\x1b", "unprintable"),
        ("zero\u200bwidth", "unprintable"),
    ],
)
def test_invalid_ids_name_the_problem(device_id: str, named: str) -> None:
    problem = device_id_problem(device_id)
    assert problem is not None
    assert named in problem


def test_first_offending_character_is_named() -> None:
    problem = device_id_problem("a/b c")
    assert problem is not None
    assert "'/'" in problem
    assert "white space" not in problem
