"""``accept`` under each security token policy (API.md §5.2, §5.3)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.kit.accounts import make_user
from tests.kit.clients import GraphQLClient
from tests.kit.devices import TOKEN, pending, poll
from tests.kit.documents import ACCEPT, ACCEPT_NOT_FOUND
from tests.kit.options import set_token_policy, token_policy
from tests.kit.registrations import accept, assert_mismatch, register, state


def assert_accepted(result: dict[str, Any], device_id: str, by: str = "management/admin") -> None:
    assert result["__typename"] == "Registration", result
    assert result["id"] == device_id
    assert result["status"] == "ACCEPTED"
    assert result["acceptedBy"] == by
    assert result["acceptedAt"] is not None


# ---------------------------------------------------------------- IGNORED


async def test_ignored_accepts_both_devices_without_a_token(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await set_token_policy(admin, "IGNORED")
    await pending(http, admin, "plain")
    await pending(http, admin, "tokened", TOKEN)
    await pending(http, admin, "tokened-2", TOKEN)
    assert_accepted(await accept(admin, "plain"), "plain")
    result = await accept(admin, "tokened")
    assert_accepted(result, "tokened")
    assert result["usesSecurityToken"] is True
    assert_accepted(await accept(admin, "tokened-2", "not-it"), "tokened-2")
    assert (await state(admin, "tokened-2"))["failedAttempts"] == 0


async def test_ignored_still_delivers_only_to_the_token_of_first_contact(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await set_token_policy(admin, "IGNORED")
    await pending(http, admin, "tokened", TOKEN)
    await accept(admin, "tokened")
    assert (await poll(http, "tokened")).status_code == 404
    assert (await poll(http, "tokened", token="other")).status_code == 404
    assert (await poll(http, "tokened", token=TOKEN)).status_code == 201


# ---------------------------------------------------------------- OPTIONAL


async def test_optional_accepts_tokenless_device_and_ignores_a_typed_token(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await set_token_policy(admin, "OPTIONAL")
    await pending(http, admin, "plain-1")
    await pending(http, admin, "plain-2")
    assert_accepted(await accept(admin, "plain-1"), "plain-1")
    result = await accept(admin, "plain-2", "typed-anyway")
    assert_accepted(result, "plain-2")
    assert result["usesSecurityToken"] is False
    assert (await state(admin, "plain-2"))["failedAttempts"] == 0
    assert (await poll(http, "plain-2")).status_code == 201


async def test_optional_token_device_needs_its_token(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await set_token_policy(admin, "OPTIONAL")
    await pending(http, admin, "tokened", TOKEN)

    wrong = await accept(admin, "tokened", "not-it")
    assert_mismatch(wrong, failed=1, left=4)
    missing = await accept(admin, "tokened")
    assert_mismatch(missing, failed=2, left=3)
    assert "token" in missing["message"]
    empty = await accept(admin, "tokened", "")
    assert_mismatch(empty, failed=3, left=2)
    current = await state(admin, "tokened")
    assert (current["status"], current["failedAttempts"]) == ("PENDING_ACCEPTANCE", 3)

    assert_accepted(await accept(admin, "tokened", TOKEN), "tokened")
    assert (await state(admin, "tokened"))["failedAttempts"] == 3


# ---------------------------------------------------------------- REQUIRED


async def test_required_blocks_tokenless_device_at_first_contact(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await set_token_policy(admin, "REQUIRED")
    await pending(http, admin, "plain")
    current = await state(admin, "plain")
    assert current["status"] == "BLOCKED"
    assert current["usesSecurityToken"] is False
    assert current["connectedAt"] is not None
    assert "token" in current["blockedReason"]
    result = await accept(admin, "plain")
    assert result["__typename"] == "RegistrationBlocked"
    assert result["code"] == "BLOCKED"
    await pending(http, admin, "blank", token="")  # an empty token is no token
    assert (await state(admin, "blank"))["status"] == "BLOCKED"


async def test_required_token_device_needs_its_token(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await set_token_policy(admin, "REQUIRED")
    await pending(http, admin, "tokened", TOKEN)
    assert (await state(admin, "tokened"))["status"] == "PENDING_ACCEPTANCE"
    assert_mismatch(await accept(admin, "tokened", "not-it"), failed=1, left=4)
    assert_mismatch(await accept(admin, "tokened"), failed=2, left=3)
    assert_accepted(await accept(admin, "tokened", TOKEN), "tokened")
    assert (await poll(http, "tokened", token=TOKEN)).status_code == 201


async def test_required_refuses_tokenless_device_that_connected_before_the_policy(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await pending(http, admin, "early")  # connected under OPTIONAL: PENDING, no token
    await set_token_policy(admin, "REQUIRED")
    assert (await state(admin, "early"))["status"] == "PENDING_ACCEPTANCE"

    missing = await accept(admin, "early")
    assert_mismatch(missing, failed=1, left=4)
    assert "REQUIRED" in missing["message"]
    typed = await accept(admin, "early", "anything")
    assert_mismatch(typed, failed=2, left=3)
    current = await state(admin, "early")
    assert (current["status"], current["failedAttempts"]) == ("PENDING_ACCEPTANCE", 2)


# ---------------------------------------------------------------- permission fallback


async def test_caller_without_option_read_is_treated_as_optional(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    assert await token_policy(admin) == "OPTIONAL"  # the default
    await set_token_policy(admin, "IGNORED")
    assert await token_policy(admin) == "IGNORED"
    operator = await make_user(admin, "ops", ["DEVICE_CONTROL_ADMIN", "DEVICE_CONTROL_READ"])
    assert await token_policy(operator) == "OPTIONAL"
    await pending(http, admin, "tokened", TOKEN)
    await pending(http, admin, "plain")

    assert_mismatch(await accept(operator, "tokened"), failed=1, left=4)
    assert_accepted(await accept(operator, "plain"), "plain", by="management/ops")
    assert_accepted(await accept(operator, "tokened", TOKEN), "tokened", by="management/ops")

    # The same tenant's admin, who may read options, gets IGNORED.
    await pending(http, admin, "tokened-2", TOKEN)
    assert_accepted(await accept(admin, "tokened-2"), "tokened-2")


# ---------------------------------------------------------------- status


async def test_accept_of_unknown_waiting_or_accepted_registration_is_refused(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await register(admin, {"id": "waiting"})
    result = await accept(admin, "waiting")
    assert result["__typename"] == "InvalidStatus"
    assert result["code"] == "INVALID_STATUS"
    assert result["status"] == "WAITING_FOR_CONNECTION"
    assert (await state(admin, "waiting"))["failedAttempts"] == 0

    await pending(http, admin, "done")
    await accept(admin, "done")
    again = await accept(admin, "done", "some-token")
    assert again["__typename"] == "InvalidStatus"
    assert again["status"] == "ACCEPTED"
    assert (await state(admin, "done"))["failedAttempts"] == 0

    result = (await admin.data(ACCEPT_NOT_FOUND, id="ghost"))["accept"]
    assert result["__typename"] == "NotFound"
    assert (result["code"], result["id"]) == ("NOT_FOUND", "ghost")


async def test_accept_needs_device_control_admin(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await pending(http, admin, "plain")
    reader = await make_user(admin, "reader", ["DEVICE_CONTROL_READ"])
    body = await reader(ACCEPT, id="plain")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await state(admin, "plain"))["status"] == "PENDING_ACCEPTANCE"
