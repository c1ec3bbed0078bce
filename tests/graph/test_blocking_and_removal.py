"""Wrong tokens block a registration; only ``removeRegistration`` frees its id (§5.3, §5.5)."""

from __future__ import annotations

import httpx

from tests.kit.clients import GraphQLClient
from tests.kit.devices import TOKEN, pending, poll
from tests.kit.documents import REGISTRATION, REMOVE
from tests.kit.options import set_max_failed_attempts, set_token_policy
from tests.kit.registrations import accept, assert_mismatch, register, state

ACCEPT_ALL_IDS = "mutation { acceptAll { accepted { id } notAccepted { id } } }"


async def test_fifth_wrong_token_blocks_and_nothing_gets_through_afterwards(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await pending(http, admin, "dev", TOKEN)
    for attempt in range(1, 5):
        assert_mismatch(await accept(admin, "dev", f"wrong-{attempt}"), attempt, 5 - attempt)

    blocked = await accept(admin, "dev", "wrong-5")
    assert blocked["__typename"] == "RegistrationBlocked"
    assert blocked["code"] == "BLOCKED"
    assert "remove" in blocked["message"].lower()
    current = await state(admin, "dev")
    assert current["status"] == "BLOCKED"
    assert current["failedAttempts"] == 5
    assert current["blockedReason"]

    right = await accept(admin, "dev", TOKEN)
    assert right["__typename"] == "RegistrationBlocked"
    assert "remove" in right["message"].lower()
    assert (await state(admin, "dev"))["failedAttempts"] == 5
    for token in (TOKEN, None):
        answer = await poll(http, "dev", token=token)
        assert answer.status_code == 404
        assert answer.json()["error"] == "devicecontrol/Not Found"
    assert (await state(admin, "dev"))["status"] == "BLOCKED"


async def test_lowering_the_limit_blocks_at_the_next_wrong_token(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await pending(http, admin, "dev", TOKEN)
    for attempt in range(1, 4):
        assert_mismatch(await accept(admin, "dev", "wrong"), attempt, 5 - attempt)
    await set_max_failed_attempts(admin, 2)
    assert (await state(admin, "dev"))["status"] == "PENDING_ACCEPTANCE"

    blocked = await accept(admin, "dev", "wrong")
    assert blocked["__typename"] == "RegistrationBlocked"
    current = await state(admin, "dev")
    assert (current["status"], current["failedAttempts"]) == ("BLOCKED", 4)

    # attemptsLeft follows the limit in force.
    await set_max_failed_attempts(admin, 3)
    await pending(http, admin, "dev-2", TOKEN)
    assert_mismatch(await accept(admin, "dev-2", "wrong"), failed=1, left=2)
    assert_mismatch(await accept(admin, "dev-2"), failed=2, left=1)
    assert (await accept(admin, "dev-2", "wrong"))["__typename"] == "RegistrationBlocked"


async def test_removed_registration_is_gone_and_the_id_walks_the_flow_again(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await set_max_failed_attempts(admin, 1)
    await pending(http, admin, "dev", TOKEN)
    assert (await accept(admin, "dev", "wrong"))["__typename"] == "RegistrationBlocked"

    removed = (await admin.data(REMOVE, id="dev"))["removeRegistration"]
    assert removed == {"__typename": "Removed", "id": "dev"}
    assert (await admin.data(REGISTRATION, id="dev"))["registration"] is None
    assert (await poll(http, "dev", token=TOKEN)).status_code == 404
    gone = (await admin.data(REMOVE, id="dev"))["removeRegistration"]
    assert gone["__typename"] == "NotFound"
    assert (gone["code"], gone["id"]) == ("NOT_FOUND", "dev")

    again = await register(admin, {"id": "dev"})
    assert again["registrations"][0]["status"] == "WAITING_FOR_CONNECTION"
    fresh = await state(admin, "dev")
    assert (fresh["failedAttempts"], fresh["blockedReason"], fresh["connectedAt"]) == (
        0,
        None,
        None,
    )
    assert (await poll(http, "dev", token="new-token")).status_code == 404
    assert (await accept(admin, "dev", "new-token"))["status"] == "ACCEPTED"
    issued = await poll(http, "dev", token="new-token")
    assert issued.status_code == 201
    assert issued.json()["username"] == "device_dev"


async def test_device_blocked_at_first_contact_can_start_over_after_removal(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await set_token_policy(admin, "REQUIRED")
    await pending(http, admin, "dev")
    assert (await state(admin, "dev"))["status"] == "BLOCKED"
    assert (await admin.data(REMOVE, id="dev"))["removeRegistration"]["__typename"] == "Removed"
    await pending(http, admin, "dev", TOKEN)
    assert (await state(admin, "dev"))["status"] == "PENDING_ACCEPTANCE"


async def test_remove_works_in_every_status(http: httpx.AsyncClient, admin: GraphQLClient) -> None:
    await register(admin, {"id": "waiting"})
    await pending(http, admin, "pending")
    await pending(http, admin, "accepted")
    await accept(admin, "accepted")
    await pending(http, admin, "delivered")
    await accept(admin, "delivered")
    assert (await poll(http, "delivered")).status_code == 201
    for device_id in ("waiting", "pending", "accepted", "delivered"):
        result = (await admin.data(REMOVE, id=device_id))["removeRegistration"]
        assert result == {"__typename": "Removed", "id": device_id}
        assert (await admin.data(REGISTRATION, id=device_id))["registration"] is None


async def test_blocked_stays_blocked_whatever_else_happens(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await set_max_failed_attempts(admin, 1)
    await pending(http, admin, "dev", TOKEN)
    await accept(admin, "dev", "wrong")
    await set_token_policy(admin, "IGNORED")
    await set_max_failed_attempts(admin, 100)

    result = (await admin.data(ACCEPT_ALL_IDS))["acceptAll"]
    assert result == {"accepted": [], "notAccepted": []}
    assert (await accept(admin, "dev"))["__typename"] == "RegistrationBlocked"
    assert (await poll(http, "dev", token=TOKEN)).status_code == 404
    assert (await register(admin, {"id": "dev"}))["code"] == "ALREADY_EXISTS"
    current = await state(admin, "dev")
    assert (current["status"], current["failedAttempts"]) == ("BLOCKED", 1)
