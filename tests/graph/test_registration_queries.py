"""``registration`` and ``registrations``: lookup, filters and keyset pagination (API.md §3)."""

from __future__ import annotations

import httpx

from tests.kit.accounts import make_tenant
from tests.kit.clients import GraphQLClient, error_codes
from tests.kit.devices import TOKEN, pending
from tests.kit.documents import REGISTRATION, REGISTRATIONS
from tests.kit.groups import create_group
from tests.kit.options import set_max_failed_attempts
from tests.kit.registrations import accept, ids, listing, register


async def one_in_each_status(http: httpx.AsyncClient, client: GraphQLClient) -> None:
    """``d-waiting``, ``d-pending``, ``d-accepted`` and ``d-blocked``."""
    await set_max_failed_attempts(client, 1)
    await register(client, {"id": "d-waiting"})
    await pending(http, client, "d-pending")
    await pending(http, client, "d-accepted")
    await accept(client, "d-accepted")
    await pending(http, client, "d-blocked", TOKEN)
    await accept(client, "d-blocked", "wrong")


async def test_registration_is_null_for_unknown_or_another_tenants_id(admin: GraphQLClient) -> None:
    acme = await make_tenant(admin, "acme")
    await register(acme, {"id": "acme-dev"})
    assert (await admin.data(REGISTRATION, id="ghost"))["registration"] is None
    assert (await admin.data(REGISTRATION, id="acme-dev"))["registration"] is None
    assert (await acme.data(REGISTRATION, id="acme-dev"))["registration"]["id"] == "acme-dev"


async def test_status_filter(http: httpx.AsyncClient, admin: GraphQLClient) -> None:
    await one_in_each_status(http, admin)
    everything = await listing(admin)
    assert ids(everything) == ["d-accepted", "d-blocked", "d-pending", "d-waiting"]
    assert everything["totalCount"] == 4

    pending_only = await listing(admin, status=["PENDING_ACCEPTANCE"])
    assert ids(pending_only) == ["d-pending"]
    assert pending_only["totalCount"] == 1
    done = await listing(admin, status=["ACCEPTED", "BLOCKED"])
    assert [(e["node"]["id"], e["node"]["status"]) for e in done["edges"]] == [
        ("d-accepted", "ACCEPTED"),
        ("d-blocked", "BLOCKED"),
    ]
    assert done["totalCount"] == 2
    assert ids(await listing(admin, status=["WAITING_FOR_CONNECTION"])) == ["d-waiting"]


async def test_group_filter(admin: GraphQLClient) -> None:
    north = await create_group(admin, "North")
    south = await create_group(admin, "South")
    await register(
        admin,
        {"id": "n-2", "groupId": north},
        {"id": "s-1", "groupId": south},
        {"id": "n-1", "groupId": north},
        {"id": "loose"},
    )
    in_north = await listing(admin, groupId=north)
    assert ids(in_north) == ["n-1", "n-2"]
    assert in_north["totalCount"] == 2
    assert ids(await listing(admin, groupId=south, status=["WAITING_FOR_CONNECTION"])) == ["s-1"]
    assert ids(await listing(admin, groupId=south, status=["ACCEPTED"])) == []


async def test_unknown_or_foreign_group_filter_is_not_found(admin: GraphQLClient) -> None:
    acme = await make_tenant(admin, "acme")
    acme_group = await create_group(acme, "Acme")
    for group_id in ("424242", "not-a-number", acme_group):
        body = await admin(REGISTRATIONS, groupId=group_id)
        assert error_codes(body) == ["NOT_FOUND"], group_id
        assert body["data"] is None


async def test_pagination_walks_everything_in_id_order(admin: GraphQLClient) -> None:
    wanted = ["B-2", "a-1", "a-10", "a-2", "a.1", "a_1", "z", "Z-9", "0-first", "~last"]
    await register(admin, *({"id": i} for i in wanted))
    seen: list[str] = []
    after: str | None = None
    pages = []
    while True:
        page = await listing(admin, first=3, after=after)
        assert page["totalCount"] == len(wanted)
        assert page["pageInfo"]["endCursor"] == (
            page["edges"][-1]["cursor"] if page["edges"] else None
        )
        seen += ids(page)
        pages.append(page["pageInfo"]["hasNextPage"])
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == sorted(wanted)
    assert pages == [True, True, True, False]

    whole = await listing(admin, first=len(wanted))
    assert whole["pageInfo"]["hasNextPage"] is False
    rest = await listing(admin, after=whole["edges"][6]["cursor"])  # any edge cursor resumes
    assert ids(rest) == sorted(wanted)[7:]
    empty = await listing(admin, after=whole["pageInfo"]["endCursor"])
    assert (ids(empty), empty["pageInfo"], empty["totalCount"]) == (
        [],
        {"hasNextPage": False, "endCursor": None},
        len(wanted),
    )


async def test_bad_cursor_or_page_size_is_invalid_input(admin: GraphQLClient) -> None:
    await register(admin, {"id": "dev-1"})
    await create_group(admin, "G")
    groups = (await admin.data("{ groups { pageInfo { endCursor } } }"))["groups"]
    for arguments in (
        {"after": groups["pageInfo"]["endCursor"]},  # a cursor of another list
        {"after": "not-a-cursor"},
        {"after": ""},
        {"first": 1001},
        {"first": -1},
    ):
        body = await admin(REGISTRATIONS, **arguments)
        assert error_codes(body) == ["INVALID_INPUT"], arguments
    assert ids(await listing(admin, first=1000)) == ["dev-1"]
