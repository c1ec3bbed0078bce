"""``register`` (API.md §5.1): WAITING_FOR_CONNECTION, all or nothing, every bad device named."""

from __future__ import annotations

import httpx

from tests.kit.accounts import make_tenant, make_user
from tests.kit.clients import GraphQLClient, error_codes
from tests.kit.devices import poll
from tests.kit.documents import ACCEPT, REGISTER, REGISTRATION
from tests.kit.groups import create_group
from tests.kit.options import set_max_failed_attempts
from tests.kit.registrations import register, registered_ids

GROUP_REGISTRATIONS = """
query($id: ID!) {
  group(id: $id) {
    registrations { totalCount edges { node { id status group { id name } } } }
  }
}"""


async def test_register_creates_each_device_waiting_for_connection(admin: GraphQLClient) -> None:
    result = await register(admin, {"id": "dev-1"})
    assert result == {
        "__typename": "RegisterSuccess",
        "registrations": [
            {
                "id": "dev-1",
                "status": "WAITING_FOR_CONNECTION",
                "owner": "management/admin",
                "tenantId": "management",
                "group": None,
            }
        ],
    }
    ids = [f"dev-{n}" for n in range(2, 8)]
    many = await register(admin, *({"id": i} for i in ids))
    assert [r["id"] for r in many["registrations"]] == ids
    assert {r["status"] for r in many["registrations"]} == {"WAITING_FOR_CONNECTION"}
    assert await registered_ids(admin) == ["dev-1", *ids]
    state = (await admin.data(REGISTRATION, id="dev-1"))["registration"]
    assert state["status"] == "WAITING_FOR_CONNECTION"
    assert state["connectedAt"] is None
    assert state["usesSecurityToken"] is False
    assert state["failedAttempts"] == 0
    assert state["acceptedBy"] is None


async def test_group_lists_its_registrations_of_every_status(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    group_id = await create_group(admin, "Site")
    await set_max_failed_attempts(admin, 1)
    ids = ["g-accepted", "g-blocked", "g-pending", "g-waiting"]
    result = await register(
        admin, *({"id": i, "groupId": group_id} for i in ids), {"id": "elsewhere"}
    )
    assert [r["group"] for r in result["registrations"]] == [
        *([{"id": group_id, "name": "Site"}] * 4),
        None,
    ]
    for device_id in ("g-accepted", "g-pending", "elsewhere"):
        await poll(http, device_id)
    await poll(http, "g-blocked", token="right")
    assert (await admin.data(ACCEPT, id="g-accepted"))["accept"]["status"] == "ACCEPTED"
    blocked = (await admin.data(ACCEPT, id="g-blocked", token="wrong"))["accept"]
    assert blocked["__typename"] == "RegistrationBlocked"

    listed = (await admin.data(GROUP_REGISTRATIONS, id=group_id))["group"]["registrations"]
    assert listed["totalCount"] == 4
    nodes = [edge["node"] for edge in listed["edges"]]
    assert [n["id"] for n in nodes] == ids
    assert [n["status"] for n in nodes] == [
        "ACCEPTED",
        "BLOCKED",
        "PENDING_ACCEPTANCE",
        "WAITING_FOR_CONNECTION",
    ]
    assert {n["group"]["id"] for n in nodes} == {group_id}


BAD_IDS = {
    "has space": "white space",
    "tab\there": "white space",
    "line\nbreak": "white space",
    "no\u00a0break": "white space",
    "a/b": "'/'",
    "a\\b": "'\\'",
    "a:b": "':'",
    "a?b": "'?'",
    "a#b": "'#'",
    "a%b": "'%'",
    "bell\x07": "unprintable",
    "": "empty",
    "x" * 256: "255",
}


async def test_invalid_ids_are_each_named_with_the_offending_character(
    admin: GraphQLClient,
) -> None:
    devices = [{"id": "good-1"}, *({"id": i} for i in BAD_IDS)]
    result = await register(admin, *devices)
    assert result["__typename"] == "RegisterFailure"
    assert result["code"] == "INVALID_ID"
    assert [p["id"] for p in result["problems"]] == list(BAD_IDS)
    for problem in result["problems"]:
        assert problem["code"] == "INVALID_ID"
        assert BAD_IDS[problem["id"]] in problem["message"], problem
    assert await registered_ids(admin) == []


async def test_ids_of_255_and_printable_non_ascii_characters_are_accepted(
    admin: GraphQLClient,
) -> None:
    device_id = "x" * 255
    result = await register(admin, {"id": device_id}, {"id": "Gerät-Ω-7"})
    assert result["__typename"] == "RegisterSuccess"
    assert (await admin.data(REGISTRATION, id=device_id))["registration"]["id"] == device_id


async def test_id_given_twice_in_one_call_is_one_already_exists_problem(
    admin: GraphQLClient,
) -> None:
    result = await register(admin, {"id": "twin"}, {"id": "fine"}, {"id": "twin"})
    assert result["__typename"] == "RegisterFailure"
    assert result["code"] == "ALREADY_EXISTS"
    assert [(p["code"], p["id"]) for p in result["problems"]] == [("ALREADY_EXISTS", "twin")]
    assert await registered_ids(admin) == []


async def test_id_registered_in_another_tenant_is_taken_without_saying_more(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    acme = await make_tenant(admin, "acme")
    await register(acme, {"id": "taken-1"})
    await poll(http, "taken-1")  # PENDING_ACCEPTANCE in acme now

    result = await register(admin, {"id": "taken-1"})
    assert result["__typename"] == "RegisterFailure"
    assert result["code"] == "ALREADY_EXISTS"
    [problem] = result["problems"]
    assert (problem["code"], problem["id"]) == ("ALREADY_EXISTS", "taken-1")
    revealing = ("acme", "admin", "pending", "waiting", "accept", "tenant", "owner")
    for text in (problem["message"].lower(), result["message"].lower()):
        assert not any(word in text for word in revealing), text
    assert await registered_ids(admin) == []


async def test_id_registered_in_own_tenant_in_any_status_is_taken(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await set_max_failed_attempts(admin, 1)
    await register(admin, {"id": "w"}, {"id": "p"}, {"id": "a"}, {"id": "b"})
    for device_id in ("p", "a"):
        await poll(http, device_id)
    await poll(http, "b", token="t")
    await admin.data(ACCEPT, id="a")
    await admin.data(ACCEPT, id="b", token="nope")

    result = await register(admin, {"id": "w"}, {"id": "p"}, {"id": "a"}, {"id": "b"})
    assert result["code"] == "ALREADY_EXISTS"
    assert [p["id"] for p in result["problems"]] == ["w", "p", "a", "b"]


async def test_unknown_groups_are_not_found(admin: GraphQLClient) -> None:
    bad_groups = ["424242", "not-a-number", "-1", "1.5", "", "99999999999999999999999"]
    devices = [{"id": f"dev-{n}", "groupId": g} for n, g in enumerate(bad_groups)]
    result = await register(admin, *devices)
    assert result["__typename"] == "RegisterFailure"
    assert result["code"] == "NOT_FOUND"
    assert [(p["code"], p["id"]) for p in result["problems"]] == [
        ("NOT_FOUND", d["id"]) for d in devices
    ]
    assert await registered_ids(admin) == []


async def test_group_id_beyond_int32_is_not_found(
    admin: GraphQLClient,
) -> None:
    body = await admin(REGISTER, devices=[{"id": "dev-1", "groupId": "2147483648"}])
    assert "errors" not in body, body["errors"]
    result = body["data"]["register"]
    assert result["code"] == "NOT_FOUND"
    assert [p["id"] for p in result["problems"]] == ["dev-1"]


async def test_another_tenants_group_is_not_found(admin: GraphQLClient) -> None:
    acme = await make_tenant(admin, "acme")
    acme_group = await create_group(acme, "Acme site")
    result = await register(admin, {"id": "dev-1", "groupId": acme_group})
    assert result["code"] == "NOT_FOUND"
    assert [p["id"] for p in result["problems"]] == ["dev-1"]
    assert "acme" not in result["problems"][0]["message"].lower()
    assert await registered_ids(admin) == []
    assert await registered_ids(acme) == []


async def test_one_bad_device_among_good_ones_stores_none(admin: GraphQLClient) -> None:
    result = await register(admin, {"id": "good-1"}, {"id": "bad/1"}, {"id": "good-2"})
    assert result["__typename"] == "RegisterFailure"
    assert [p["id"] for p in result["problems"]] == ["bad/1"]
    assert "none" in result["message"]
    assert await registered_ids(admin) == []
    assert (await admin.data(REGISTRATION, id="good-1"))["registration"] is None
    # Nothing was half-stored: the good ids are still free.
    assert (await register(admin, {"id": "good-1"}, {"id": "good-2"}))[
        "__typename"
    ] == "RegisterSuccess"


async def test_failure_code_is_common_code_or_invalid_input(admin: GraphQLClient) -> None:
    await register(admin, {"id": "existing"})

    same = await register(admin, {"id": "a b"}, {"id": "c:d"})
    assert same["code"] == "INVALID_ID"

    mixed = await register(
        admin,
        {"id": "ok-1"},
        {"id": "a b"},
        {"id": "existing"},
        {"id": "ok-2", "groupId": "999"},
    )
    assert mixed["__typename"] == "RegisterFailure"
    assert mixed["code"] == "INVALID_INPUT"
    assert [(p["id"], p["code"]) for p in mixed["problems"]] == [
        ("a b", "INVALID_ID"),
        ("existing", "ALREADY_EXISTS"),
        ("ok-2", "NOT_FOUND"),
    ]
    assert await registered_ids(admin) == ["existing"]


async def test_empty_device_list_is_invalid_input(admin: GraphQLClient) -> None:
    body = await admin(REGISTER, devices=[])
    assert error_codes(body) == ["INVALID_INPUT"]
    assert body["data"] is None


async def test_register_needs_device_control_admin(admin: GraphQLClient) -> None:
    reader = await make_user(admin, "reader", ["DEVICE_CONTROL_READ"])
    body = await reader(REGISTER, devices=[{"id": "dev-1"}])
    assert error_codes(body) == ["FORBIDDEN"]
    assert await registered_ids(admin) == []
