"""``setTenantOption``, ``tenantOption`` and ``tenantOptions`` (API.md §5.7)."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.kit.clients import GraphQLClient, error_codes
from tests.kit.documents import SET_TENANT_OPTION
from tests.kit.options import set_option

GET = """
query($category: String!, $key: String!) {
  tenantOption(category: $category, key: $key) { category key value }
}"""

LIST = """
query($category: String) { tenantOptions(category: $category) { category key value } }
"""

CATEGORY = "device-registration"
POLICY = "security-token.policy"
MAX_ATTEMPTS = "security-token.max-failed-attempts"


async def stored_value(admin: GraphQLClient, category: str, key: str) -> str | None:
    option = (await admin.data(GET, category=category, key=key))["tenantOption"]
    return None if option is None else str(option["value"])


async def all_options(admin: GraphQLClient, category: str | None = None) -> list[dict[str, str]]:
    options: list[dict[str, str]] = (await admin.data(LIST, category=category))["tenantOptions"]
    return options


def assert_invalid_option(result: dict[str, Any], case: object = None) -> None:
    assert result["__typename"] == "InvalidOption", (case, result)
    assert result["code"] == "INVALID_OPTION"
    assert result["message"]


async def test_each_policy_value_is_stored(admin: GraphQLClient) -> None:
    for policy in ("IGNORED", "OPTIONAL", "REQUIRED"):
        result = await set_option(admin, CATEGORY, POLICY, policy)
        assert result == {
            "__typename": "TenantOption",
            "category": CATEGORY,
            "key": POLICY,
            "value": policy,
        }
        assert await stored_value(admin, CATEGORY, POLICY) == policy


async def test_unknown_policy_is_refused_and_the_old_value_kept(admin: GraphQLClient) -> None:
    await set_option(admin, CATEGORY, POLICY, "IGNORED")
    for value in ("required", "Required", "", "STRICT", " REQUIRED", "REQUIRED "):
        assert_invalid_option(await set_option(admin, CATEGORY, POLICY, value), value)
    assert await stored_value(admin, CATEGORY, POLICY) == "IGNORED"


async def test_max_failed_attempts_within_1_to_100_is_stored(admin: GraphQLClient) -> None:
    for value in ("1", "100", "5"):
        result = await set_option(admin, CATEGORY, MAX_ATTEMPTS, value)
        assert result["__typename"] == "TenantOption", value
        assert await stored_value(admin, CATEGORY, MAX_ATTEMPTS) == value


async def test_bad_max_failed_attempts_is_refused_and_the_old_value_kept(
    admin: GraphQLClient,
) -> None:
    await set_option(admin, CATEGORY, MAX_ATTEMPTS, "7")
    for value in ("0", "101", "-1", "abc", "5.5", " 5", "5 ", "", "+5", "99999999999999999999"):
        assert_invalid_option(await set_option(admin, CATEGORY, MAX_ATTEMPTS, value), value)
    assert await stored_value(admin, CATEGORY, MAX_ATTEMPTS) == "7"


async def test_refused_first_value_stores_nothing(admin: GraphQLClient) -> None:
    assert_invalid_option(await set_option(admin, CATEGORY, POLICY, "required"))
    assert await stored_value(admin, CATEGORY, POLICY) is None
    assert await all_options(admin) == []


async def test_other_options_are_stored_as_given(admin: GraphQLClient) -> None:
    for category, key, value in [
        ("my-app", "colour", "  anything goes: ✓\nsecond line\t"),
        ("my-app", "empty", ""),
        (CATEGORY, "some.other-key", "not validated"),
        ("Device-Registration", POLICY, "lowercase is fine outside the known category"),
    ]:
        result = await set_option(admin, category, key, value)
        assert result == {
            "__typename": "TenantOption",
            "category": category,
            "key": key,
            "value": value,
        }
        assert await stored_value(admin, category, key) == value


async def test_category_and_key_need_1_to_128_characters(admin: GraphQLClient) -> None:
    for category, key in [("", "key"), ("app", ""), ("c" * 129, "key"), ("app", "k" * 129)]:
        assert_invalid_option(await set_option(admin, category, key, "v"), (category, key))
    assert await all_options(admin) == []


async def test_category_and_key_of_128_characters_are_fine(admin: GraphQLClient) -> None:
    category, key = "c" * 128, "ü" * 128  # characters, not bytes
    assert (await set_option(admin, category, key, "v"))["__typename"] == "TenantOption"
    assert await stored_value(admin, category, key) == "v"


async def test_value_of_64_kib_is_stored(admin: GraphQLClient) -> None:
    for value in ("x" * 65536, "é" * 32768):
        assert (await set_option(admin, "app", "big", value))["__typename"] == "TenantOption"
        assert await stored_value(admin, "app", "big") == value


async def test_value_over_64_kib_is_refused(admin: GraphQLClient) -> None:
    # The limit counts UTF-8 bytes: 32768 "é" are 64 KiB, one more byte is too many.
    await set_option(admin, "app", "big", "small")
    for value in ("x" * 65537, "é" * 32768 + "x"):
        assert_invalid_option(await set_option(admin, "app", "big", value), len(value))
    assert await stored_value(admin, "app", "big") == "small"


async def test_nul_character_is_refused_on_every_backend(admin: GraphQLClient) -> None:
    # PostgreSQL cannot store NUL in text; both backends refuse it alike, before the
    # mutation runs (a NUL anywhere in a request is INVALID_INPUT, API.md §9.6).
    for category, key, value in [
        ("app", "nul", "a\x00b"),
        ("a\x00", "k", "v"),
        ("app", "\x00", "v"),
    ]:
        body = await admin(SET_TENANT_OPTION, category=category, key=key, value=value)
        assert error_codes(body) == ["INVALID_INPUT"], repr(category + key)
        assert body["data"] is None
    assert await all_options(admin) == []


async def test_setting_twice_replaces_the_value(admin: GraphQLClient) -> None:
    await set_option(admin, "app", "colour", "red")
    result = await set_option(admin, "app", "colour", "blue")
    assert result["value"] == "blue"
    assert await all_options(admin) == [{"category": "app", "key": "colour", "value": "blue"}]


async def test_concurrent_sets_of_a_new_option_leave_one_value(admin: GraphQLClient) -> None:
    values = [f"v{i}" for i in range(8)]
    results = await asyncio.gather(*(set_option(admin, "app", "race", v) for v in values))
    assert [r["__typename"] for r in results] == ["TenantOption"] * len(values)
    stored = await all_options(admin)
    assert len(stored) == 1
    assert stored[0]["value"] in values


async def test_tenant_options_filters_by_category(admin: GraphQLClient) -> None:
    await set_option(admin, "b", "z", "3")
    await set_option(admin, "a", "y", "2")
    await set_option(admin, "a", "x", "1")
    assert await all_options(admin, "a") == [
        {"category": "a", "key": "x", "value": "1"},
        {"category": "a", "key": "y", "value": "2"},
    ]
    assert [(o["category"], o["key"]) for o in await all_options(admin)] == [
        ("a", "x"),
        ("a", "y"),
        ("b", "z"),
    ]
    assert await all_options(admin, "none") == []


async def test_missing_option_reads_null(admin: GraphQLClient) -> None:
    await set_option(admin, "app", "colour", "red")
    assert await stored_value(admin, "app", "size") is None
    assert await stored_value(admin, "other", "colour") is None
