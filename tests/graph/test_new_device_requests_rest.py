"""``/devicecontrol/newDeviceRequests`` row by row (API.md §8.1), with §8's common rules."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

from models.events import RegistrationEvent
from models.registrations import Registration
from tests.kit.accounts import make_tenant, make_user
from tests.kit.clients import GraphQLClient
from tests.kit.devices import TOKEN, pending, poll
from tests.kit.groups import create_group
from tests.kit.options import set_max_failed_attempts, set_token_policy
from tests.kit.registrations import event_kinds, state
from tests.kit.rest import (
    DEVICE_REQUESTS,
    NEW_DEVICE_REQUEST_TYPE,
    RestClient,
    create_request,
    error_of,
    rest,
)

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
#: Every permission a subtenant admin can hand out.
GRANTABLE = [
    "DEVICE_CONTROL_READ",
    "DEVICE_CONTROL_ADMIN",
    "INVENTORY_READ",
    "INVENTORY_ADMIN",
    "OPTION_MANAGEMENT_READ",
    "OPTION_MANAGEMENT_ADMIN",
    "USER_MANAGEMENT_ADMIN",
]


def one(device_id: str) -> str:
    return f"{DEVICE_REQUESTS}/{quote(device_id, safe='')}"


def current_page(link: str) -> int:
    return int(parse_qs(urlsplit(link).query)["currentPage"][0])


# ---------------------------------------------------------------- create


async def test_create_answers_201_with_a_new_device_request(admin: GraphQLClient) -> None:
    response = await rest(admin).post(DEVICE_REQUESTS, {"id": "SN-0001"})
    assert response.status_code == 201
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"id", "status", "tenantId", "owner", "creationTime", "self"}
    assert body["id"] == "SN-0001"
    assert body["status"] == "WAITING_FOR_CONNECTION"
    assert (body["tenantId"], body["owner"]) == ("management", "management/admin")
    assert TIMESTAMP.fullmatch(body["creationTime"])
    assert body["self"] == "http://gatehouse.test/devicecontrol/newDeviceRequests/SN-0001"
    assert await event_kinds("SN-0001") == ["REGISTERED"]


async def test_create_into_a_group_names_it_and_the_registration_has_it(
    admin: GraphQLClient,
) -> None:
    group = await create_group(admin, "Building 7")
    body = await create_request(rest(admin), "SN-0002", groupId=int(group))
    assert body["groupId"] == group
    assert (await state(admin, "SN-0002"))["status"] == "WAITING_FOR_CONNECTION"
    row = await Registration.get(device_id="SN-0002")
    assert row.group_id == int(group)


async def test_create_with_a_trailing_slash_and_cumulocity_media_types(
    admin: GraphQLClient,
) -> None:
    response = await rest(admin).post(
        DEVICE_REQUESTS + "/",
        {"id": "SN-0003"},
        headers={"Content-Type": NEW_DEVICE_REQUEST_TYPE, "Accept": NEW_DEVICE_REQUEST_TYPE},
    )
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith(NEW_DEVICE_REQUEST_TYPE)
    assert response.json()["id"] == "SN-0003"


async def test_create_of_an_id_already_registered_anywhere_is_409(admin: GraphQLClient) -> None:
    acme = await make_tenant(admin, "acme")
    await create_request(rest(acme), "SN-taken")
    response = await rest(admin).post(DEVICE_REQUESTS, {"id": "SN-taken"})
    assert response.status_code == 409
    assert error_of(response) == "devicecontrol/Non Unique Result"
    assert response.json()["code"] == "ALREADY_EXISTS"
    assert "acme" not in response.text
    assert (await Registration.get(device_id="SN-taken")).tenant_id == "acme"


@pytest.mark.parametrize(
    ("body", "error", "code"),
    [
        ({"id": "has space"}, "devicecontrol/Invalid Id", "INVALID_ID"),
        ({"id": "a/b"}, "devicecontrol/Invalid Id", "INVALID_ID"),
        ({"id": "SN-x", "groupId": "999"}, "devicecontrol/Invalid Reference", "NOT_FOUND"),
        ({"id": "SN-x", "tenantId": "nosuch"}, "devicecontrol/Invalid Reference", "NOT_FOUND"),
        (
            {"id": "SN-x", "tenantId": "acme", "groupId": "1"},
            "devicecontrol/Tenant And Group",
            "TENANT_AND_GROUP",
        ),
        ({"groupId": "1"}, "undefined/validationError", "INVALID_INPUT"),
        ({"id": ["SN-x"]}, "undefined/validationError", "INVALID_INPUT"),
    ],
)
async def test_create_refuses_with_422_and_registers_nothing(
    admin: GraphQLClient, body: dict[str, Any], error: str, code: str
) -> None:
    await make_tenant(admin, "acme")
    response = await rest(admin).post(DEVICE_REQUESTS, body)
    assert response.status_code == 422, response.text
    assert error_of(response) == error
    assert response.json()["code"] == code
    assert await Registration.all().count() == 0
    assert await RegistrationEvent.all().count() == 0


async def test_create_into_another_tenant_as_management_and_only_as_management(
    admin: GraphQLClient,
) -> None:
    acme = await make_tenant(admin, "acme")
    body = await create_request(rest(admin), "SN-for-acme", tenantId="acme")
    assert body["tenantId"] == "acme"
    assert (await rest(acme).get(one("SN-for-acme"))).status_code == 200
    response = await rest(acme).post(DEVICE_REQUESTS, {"id": "SN-y", "tenantId": "management"})
    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_INPUT"


async def test_create_with_a_group_of_another_tenant_is_422(admin: GraphQLClient) -> None:
    acme = await make_tenant(admin, "acme")
    theirs = await create_group(acme, "Their group")
    response = await rest(admin).post(DEVICE_REQUESTS, {"id": "SN-z", "groupId": theirs})
    assert response.status_code == 422
    assert response.json()["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("content", "content_type", "status", "error"),
    [
        (b"{not json", "application/json", 422, "undefined/validationError"),
        (b'["SN-1"]', "application/json", 422, "undefined/validationError"),
        (b'{"id": "SN-1"}', "text/plain", 415, "general/Unsupported Media Type"),
        (b'{"id": "SN-1"}', "application/jsonx", 415, "general/Unsupported Media Type"),
    ],
)
async def test_create_with_a_body_it_cannot_read(
    admin: GraphQLClient, content: bytes, content_type: str, status: int, error: str
) -> None:
    response = await rest(admin).post(
        DEVICE_REQUESTS, content=content, headers={"Content-Type": content_type}
    )
    assert response.status_code == status
    assert error_of(response) == error
    assert await Registration.all().count() == 0


# ---------------------------------------------------------------- list


async def test_list_pages_by_id_with_links_and_totals(admin: GraphQLClient) -> None:
    client = rest(admin)
    for device_id in ["dev-g", "dev-c", "dev-a", "dev-e", "dev-b", "dev-f", "dev-d"]:
        await create_request(client, device_id)

    first = (await client.get(DEVICE_REQUESTS, pageSize=3, withTotalPages="true")).json()
    assert [r["id"] for r in first["newDeviceRequests"]] == ["dev-a", "dev-b", "dev-c"]
    assert first["statistics"] == {
        "currentPage": 1,
        "pageSize": 3,
        "totalPages": 3,
        "totalElements": 7,
    }
    assert "prev" not in first
    assert current_page(first["next"]) == 2
    assert first["self"].startswith("http://gatehouse.test/devicecontrol/newDeviceRequests?")

    second = await client.get(urlsplit(first["next"]).path + "?" + urlsplit(first["next"]).query)
    assert [r["id"] for r in second.json()["newDeviceRequests"]] == ["dev-d", "dev-e", "dev-f"]
    third = (await client.get(DEVICE_REQUESTS, pageSize=3, currentPage=3)).json()
    assert [r["id"] for r in third["newDeviceRequests"]] == ["dev-g"]
    assert "next" not in third
    assert current_page(third["prev"]) == 2
    assert "totalPages" not in third["statistics"]

    past = await client.get(DEVICE_REQUESTS + "/", pageSize=3, currentPage=9)
    assert past.status_code == 200
    assert past.json()["newDeviceRequests"] == []
    assert "next" not in past.json()


async def test_list_pages_five_by_default(admin: GraphQLClient) -> None:
    client = rest(admin)
    for n in range(6):
        await create_request(client, f"dev-{n}")
    body = (await client.get(DEVICE_REQUESTS)).json()
    assert len(body["newDeviceRequests"]) == 5
    assert body["statistics"]["pageSize"] == 5
    assert "next" in body
    assert len((await client.get(DEVICE_REQUESTS, pageSize=2000)).json()["newDeviceRequests"]) == 6


@pytest.mark.parametrize(
    "params",
    [
        {"pageSize": 0},
        {"pageSize": 2001},
        {"pageSize": "five"},
        {"currentPage": 0},
        {"currentPage": "-1"},
        {"currentPage": "99999999999999999999"},
    ],
)
async def test_list_refuses_page_numbers_out_of_range(
    admin: GraphQLClient, params: dict[str, Any]
) -> None:
    response = await rest(admin).get(DEVICE_REQUESTS, **params)
    assert response.status_code == 422
    assert error_of(response) == "undefined/validationError"


# ---------------------------------------------------------------- get


async def test_get_reads_one_request_by_url_encoded_id(admin: GraphQLClient) -> None:
    device_id = "dev+1@lab;rack=2"
    created = await create_request(rest(admin), device_id)
    assert created["self"].endswith("/dev%2B1%40lab%3Brack%3D2")
    for path in (one(device_id), one(device_id) + "/"):
        response = await rest(admin).get(path)
        assert response.status_code == 200, path
        assert response.json() == created


async def test_get_of_an_unknown_or_malformed_id_is_404(admin: GraphQLClient) -> None:
    for path in (one("nobody"), DEVICE_REQUESTS + "/a%2Fb", DEVICE_REQUESTS + "/a/b"):
        response = await rest(admin).get(path)
        assert response.status_code == 404, path
        assert error_of(response) == "devicecontrol/Not Found"


# ---------------------------------------------------------------- accept


async def test_accept_with_a_wrong_then_the_right_token(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await pending(http, admin, "SN-tok", token=TOKEN)
    client = rest(admin)
    wrong = await client.put(one("SN-tok"), {"status": "ACCEPTED", "securityToken": "guess"})
    assert wrong.status_code == 422
    assert error_of(wrong) == "devicecontrol/Security Token Mismatch"
    assert (wrong.json()["failedAttempts"], wrong.json()["attemptsLeft"]) == (1, 4)
    # Counted exactly as GraphQL's accept counts it.
    assert (await state(admin, "SN-tok"))["failedAttempts"] == 1

    right = await client.put(one("SN-tok") + "/", {"status": "ACCEPTED", "securityToken": TOKEN})
    assert right.status_code == 200, right.text
    assert right.json()["status"] == "ACCEPTED"
    assert await event_kinds("SN-tok") == ["REGISTERED", "CONNECTED", "TOKEN_REJECTED", "ACCEPTED"]
    assert (await poll(http, "SN-tok", token=TOKEN)).status_code == 201

    again = await client.put(one("SN-tok"), {"status": "ACCEPTED", "securityToken": TOKEN})
    assert again.status_code == 422
    assert error_of(again) == "devicecontrol/Invalid Status"
    assert again.json()["status"] == "ACCEPTED"


async def test_accept_as_cumulocity_clients_send_it(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await pending(http, admin, "SN-plain")
    response = await rest(admin).put(
        one("SN-plain"),
        {"id": "SN-plain", "status": "ACCEPTED"},
        headers={"Content-Type": NEW_DEVICE_REQUEST_TYPE},
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ACCEPTED"


async def test_accept_of_a_registration_that_never_connected_is_invalid_status(
    admin: GraphQLClient,
) -> None:
    await create_request(rest(admin), "SN-quiet")
    response = await rest(admin).put(one("SN-quiet"), {"status": "ACCEPTED"})
    assert response.status_code == 422
    assert error_of(response) == "devicecontrol/Invalid Status"
    assert response.json()["status"] == "WAITING_FOR_CONNECTION"


async def test_the_attempt_at_the_limit_blocks_and_later_ones_answer_blocked(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await set_max_failed_attempts(admin, 2)
    await pending(http, admin, "SN-guess", token=TOKEN)
    client = rest(admin)
    first = await client.put(one("SN-guess"), {"status": "ACCEPTED", "securityToken": "a"})
    assert (first.status_code, first.json()["attemptsLeft"]) == (422, 1)
    second = await client.put(one("SN-guess"), {"status": "ACCEPTED", "securityToken": "b"})
    assert second.status_code == 422
    assert error_of(second) == "devicecontrol/Blocked"
    third = await client.put(one("SN-guess"), {"status": "ACCEPTED", "securityToken": TOKEN})
    assert error_of(third) == "devicecontrol/Blocked"
    assert (await state(admin, "SN-guess"))["status"] == "BLOCKED"


@pytest.mark.parametrize(
    "body",
    [
        {"status": "BLOCKED"},
        {"status": "PENDING_ACCEPTANCE"},
        {},
        {"status": "ACCEPTED", "owner": "someone/else"},
        {"status": "ACCEPTED", "id": "another-device"},
        {"status": "ACCEPTED", "securityToken": 1234},
    ],
)
async def test_any_other_change_is_a_validation_error(
    http: httpx.AsyncClient, admin: GraphQLClient, body: dict[str, Any]
) -> None:
    await pending(http, admin, "SN-change", token=TOKEN)
    response = await rest(admin).put(one("SN-change"), body)
    assert response.status_code == 422
    assert error_of(response) == "undefined/validationError"
    found = await state(admin, "SN-change")
    assert (found["status"], found["failedAttempts"]) == ("PENDING_ACCEPTANCE", 0)


async def test_accept_of_an_unknown_request_is_404(admin: GraphQLClient) -> None:
    response = await rest(admin).put(one("nobody"), {"status": "ACCEPTED"})
    assert response.status_code == 404
    assert error_of(response) == "devicecontrol/Not Found"


# ---------------------------------------------------------------- delete, acceptAll, limit


async def test_delete_answers_204_then_404(http: httpx.AsyncClient, admin: GraphQLClient) -> None:
    await pending(http, admin, "SN-gone")
    response = await rest(admin).delete(one("SN-gone"))
    assert (response.status_code, response.content) == (204, b"")
    assert await event_kinds("SN-gone") == ["REGISTERED", "CONNECTED", "REMOVED"]
    again = await rest(admin).delete(one("SN-gone") + "/")
    assert again.status_code == 404
    assert error_of(again) == "devicecontrol/Not Found"


async def test_accept_all_lists_every_pending_request_with_its_outcome(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await pending(http, admin, "p-2")
    await pending(http, admin, "p-1")
    await pending(http, admin, "p-3", token=TOKEN)
    await create_request(rest(admin), "p-0")  # never connected: not pending
    response = await rest(admin).post(DEVICE_REQUESTS + "/acceptAll/")
    assert response.status_code == 200
    results = response.json()
    assert [r["id"] for r in results] == ["p-1", "p-2", "p-3"]
    assert results[0] == {"id": "p-1", "successful": True}
    assert results[2]["successful"] is False
    assert "p-3" in results[2]["error"]
    assert (await state(admin, "p-2"))["status"] == "ACCEPTED"
    assert (await state(admin, "p-3"))["status"] == "PENDING_ACCEPTANCE"


async def test_accept_all_under_ignored_accepts_token_devices_too(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await pending(http, admin, "q-1", token=TOKEN)
    await set_token_policy(admin, "IGNORED")
    results = (await rest(admin).post(DEVICE_REQUESTS + "/acceptAll")).json()
    assert results == [{"id": "q-1", "successful": True}]


async def test_limit_is_never_reached(admin: GraphQLClient) -> None:
    for path in (DEVICE_REQUESTS + "/limit", DEVICE_REQUESTS + "/limit/"):
        response = await rest(admin).get(path)
        assert (response.status_code, response.json()) == (200, {"isReached": False})


async def test_an_unsupported_method_answers_json_405(admin: GraphQLClient) -> None:
    for path in (DEVICE_REQUESTS, one("SN-1")):
        response = await rest(admin).request("PATCH", path, {"status": "ACCEPTED"})
        assert response.status_code == 405
        assert error_of(response) == "general/Method Not Allowed"


# ---------------------------------------------------------------- who may call


async def test_no_or_wrong_login_is_401_with_a_challenge(admin: GraphQLClient) -> None:
    anonymous = RestClient(admin.http, None, None)
    response = await anonymous.get(DEVICE_REQUESTS)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="gatehouse"'
    assert error_of(response) == "security/Unauthorized"
    wrong = RestClient(admin.http, "management/admin", "not-the-password")
    response = await wrong.request("GET", DEVICE_REQUESTS, headers={"UseXBasic": "true"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'XBasic realm="gatehouse"'


ROUTES = [
    ("GET", DEVICE_REQUESTS, None, "DEVICE_CONTROL_READ"),
    ("POST", DEVICE_REQUESTS, {"id": "SN-new"}, "DEVICE_CONTROL_ADMIN"),
    ("GET", one("SN-perm"), None, "DEVICE_CONTROL_READ"),
    ("PUT", one("SN-perm"), {"status": "ACCEPTED"}, "DEVICE_CONTROL_ADMIN"),
    ("DELETE", one("SN-perm"), None, "DEVICE_CONTROL_ADMIN"),
    ("POST", DEVICE_REQUESTS + "/acceptAll", None, "DEVICE_CONTROL_ADMIN"),
    ("GET", DEVICE_REQUESTS + "/limit", None, "DEVICE_CONTROL_READ"),
]


@pytest.mark.parametrize(("method", "path", "body", "permission"), ROUTES)
async def test_a_caller_without_the_permission_gets_403_and_changes_nothing(
    http: httpx.AsyncClient,
    admin: GraphQLClient,
    method: str,
    path: str,
    body: Any,
    permission: str,
) -> None:
    await pending(http, admin, "SN-perm")
    others = await make_user(admin, "lacking", [p for p in GRANTABLE if p != permission])
    response = await rest(others).request(method, path, body)
    assert response.status_code == 403, response.text
    assert error_of(response) == "security/Forbidden"
    assert permission in response.json()["message"]
    assert await Registration.filter(status="PENDING_ACCEPTANCE").count() == 1
    assert await Registration.all().count() == 1
    assert await event_kinds("SN-perm") == ["REGISTERED", "CONNECTED"]


async def test_another_tenants_request_answers_404_and_stays_untouched(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    acme = await make_tenant(admin, "acme")
    await pending(http, acme, "SN-acme", token=TOKEN)
    before = await Registration.filter(device_id="SN-acme").values()
    client = rest(admin)
    for method, body in (
        ("GET", None),
        ("PUT", {"status": "ACCEPTED", "securityToken": TOKEN}),
        ("PUT", {"status": "ACCEPTED", "securityToken": "wrong"}),
        ("DELETE", None),
    ):
        response = await client.request(method, one("SN-acme"), body)
        assert response.status_code == 404, (method, response.text)
        assert error_of(response) == "devicecontrol/Not Found"
    listed = (await client.get(DEVICE_REQUESTS, pageSize=2000)).json()["newDeviceRequests"]
    assert listed == []
    assert (await client.post(DEVICE_REQUESTS + "/acceptAll")).json() == []
    assert await Registration.filter(device_id="SN-acme").values() == before
    assert await event_kinds("SN-acme") == ["REGISTERED", "CONNECTED"]


async def test_nul_characters_are_refused_before_the_database_sees_them(
    admin: GraphQLClient,
) -> None:
    client = rest(admin)
    for response in (
        await client.get(DEVICE_REQUESTS + "/SN%00x"),
        await client.put(DEVICE_REQUESTS + "/SN%00x", {"status": "ACCEPTED"}),
        await client.post(DEVICE_REQUESTS, {"id": "SN-1", "tenantId": "acme\u0000"}),
        await client.post(DEVICE_REQUESTS, {"id": "SN-1", "groupId": "1\u0000"}),
    ):
        assert response.status_code == 422, response.text
        assert error_of(response) == "undefined/validationError"
    assert await Registration.all().count() == 0
