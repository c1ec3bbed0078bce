"""``POST /devicecontrol/deviceCredentials`` row by row (API.md §4), and its GraphQL twin."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx

from models.events import RegistrationEvent
from models.registrations import Registration
from tests.kit.accounts import (
    ADMIN_PASSWORD,
    BOOTSTRAP_LOGIN,
    BOOTSTRAP_PASSWORD,
    bootstrap_client,
    make_tenant,
    make_user,
)
from tests.kit.clients import GraphQLClient, basic, error_codes
from tests.kit.devices import pending, poll, post_raw
from tests.kit.documents import ACCEPT, REGISTRATION, REQUEST_CREDENTIALS
from tests.kit.options import set_max_failed_attempts, set_token_policy
from tests.kit.registrations import accept, event_kinds, register

CREDENTIALS_MEDIA_TYPE = "application/vnd.com.nsn.cumulocity.devicecredentials+json"
NOT_FOUND_ERROR = "devicecontrol/Not Found"


async def stored_state(device_id: str) -> tuple[list[dict[str, Any]], int]:
    """The registration's whole row and the number of events on the platform."""
    row = await Registration.filter(device_id=device_id).values()
    return row, await RegistrationEvent.all().count()


async def accepted(
    http: httpx.AsyncClient, admin: GraphQLClient, device_id: str, token: str | None = None
) -> None:
    """A device that made first contact (with ``token`` if given) and was accepted."""
    await pending(http, admin, device_id, token=token)
    result = await accept(admin, device_id, token)
    assert result["__typename"] == "Registration", result


async def blocked(http: httpx.AsyncClient, admin: GraphQLClient, device_id: str) -> None:
    """A device that connected with a token and was blocked (the tenant limit must be 1)."""
    await pending(http, admin, device_id, token=f"{device_id}-token")
    result = await accept(admin, device_id, "a wrong guess")
    assert result["__typename"] == "RegistrationBlocked", result


# ---------------------------------------------------------------- 401, 415, 422


NOT_BOOTSTRAP_AUTHORIZATIONS = [
    None,
    basic(BOOTSTRAP_LOGIN, "not-the-password"),
    basic("devicebootstrap", "not-the-password"),
    basic("management/nobody", BOOTSTRAP_PASSWORD),
    "Basic !!!not-base64",
    "Bearer abc",
    basic("management/admin", ADMIN_PASSWORD),
]


async def test_without_bootstrap_credentials_is_401(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await register(admin, {"id": "AUTH-1"})
    for authorization in NOT_BOOTSTRAP_AUTHORIZATIONS:
        response = await post_raw(http, b'{"id": "AUTH-1"}', authorization=authorization)
        assert response.status_code == 401, authorization
        assert response.headers["www-authenticate"] == 'Basic realm="gatehouse"'
    # Nothing happened to the registration: a 401 is not a first contact.
    state = (await admin.data(REGISTRATION, id="AUTH-1"))["registration"]
    assert state["status"] == "WAITING_FOR_CONNECTION"
    assert await event_kinds("AUTH-1") == ["REGISTERED"]


async def test_user_of_a_subtenant_without_device_bootstrap_is_401(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    acme = await make_tenant(admin, "acme")
    operator = await make_user(acme, "operator", ["DEVICE_CONTROL_ADMIN", "DEVICE_CONTROL_READ"])
    assert operator.login is not None and operator.password is not None
    response = await post_raw(
        http, b'{"id": "X"}', authorization=basic(operator.login, operator.password)
    )
    assert response.status_code == 401


MALFORMED_BODIES = [
    b"{not json",
    b"",
    b"\xff\xfe",
    b"[]",
    b'["id"]',
    b'"IMEI-1"',
    b"42",
    b"null",
    b"{}",
    b'{"securityToken": "t"}',
    b'{"id": null}',
    b'{"id": ""}',
    b'{"id": 42}',
    b'{"id": ["IMEI-1"]}',
    b'{"id": {"value": "IMEI-1"}}',
    b'{"id": "IMEI-1", "securityToken": 42}',
    b'{"id": "IMEI-1", "securityToken": ["t"]}',
    b'{"id": "IMEI-1", "securityToken": {"t": 1}}',
    b'{"id": "IMEI-1", "securityToken": true}',
]


async def test_malformed_body_is_422_with_error_and_message(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await register(admin, {"id": "IMEI-1"})
    for body in MALFORMED_BODIES:
        response = await post_raw(http, body)
        assert response.status_code == 422, (body, response.text)
        payload = response.json()
        assert set(payload) == {"error", "message"}
        assert isinstance(payload["error"], str) and payload["error"]
        assert isinstance(payload["message"], str) and payload["message"]
    # A rejected body is not a first contact.
    assert (await admin.data(REGISTRATION, id="IMEI-1"))["registration"]["connectedAt"] is None


async def test_unsupported_content_type_is_415(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await register(admin, {"id": "IMEI-2"})
    for content_type in ("text/plain", "text/plain; charset=utf-8", "application/xml"):
        response = await post_raw(http, b'{"id": "IMEI-2"}', content_type=content_type)
        assert response.status_code == 415, content_type
        assert set(response.json()) == {"error", "message"}
    assert (await admin.data(REGISTRATION, id="IMEI-2"))["registration"]["connectedAt"] is None


ACCEPTED_CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-8",
    CREDENTIALS_MEDIA_TYPE,
    f"{CREDENTIALS_MEDIA_TYPE}; charset=utf-8",
    f"{CREDENTIALS_MEDIA_TYPE.upper()};charset=UTF-8",
]


async def test_both_content_types_are_accepted(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    for n, content_type in enumerate(ACCEPTED_CONTENT_TYPES):
        device_id = f"CT-{n}"
        await register(admin, {"id": device_id})
        first = await poll(http, device_id, content_type=content_type)
        assert first.status_code == 404, content_type
        state = (await admin.data(REGISTRATION, id=device_id))["registration"]
        assert state["status"] == "PENDING_ACCEPTANCE"
        await admin.data(ACCEPT, id=device_id)
        issued = await poll(http, device_id, content_type=content_type)
        assert issued.status_code == 201, content_type
        expected = content_type.split(";")[0].strip().lower()
        assert issued.headers["content-type"].split(";")[0] == expected
        assert issued.headers["cache-control"] == "no-store"


# ---------------------------------------------------------------- 404 rows


async def test_unknown_id_is_404_not_found(http: httpx.AsyncClient) -> None:
    response = await poll(http, "NEVER-REGISTERED")
    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"error", "message"}
    assert body["error"] == NOT_FOUND_ERROR
    assert "NEVER-REGISTERED" not in body["message"]
    assert await Registration.filter(device_id="NEVER-REGISTERED").count() == 0
    assert await RegistrationEvent.filter(device_id="NEVER-REGISTERED").count() == 0


async def test_first_contact_makes_waiting_device_pending_and_answers_404(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await register(admin, {"id": "W-1"})
    response = await poll(http, "W-1")
    assert response.status_code == 404
    assert response.json()["error"] == NOT_FOUND_ERROR
    state = (await admin.data(REGISTRATION, id="W-1"))["registration"]
    assert state["status"] == "PENDING_ACCEPTANCE"
    assert state["connectedAt"] is not None
    assert state["usesSecurityToken"] is False
    assert await event_kinds("W-1") == ["REGISTERED", "CONNECTED"]
    event = await RegistrationEvent.get(device_id="W-1", kind="CONNECTED")
    assert event.previous_status is not None
    assert event.previous_status.value == "WAITING_FOR_CONNECTION"
    assert event.status is not None and event.status.value == "PENDING_ACCEPTANCE"
    assert event.actor == "device_W-1"


async def test_first_contact_with_token_records_only_an_argon2_hash(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    token = "first-contact-token-1234"
    await pending(http, admin, "T-1", token=token)
    state = (await admin.data(REGISTRATION, id="T-1"))["registration"]
    assert state["usesSecurityToken"] is True
    stored = await Registration.get(device_id="T-1")
    assert stored.token_hash is not None
    assert stored.token_hash.startswith("$argon2id$")
    assert token not in stored.token_hash


async def test_pending_device_gets_404_with_or_without_token(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await pending(http, admin, "P-1", token="p1-token")
    for token in (None, "p1-token", "other"):
        assert (await poll(http, "P-1", token=token)).status_code == 404
    state = (await admin.data(REGISTRATION, id="P-1"))["registration"]
    assert state["status"] == "PENDING_ACCEPTANCE"


async def test_blocked_device_gets_404(http: httpx.AsyncClient, admin: GraphQLClient) -> None:
    await set_max_failed_attempts(admin, 1)
    await blocked(http, admin, "B-1")
    for token in (None, "B-1-token", "other"):
        assert (await poll(http, "B-1", token=token)).status_code == 404
    assert (await admin.data(REGISTRATION, id="B-1"))["registration"]["status"] == "BLOCKED"


async def test_required_policy_blocks_device_without_token_at_first_contact(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await set_token_policy(admin, "REQUIRED")
    await register(admin, {"id": "R-1"})
    assert (await poll(http, "R-1")).status_code == 404
    state = (await admin.data(REGISTRATION, id="R-1"))["registration"]
    assert state["status"] == "BLOCKED"
    assert state["blockedReason"]
    assert await event_kinds("R-1") == ["REGISTERED", "BLOCKED"]
    before = await stored_state("R-1")
    assert (await poll(http, "R-1", token="late-token")).status_code == 404
    assert await stored_state("R-1") == before


async def test_accepted_device_with_wrong_or_no_token_never_gets_credentials(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await set_max_failed_attempts(admin, 10)
    await accepted(http, admin, "A-1", token="the-real-token")
    for token in (None, "", "the-real-token ", "THE-REAL-TOKEN", "x" * 200):
        response = await poll(http, "A-1", token=token)
        assert response.status_code == 404, token
        assert response.json()["error"] == NOT_FOUND_ERROR
    state = (await admin.data(REGISTRATION, id="A-1"))["registration"]
    assert state["credentialsDeliveredAt"] is None
    assert state["status"] == "ACCEPTED"  # each wrong token counted, below the limit of 10
    assert (await Registration.get(device_id="A-1")).device_password_hash is None
    assert (await poll(http, "A-1", token="the-real-token")).status_code == 201


async def test_device_that_presented_no_token_gets_credentials_with_or_without_one(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    for n, token in enumerate([None, "", "any-token-at-all"]):
        await accepted(http, admin, f"N-{n}")
        response = await poll(http, f"N-{n}", token=token)
        assert response.status_code == 201, token


async def test_credentials_body_and_stored_password_digest(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    token = "device-token-5678"
    await accepted(http, admin, "C-1", token=token)
    response = await poll(http, "C-1", token=token)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "tenantId", "username", "password", "self"}
    assert body["id"] == "C-1"
    assert body["tenantId"] == "management"
    assert body["username"] == "device_C-1"
    assert body["self"] == "http://gatehouse.test/devicecontrol/deviceCredentials/C-1"
    password = body["password"]
    assert isinstance(password, str) and len(password) >= 22  # >= 128 bits, url-safe base64

    stored = await Registration.get(device_id="C-1")
    assert stored.device_username == "device_C-1"
    assert stored.device_password_hash == hashlib.sha256(password.encode()).hexdigest()
    assert stored.token_hash is not None and stored.token_hash.startswith("$argon2id$")
    assert token not in stored.token_hash
    assert password not in json.dumps(
        await Registration.filter(device_id="C-1").values(), default=str
    )
    assert (await event_kinds("C-1"))[-1] == "CREDENTIALS_DELIVERED"

    again = await poll(http, "C-1", token=token)
    assert again.status_code == 404
    assert again.json()["error"] == NOT_FOUND_ERROR
    state = (await admin.data(REGISTRATION, id="C-1"))["registration"]
    assert state["credentialsDeliveredAt"] is not None


async def test_every_404_has_the_same_bytes_whatever_the_reason(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await set_max_failed_attempts(admin, 1)
    await register(admin, {"id": "S-WAITING"})
    await pending(http, admin, "S-PENDING")
    await pending(http, admin, "S-PENDING-TOKEN", token="tok")
    await blocked(http, admin, "S-BLOCKED")
    await accepted(http, admin, "S-ACCEPTED", token="right")
    await accepted(http, admin, "S-DELIVERED")
    assert (await poll(http, "S-DELIVERED")).status_code == 201

    answers = [
        await poll(http, "S-UNKNOWN"),
        await poll(http, "bad/id#?"),
        await poll(http, "S-WAITING"),  # first contact
        await poll(http, "S-PENDING"),
        await poll(http, "S-PENDING-TOKEN", token="tok"),
        await poll(http, "S-BLOCKED", token="S-BLOCKED-token"),
        await poll(http, "S-ACCEPTED", token="wrong"),
        await poll(http, "S-ACCEPTED"),
        await poll(http, "S-DELIVERED"),
    ]
    assert [a.status_code for a in answers] == [404] * len(answers)
    assert len({a.content for a in answers}) == 1
    assert len({a.headers["content-type"] for a in answers}) == 1
    body = answers[0].json()
    assert body["error"] == NOT_FOUND_ERROR
    assert set(body) == {"error", "message"}
    for word in ("waiting", "pending", "blocked", "unknown", "delivered", "token"):
        assert word not in body["message"].lower()


async def test_repeated_polls_that_change_nothing_write_nothing(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await set_max_failed_attempts(admin, 1)
    await pending(http, admin, "U-PENDING")
    await pending(http, admin, "U-PENDING-TOKEN", token="tok")
    await blocked(http, admin, "U-BLOCKED")
    await accepted(http, admin, "U-DELIVERED")
    assert (await poll(http, "U-DELIVERED")).status_code == 201

    situations: list[tuple[str, str | None]] = [
        ("U-UNKNOWN", None),
        ("U-PENDING", None),
        ("U-PENDING", "late-token"),
        ("U-PENDING-TOKEN", "tok"),
        ("U-PENDING-TOKEN", "other"),
        ("U-BLOCKED", "U-BLOCKED-token"),
        ("U-DELIVERED", None),
    ]
    # A wrong token before delivery counts (test_token_guessed_at_delivery.py), and the
    # first poll after delivery leaves a trace (test_takeover_trace.py): not "nothing".
    assert (await poll(http, "U-DELIVERED")).status_code == 404
    for device_id, token in situations:
        before = await stored_state(device_id)
        updated = await Registration.filter(device_id=device_id).values_list(
            "updated_at", flat=True
        )
        for _ in range(3):
            assert (await poll(http, device_id, token=token)).status_code == 404
        assert await stored_state(device_id) == before, (device_id, token)
        assert (
            await Registration.filter(device_id=device_id).values_list("updated_at", flat=True)
            == updated
        )


# ---------------------------------------------------------------- the GraphQL twin


async def test_request_device_credentials_null_until_accepted_then_once(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    device = bootstrap_client(admin)
    await register(admin, {"id": "G-1"})
    for _ in range(2):  # first contact, then a pending poll
        data = await device.data(REQUEST_CREDENTIALS, id="G-1", token="g1-token")
        assert data == {"requestDeviceCredentials": None}
    state = (await admin.data(REGISTRATION, id="G-1"))["registration"]
    assert state["status"] == "PENDING_ACCEPTANCE"
    assert state["usesSecurityToken"] is True

    assert (await admin.data(ACCEPT, id="G-1", token="g1-token"))["accept"]["status"] == "ACCEPTED"
    for token in (None, "wrong"):
        data = await device.data(REQUEST_CREDENTIALS, id="G-1", token=token)
        assert data == {"requestDeviceCredentials": None}

    issued = (await device.data(REQUEST_CREDENTIALS, id="G-1", token="g1-token"))[
        "requestDeviceCredentials"
    ]
    assert issued["id"] == "G-1"
    assert issued["tenantId"] == "management"
    assert issued["username"] == "device_G-1"
    stored = await Registration.get(device_id="G-1")
    assert stored.device_password_hash == hashlib.sha256(issued["password"].encode()).hexdigest()

    again = await device.data(REQUEST_CREDENTIALS, id="G-1", token="g1-token")
    assert again == {"requestDeviceCredentials": None}
    assert (await poll(http, "G-1", token="g1-token")).status_code == 404
    assert await event_kinds("G-1") == [
        "REGISTERED",
        "CONNECTED",
        "ACCEPTED",
        "TOKEN_REJECTED",  # no token, where the device presented one
        "TOKEN_REJECTED",  # the wrong one
        "CREDENTIALS_DELIVERED",
        "CREDENTIALS_REQUESTED_AGAIN",  # asked again after delivery
    ]


async def test_request_device_credentials_unknown_id_is_null(admin: GraphQLClient) -> None:
    device = bootstrap_client(admin)
    assert await device.data(REQUEST_CREDENTIALS, id="NOPE") == {"requestDeviceCredentials": None}


async def test_request_device_credentials_needs_device_bootstrap(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await register(admin, {"id": "G-2"})
    operator = await make_user(admin, "op", ["DEVICE_CONTROL_ADMIN", "DEVICE_CONTROL_READ"])
    for caller in (admin, operator):
        body = await caller(REQUEST_CREDENTIALS, id="G-2")
        assert error_codes(body) == ["FORBIDDEN"]
        assert body["data"] is None or body["data"]["requestDeviceCredentials"] is None
    # A refused call is not a first contact.
    state = (await admin.data(REGISTRATION, id="G-2"))["registration"]
    assert state["status"] == "WAITING_FOR_CONNECTION"
    assert await event_kinds("G-2") == ["REGISTERED"]


async def test_device_registered_into_subtenant_gets_that_tenant_id(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    acme = await make_tenant(admin, "acme")
    registered = await register(admin, {"id": "SUB-1", "tenantId": "acme"})
    assert registered["__typename"] == "RegisterSuccess", registered
    assert registered["registrations"][0]["tenantId"] == "acme"
    await register(admin, {"id": "SUB-2", "tenantId": "acme"})

    device = bootstrap_client(admin)
    assert await device.data(REQUEST_CREDENTIALS, id="SUB-1") == {"requestDeviceCredentials": None}
    assert (await poll(http, "SUB-2")).status_code == 404
    for device_id in ("SUB-1", "SUB-2"):
        result = (await acme.data(ACCEPT, id=device_id))["accept"]
        assert result["__typename"] == "Registration", result

    issued = (await device.data(REQUEST_CREDENTIALS, id="SUB-1"))["requestDeviceCredentials"]
    assert issued["tenantId"] == "acme"
    assert issued["username"] == "device_SUB-1"
    rest = await poll(http, "SUB-2")
    assert rest.status_code == 201
    assert rest.json()["tenantId"] == "acme"
