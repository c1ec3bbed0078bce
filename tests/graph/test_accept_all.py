"""``acceptAll`` (API.md §5.4): every pending registration that needs no token, in one go."""

from __future__ import annotations

import httpx

from models.events import RegistrationEvent
from models.registrations import RegistrationStatus
from tests.kit.accounts import make_tenant
from tests.kit.clients import GraphQLClient
from tests.kit.devices import TOKEN, pending, poll
from tests.kit.documents import STAMPS
from tests.kit.groups import create_group
from tests.kit.options import set_max_failed_attempts, set_token_policy
from tests.kit.registrations import accept, accept_all, register, state


async def test_optional_accepts_tokenless_and_lists_token_devices(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    for device_id in ("plain-b", "plain-a"):
        await pending(http, admin, device_id)
    for device_id in ("token-b", "token-a"):
        await pending(http, admin, device_id, TOKEN)

    result = await accept_all(admin)
    assert [r["id"] for r in result["accepted"]] == ["plain-a", "plain-b"]
    for accepted in result["accepted"]:
        assert accepted["status"] == "ACCEPTED"
        assert accepted["acceptedBy"] == "management/admin"
        assert accepted["acceptedAt"] is not None
    assert [(p["code"], p["id"]) for p in result["notAccepted"]] == [
        ("SECURITY_TOKEN_REQUIRED", "token-a"),
        ("SECURITY_TOKEN_REQUIRED", "token-b"),
    ]
    assert all(p["id"] in p["message"] for p in result["notAccepted"])
    assert "token-a" in result["warning"]
    assert "token-b" in result["warning"]
    assert "plain-a" not in result["warning"]

    for device_id in ("plain-a", "plain-b"):
        assert (await state(admin, device_id))["status"] == "ACCEPTED"
    for device_id in ("token-a", "token-b"):
        current = await state(admin, device_id)
        assert (current["status"], current["failedAttempts"]) == ("PENDING_ACCEPTANCE", 0)
    # The token devices are then accepted one by one, with their token.
    assert (await accept(admin, "token-a", TOKEN))["status"] == "ACCEPTED"
    # And the accepted devices collect their credentials.
    for device_id in ("plain-a", "plain-b"):
        issued = await poll(http, device_id)
        assert issued.status_code == 201
        assert issued.json()["username"] == f"device_{device_id}"
        assert (await state(admin, device_id))["credentialsDeliveredAt"] is not None


async def test_no_warning_unless_something_is_left_pending(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    assert await accept_all(admin) == {"accepted": [], "notAccepted": [], "warning": None}
    await register(admin, {"id": "waiting"})
    assert await accept_all(admin) == {"accepted": [], "notAccepted": [], "warning": None}
    assert (await state(admin, "waiting"))["status"] == "WAITING_FOR_CONNECTION"

    await pending(http, admin, "plain")  # everything pending accepted: still no warning
    result = await accept_all(admin)
    assert [r["id"] for r in result["accepted"]] == ["plain"]
    assert (result["notAccepted"], result["warning"]) == ([], None)


async def test_ignored_accepts_every_pending_registration(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await set_token_policy(admin, "IGNORED")
    await pending(http, admin, "plain")
    await pending(http, admin, "tokened", TOKEN)
    result = await accept_all(admin)
    assert [r["id"] for r in result["accepted"]] == ["plain", "tokened"]
    assert (result["notAccepted"], result["warning"]) == ([], None)
    assert (await state(admin, "tokened"))["status"] == "ACCEPTED"


async def test_required_accepts_none(http: httpx.AsyncClient, admin: GraphQLClient) -> None:
    await pending(http, admin, "early")  # tokenless, connected before the policy changed
    await set_token_policy(admin, "REQUIRED")
    await pending(http, admin, "tokened", TOKEN)
    result = await accept_all(admin)
    assert result["accepted"] == []
    assert [(p["code"], p["id"]) for p in result["notAccepted"]] == [
        ("SECURITY_TOKEN_REQUIRED", "early"),
        ("SECURITY_TOKEN_REQUIRED", "tokened"),
    ]
    assert "early" in result["warning"]
    assert "tokened" in result["warning"]
    for device_id in ("early", "tokened"):
        current = await state(admin, device_id)
        assert (current["status"], current["failedAttempts"]) == ("PENDING_ACCEPTANCE", 0)


async def test_only_pending_registrations_are_touched(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await set_max_failed_attempts(admin, 1)
    await register(admin, {"id": "waiting"})
    await pending(http, admin, "blocked", TOKEN)
    await accept(admin, "blocked", "wrong")
    await pending(http, admin, "earlier")
    await accept(admin, "earlier")
    before = (await admin.data(STAMPS, id="earlier"))["registration"]
    await pending(http, admin, "pending")

    result = await accept_all(admin)
    assert [r["id"] for r in result["accepted"]] == ["pending"]
    assert (await state(admin, "waiting"))["status"] == "WAITING_FOR_CONNECTION"
    assert (await state(admin, "blocked"))["status"] == "BLOCKED"
    assert (await admin.data(STAMPS, id="earlier"))["registration"] == before


async def test_only_the_callers_tenant_is_affected(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    acme = await make_tenant(admin, "acme")
    await pending(http, acme, "acme-dev")
    await pending(http, admin, "mine")
    result = await accept_all(admin)
    assert [r["id"] for r in result["accepted"]] == ["mine"]
    assert (await state(acme, "acme-dev"))["status"] == "PENDING_ACCEPTANCE"
    assert (await accept_all(acme))["accepted"][0]["acceptedBy"] == "acme/admin"


EVERY_FIELD = """
  id status tenantId owner createdAt updatedAt connectedAt connectedFrom usesSecurityToken
  failedAttempts acceptedAt acceptedBy blockedReason credentialsDeliveredAt lastAuthenticatedAt
  credentialsRequestedAgainAt group { id name parent { name } }
"""
ACCEPT_ALL_EVERY_FIELD = (
    f"mutation {{ acceptAll {{ accepted {{ {EVERY_FIELD} }} notAccepted {{ code message id }} "
    "warning } }"
)
ACCEPTED_LISTING = (
    "{ registrations(status: [ACCEPTED], first: 100) "
    f"{{ edges {{ node {{ {EVERY_FIELD} }} }} }} }}"
)


async def test_the_answer_is_what_a_read_of_the_accepted_registrations_gives(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    # acceptAll builds its answer from the rows its UPDATE returned, not from a read through
    # the ORM: every field, and the order, must be what the usual read path gives afterwards.
    await set_max_failed_attempts(admin, 3)
    await pending(http, admin, "Early-1")  # a failed attempt under REQUIRED, then OPTIONAL again
    await set_token_policy(admin, "REQUIRED")
    assert (await accept(admin, "Early-1"))["__typename"] == "SecurityTokenMismatch"
    await set_token_policy(admin, "OPTIONAL")
    site = await create_group(admin, "Site")
    hall = await create_group(admin, "Hall", site)
    registered = await register(admin, {"id": "grouped-b", "groupId": hall}, {"id": "Zed"})
    assert registered["__typename"] == "RegisterSuccess", registered
    for device_id in ("grouped-b", "Zed"):
        assert (await poll(http, device_id)).status_code == 404
    await pending(http, admin, "plain-a")
    await pending(http, admin, "token-x", TOKEN)
    await register(admin, {"id": "waiting"})

    result = (await admin.data(ACCEPT_ALL_EVERY_FIELD))["acceptAll"]

    listed = (await admin.data(ACCEPTED_LISTING))["registrations"]["edges"]
    assert result["accepted"] == [edge["node"] for edge in listed]
    assert {r["id"] for r in result["accepted"]} == {"Early-1", "grouped-b", "Zed", "plain-a"}
    by_id = {r["id"]: r for r in result["accepted"]}
    assert by_id["Early-1"]["failedAttempts"] == 1
    assert by_id["grouped-b"]["group"] == {"id": hall, "name": "Hall", "parent": {"name": "Site"}}
    assert len({r["acceptedAt"] for r in result["accepted"]}) == 1
    # One ACCEPTED event per accepted registration, logged in the answer's order.
    logged = await RegistrationEvent.filter(tenant_id="management", kind="ACCEPTED").order_by("seq")
    assert [(e.device_id, e.actor, e.previous_status) for e in logged] == [
        (r["id"], "management/admin", RegistrationStatus.PENDING_ACCEPTANCE)
        for r in result["accepted"]
    ]
    assert result["notAccepted"] == [
        {
            "code": "SECURITY_TOKEN_REQUIRED",
            "message": "device token-x used a security token: accept it with its token",
            "id": "token-x",
        }
    ]
    assert result["warning"] == (
        "1 registration(s) need a security token and were not accepted: token-x. "
        "Accept each one with its security token."
    )
