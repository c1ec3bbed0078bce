"""The per-line rules of bulk registration, decided without a database (API.md §8.3)."""

from __future__ import annotations

import pytest

from resolvers.bulk_registration import MAX_PATH_DEPTH, group_path, line_problems
from resolvers.csv_lines import CsvLine
from resolvers.errors import InvalidInput
from resolvers.permissions import (
    MANAGEMENT_ADMIN_PERMISSIONS,
    TENANT_ADMIN_PERMISSIONS,
    Actor,
    Permission,
)

MANAGER = Actor("management", "admin", MANAGEMENT_ADMIN_PERMISSIONS)
ACME = Actor("acme", "admin", TENANT_ADMIN_PERMISSIONS)


def codes(actor: Actor, *lines: CsvLine) -> dict[int, str]:
    return {number: p.code for number, p in line_problems(actor, lines).items()}


def test_good_lines_have_no_problem() -> None:
    assert codes(ACME, CsvLine(2, "SN-1"), CsvLine(3, "SN-2", path="Hall 1/Bay 2")) == {}


def test_each_bad_line_has_its_own_code() -> None:
    found = codes(
        MANAGER,
        CsvLine(2, "has space"),
        CsvLine(3, "SN-3", credentials=True),
        CsvLine(4, "SN-4", tenant="acme", path="Hall"),
        CsvLine(5, "SN-5", path="Hall\x01"),
        CsvLine(6, ""),
        CsvLine(7, "SN-7", problem="the line has 3 fields but the header has 2 columns"),
        CsvLine(8, "SN-8", tenant="acme"),
        CsvLine(9, "SN-9", tenant="No Such\x00Tenant"),
    )
    assert found == {
        2: "INVALID_ID",
        3: "INVALID_INPUT",
        4: "TENANT_AND_GROUP",
        5: "INVALID_INPUT",
        6: "INVALID_INPUT",
        7: "INVALID_INPUT",
        9: "NOT_FOUND",  # cannot be a tenant id: known without asking the database
    }


def test_credentials_are_refused_with_a_reason() -> None:
    problem = line_problems(ACME, [CsvLine(2, "SN-1", credentials=True)])[2]
    assert "CREDENTIALS" in problem.message
    assert problem.id == "SN-1"


def test_later_lines_repeating_an_id_already_exist_and_name_the_first() -> None:
    lines = [CsvLine(2, "SN-1"), CsvLine(3, "SN-2"), CsvLine(4, "SN-1"), CsvLine(9, "SN-1")]
    problems = line_problems(ACME, lines)
    assert sorted(problems) == [4, 9]
    assert problems[4].code == "ALREADY_EXISTS"
    assert "line 2" in problems[9].message


def test_naming_another_tenant_needs_the_management_tenant_and_its_permission() -> None:
    line = CsvLine(2, "SN-1", tenant="other")
    assert codes(ACME, line) == {2: "INVALID_INPUT"}
    no_permission = Actor(
        "management", "ops", MANAGEMENT_ADMIN_PERMISSIONS - {Permission.TENANT_MANAGEMENT_ADMIN}
    )
    assert codes(no_permission, line) == {2: "INVALID_INPUT"}
    assert codes(MANAGER, line) == {}


def test_the_callers_own_tenant_in_the_tenant_column_is_no_tenant_at_all() -> None:
    # Cumulocity's exports fill TENANT with the tenant itself, next to PATH.
    assert codes(ACME, CsvLine(2, "SN-1", tenant="acme", path="Hall 1")) == {}


def test_group_paths_are_trimmed_and_split_on_slashes() -> None:
    assert group_path(" Building 7 / Floor 2 /") == ("Building 7", "Floor 2")
    assert group_path("/Lab") == ("Lab",)
    with pytest.raises(InvalidInput, match="names no group"):
        group_path(" / / ")
    with pytest.raises(InvalidInput, match="levels"):
        group_path("/".join(["g"] * (MAX_PATH_DEPTH + 1)))
    with pytest.raises(InvalidInput, match="at most 255"):
        group_path("x" * 256)
