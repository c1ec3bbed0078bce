"""``GET /metrics`` follows what the server decided (API.md §9.4), read with prometheus-client's
own parser, for callers in the internal networks only.

The counters are this test process's (one process: prometheus-client's in-memory
values), so each test compares a scrape after its steps with one before.
Several workers: ``tests/test_metrics_workers.py``.
"""

from __future__ import annotations

import asyncio
import ipaddress

import httpx
import pytest

from graph.settings import Settings
from resolvers import live
from resolvers.permissions import Actor, Permission
from tests.kit.accounts import ADMIN_LOGIN
from tests.kit.clients import GraphQLClient, app_clients, basic
from tests.kit.device_logins import gateway, rabbitmq_user
from tests.kit.devices import TOKEN, poll
from tests.kit.metrics import Scrape, scrape
from tests.kit.options import set_max_failed_attempts
from tests.kit.registrations import accept, accept_all, register

POLLS = "gatehouse_device_polls_total"
ACCEPTS = "gatehouse_accept_total"
DURATIONS = "gatehouse_http_request_duration_seconds_count"
DEVICE_ROUTE = "/devicecontrol/deviceCredentials"


async def test_metrics_follow_a_registration_flow(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    before = await scrape(http)
    assert (await register(admin, {"id": "flow-1"}, {"id": "flow-2"}))[
        "__typename"
    ] == "RegisterSuccess"

    assert (await poll(http, "flow-1", token=TOKEN)).status_code == 404  # first contact
    wrong = await accept(admin, "flow-1", "not-the-token")
    assert wrong["__typename"] == "SecurityTokenMismatch", wrong
    assert (await accept(admin, "flow-1", TOKEN))["__typename"] == "Registration"
    assert (await poll(http, "flow-1", token="a-guess")).status_code == 404  # wrong at delivery
    collected = await poll(http, "flow-1", token=TOKEN)
    assert collected.status_code == 201, collected.text
    assert (await poll(http, "flow-1", token=TOKEN)).status_code == 404  # delivered already
    assert (await poll(http, "no-such-device")).status_code == 404

    refused = await http.post(
        "/graphql",
        json={"query": "{ me { username } }"},
        headers={"Authorization": basic(ADMIN_LOGIN, "not-the-password")},
    )
    assert refused.status_code == 401

    device = collected.json()
    assert await rabbitmq_user(http, device["username"], device["password"]) == "allow"
    assert await rabbitmq_user(http, device["username"], "not-its-password") == "deny"
    assert (await gateway(http, device["username"], "not-its-password")).status_code == 401
    after = await scrape(http)

    assert after.since(before, POLLS, result="connected") == 1
    assert after.since(before, POLLS, result="delivered") == 1
    assert after.since(before, POLLS, result="not_found") == 3
    assert after.since(before, POLLS, result="throttled") == 0
    assert after.since(before, ACCEPTS, result="token_rejected") == 1
    assert after.since(before, ACCEPTS, result="accepted") == 1
    assert after.since(before, ACCEPTS, result="blocked") == 0
    # A wrong token at delivery is a poll's failed attempt, not an operator's accept.
    rejected_at_delivery = "gatehouse_delivery_token_rejections_total"
    assert after.since(before, rejected_at_delivery, result="token_rejected") == 1
    assert after.since(before, "gatehouse_login_failures_total") == 1
    callbacks = "gatehouse_auth_callbacks_total"
    assert after.since(before, callbacks, broker="rabbitmq", result="allow") == 1
    assert after.since(before, callbacks, broker="rabbitmq", result="deny") == 1
    assert after.since(before, callbacks, broker="http", result="deny") == 1
    assert after.since(before, callbacks, broker="emqx", result="allow") == 0

    # Read from the database at the scrape: exact, every status present.
    assert after.value("gatehouse_registrations", status="ACCEPTED") == 1
    assert after.value("gatehouse_registrations", status="WAITING_FOR_CONNECTION") == 1
    assert after.value("gatehouse_registrations", status="PENDING_ACCEPTANCE") == 0
    assert after.value("gatehouse_registrations", status="BLOCKED") == 0
    assert after.value("gatehouse_database_up") == 1
    assert after.types["gatehouse_registrations"] == "gauge"
    assert after.types["gatehouse_http_request_duration_seconds"] == "histogram"

    # Every request is timed under its route template, refusals included.
    polls_404 = after.since(before, DURATIONS, route=DEVICE_ROUTE, method="POST", status="404")
    assert polls_404 == 4
    assert after.since(before, DURATIONS, route=DEVICE_ROUTE, method="POST", status="201") == 1
    assert after.since(before, DURATIONS, route="/graphql", method="POST", status="401") == 1
    assert after.since(before, DURATIONS, route="/auth/http", method="GET", status="401") == 1


async def test_durations_are_labelled_with_the_route_template_never_the_path(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await register(admin, {"id": "templated-7"})
    headers = admin.headers()
    for path in ("/devicecontrol/newDeviceRequests/templated-7", "/tenant/options/"):
        assert (await http.get(path, headers=headers)).status_code == 200, path
    after = await scrape(http)
    routes = after.labels_of(DURATIONS, "route")
    assert "/devicecontrol/newDeviceRequests/{id}" in routes
    assert "/tenant/options" in routes
    assert not [route for route in routes if "templated-7" in route]
    bucket = "gatehouse_http_request_duration_seconds_bucket"
    route = "/devicecontrol/newDeviceRequests/{id}"
    inf = after.value(bucket, route=route, method="GET", status="200", le="+Inf")
    assert inf == after.value(DURATIONS, route=route, method="GET", status="200") >= 1


async def test_accept_all_and_the_blocking_attempt_are_counted(
    http: httpx.AsyncClient, admin: GraphQLClient
) -> None:
    await set_max_failed_attempts(admin, 1)
    await register(admin, {"id": "all-1"}, {"id": "all-2"}, {"id": "guarded"})
    for device in ("all-1", "all-2"):
        assert (await poll(http, device)).status_code == 404
    assert (await poll(http, "guarded", token=TOKEN)).status_code == 404
    before = await scrape(http)
    outcome = await accept_all(admin)
    assert len(outcome["accepted"]) == 2, outcome
    assert (await accept(admin, "guarded", "wrong"))["__typename"] == "RegistrationBlocked"
    after = await scrape(http)
    assert after.since(before, ACCEPTS, result="accepted") == 2
    assert after.since(before, ACCEPTS, result="blocked") == 1
    assert after.since(before, ACCEPTS, result="token_rejected") == 0
    assert after.value("gatehouse_registrations", status="BLOCKED") == 1
    assert after.value("gatehouse_registrations", status="ACCEPTED") == 2


async def test_subscribers_gauge_counts_open_subscriptions(http: httpx.AsyncClient) -> None:
    before = (await scrape(http)).value("gatehouse_subscribers")
    actor = Actor("management", "admin", frozenset(Permission))
    streams = [live.stream(actor, None) for _ in range(2)]
    waiting = [asyncio.ensure_future(anext(stream)) for stream in streams]
    for _ in range(100):
        if (await scrape(http)).value("gatehouse_subscribers") == before + 2:
            break
        await asyncio.sleep(0.02)
    assert (await scrape(http)).value("gatehouse_subscribers") == before + 2
    for task, stream in zip(waiting, streams, strict=True):
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await stream.aclose()
    assert (await scrape(http)).value("gatehouse_subscribers") == before


async def test_metrics_refused_outside_the_internal_networks(db: str) -> None:
    settings = Settings(
        database_url="sqlite://:memory:",
        internal_networks=(ipaddress.ip_network("127.0.0.1/32"),),
    )
    async with app_clients(settings, "127.0.0.2", "127.0.0.1") as (outside, inside):
        refused = await outside.get("/metrics")
        assert refused.status_code == 403
        assert "gatehouse_" not in refused.text
        assert "internal network" in refused.text
        assert isinstance(await scrape(inside), Scrape)


async def test_a_database_that_does_not_answer_leaves_the_counters_scrapable(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from resolvers import metrics

    async def never(within: float) -> metrics.RegistrationCounts:
        raise TimeoutError

    monkeypatch.setattr(metrics, "registration_counts", never)
    after = await scrape(http)
    assert after.value("gatehouse_database_up") == 0
    assert not after.labels_of("gatehouse_registrations", "status")
    assert after.value(POLLS, result="delivered") >= 0
