"""Device polls limited per device id (API.md §9.2): 429, ``Retry-After``, nothing changed.

More than ``GATEHOUSE_POLL_LIMIT`` polls (default 10) for one device id within
10 seconds are refused before the registration is read, at the REST endpoint
and through ``requestDeviceCredentials`` alike (one count for both); a refused
poll writes no row and no event, and answers the same whether the device
exists or not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from graph.settings import Settings
from tests.kit.accounts import bootstrap_client
from tests.kit.clients import GraphQLClient, app_client, error_codes
from tests.kit.devices import poll, stored_state
from tests.kit.documents import REQUEST_CREDENTIALS
from tests.kit.registrations import event_kinds, register, state

LIMIT = 10  # the default


async def use_up(http: httpx.AsyncClient, device_id: str, times: int = LIMIT) -> None:
    for _ in range(times):
        assert (await poll(http, device_id)).status_code == 404


async def test_the_poll_beyond_the_limit_answers_429_with_retry_after(
    http: httpx.AsyncClient,
) -> None:
    await use_up(http, "SN-UNKNOWN")
    refused = await poll(http, "SN-UNKNOWN")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 10
    body = refused.json()
    assert body["error"] == "devicecontrol/Too Many Requests"
    assert "try again in" in body["message"]
    assert (await poll(http, "SN-OTHER")).status_code == 404  # per device id


async def test_a_refused_poll_changes_nothing(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    # Ten polls before the device was registered use up its budget; the eleventh,
    # which would have been its first contact, is refused and writes nothing.
    await use_up(http, "SN-LATE")
    assert (await register(admin, {"id": "SN-LATE"}))["__typename"] == "RegisterSuccess"
    before = await stored_state("SN-LATE")
    for token in (None, "a-token"):
        assert (await poll(http, "SN-LATE", token=token)).status_code == 429
    assert await stored_state("SN-LATE") == before
    assert (await state(admin, "SN-LATE"))["status"] == "WAITING_FOR_CONNECTION"
    assert await event_kinds("SN-LATE") == ["REGISTERED"]


async def test_the_graphql_twin_shares_the_limit_and_answers_an_error_with_a_code(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    device = bootstrap_client(admin)
    await use_up(http, "SN-G", LIMIT - 1)
    assert (await device.data(REQUEST_CREDENTIALS, id="SN-G")) == {"requestDeviceCredentials": None}
    response = await device.post(REQUEST_CREDENTIALS, {"id": "SN-G"})
    assert response.status_code == 200
    assert 1 <= int(response.headers["retry-after"]) <= 10
    body = response.json()
    assert body["data"] == {"requestDeviceCredentials": None}
    assert error_codes(body) == ["TOO_MANY_REQUESTS"]
    [error] = body["errors"]
    assert error["extensions"]["retryAfter"] == int(response.headers["retry-after"])
    assert (await poll(http, "SN-G")).status_code == 429


@pytest.fixture
async def unlimited(db: str) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(Settings(database_url="sqlite://:memory:", poll_limit=0)) as client:
        yield client


async def test_poll_limit_zero_turns_the_limit_off(unlimited: httpx.AsyncClient) -> None:
    await use_up(unlimited, "SN-FREE", 3 * LIMIT)
