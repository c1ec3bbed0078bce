"""``register`` into a subtenant via ``tenantId`` (API.md §5.1): management admins only."""

from __future__ import annotations

import httpx

from tests.kit.accounts import make_tenant, make_user
from tests.kit.clients import GraphQLClient
from tests.kit.devices import poll
from tests.kit.documents import ACCEPT, REGISTRATION
from tests.kit.groups import create_group
from tests.kit.registrations import register, registered_ids


async def test_management_admin_registers_into_subtenant(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    acme = await make_tenant(admin, "acme")
    result = await register(admin, {"id": "sub-1", "tenantId": "acme"})
    assert result["__typename"] == "RegisterSuccess"
    [created] = result["registrations"]
    assert created["tenantId"] == "acme"
    assert created["owner"] == "management/admin"
    assert created["status"] == "WAITING_FOR_CONNECTION"

    assert (await acme.data(REGISTRATION, id="sub-1"))["registration"]["status"] == (
        "WAITING_FOR_CONNECTION"
    )
    assert await registered_ids(acme) == ["sub-1"]
    assert await registered_ids(admin) == []
    assert (await admin.data(REGISTRATION, id="sub-1"))["registration"] is None

    # The device then walks the flow in acme, not in the management tenant.
    await poll(http, "sub-1")
    assert (await admin.data(ACCEPT, id="sub-1"))["accept"]["__typename"] == "NotFound"
    assert (await acme.data(ACCEPT, id="sub-1"))["accept"]["acceptedBy"] == "acme/admin"
    issued = await poll(http, "sub-1")
    assert issued.status_code == 201
    assert issued.json()["tenantId"] == "acme"


async def test_one_call_can_mix_own_tenant_and_subtenants(admin: GraphQLClient) -> None:
    acme = await make_tenant(admin, "acme")
    beta = await make_tenant(admin, "beta")
    result = await register(
        admin, {"id": "m-1"}, {"id": "a-1", "tenantId": "acme"}, {"id": "b-1", "tenantId": "beta"}
    )
    assert [r["tenantId"] for r in result["registrations"]] == ["management", "acme", "beta"]
    assert await registered_ids(admin) == ["m-1"]
    assert await registered_ids(acme) == ["a-1"]
    assert await registered_ids(beta) == ["b-1"]


async def test_tenant_and_group_together_is_refused(admin: GraphQLClient) -> None:
    acme = await make_tenant(admin, "acme")
    group_id = await create_group(admin, "Mine")
    result = await register(admin, {"id": "sub-1", "tenantId": "acme", "groupId": group_id})
    assert result["__typename"] == "RegisterFailure"
    assert result["code"] == "TENANT_AND_GROUP"
    assert [(p["code"], p["id"]) for p in result["problems"]] == [("TENANT_AND_GROUP", "sub-1")]
    assert await registered_ids(acme) == []
    assert await registered_ids(admin) == []


async def test_unknown_tenant_is_not_found(admin: GraphQLClient) -> None:
    result = await register(admin, {"id": "sub-1", "tenantId": "nowhere"})
    assert result["code"] == "NOT_FOUND"
    assert [(p["code"], p["id"]) for p in result["problems"]] == [("NOT_FOUND", "sub-1")]
    assert await registered_ids(admin) == []


async def test_only_management_tenant_admins_can_name_a_tenant(admin: GraphQLClient) -> None:
    acme = await make_tenant(admin, "acme")
    for tenant_id in ("acme", "management"):
        result = await register(acme, {"id": "sub-1", "tenantId": tenant_id})
        assert result["__typename"] == "RegisterFailure"
        assert result["code"] == "INVALID_INPUT"
        assert [(p["code"], p["id"]) for p in result["problems"]] == [("INVALID_INPUT", "sub-1")]
    assert await registered_ids(acme) == []
    assert await registered_ids(admin) == []

    # A management user without TENANT_MANAGEMENT_ADMIN may not either.
    operator = await make_user(admin, "ops", ["DEVICE_CONTROL_ADMIN", "DEVICE_CONTROL_READ"])
    result = await register(operator, {"id": "sub-1", "tenantId": "acme"})
    assert result["code"] == "INVALID_INPUT"
    assert [p["id"] for p in result["problems"]] == ["sub-1"]
    assert await registered_ids(acme) == []
    # Without tenantId the same user registers into its own tenant.
    assert (await register(operator, {"id": "sub-1"}))["registrations"][0]["tenantId"] == (
        "management"
    )
