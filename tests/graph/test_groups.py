"""``createGroup``, ``group`` and ``groups`` (the tenant's inventory)."""

from __future__ import annotations

import base64
from typing import Any

from tests.kit.accounts import make_tenant
from tests.kit.clients import GraphQLClient, error_codes
from tests.kit.documents import CREATE_GROUP
from tests.kit.groups import create_group

GROUP = """
query($id: ID!) { group(id: $id) { id name parent { id name parent { id name parent { id } } } } }
"""

GROUPS = """
query($first: Int, $after: String) {
  groups(first: $first, after: $after) {
    totalCount
    edges { cursor node { id name } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def create_group_body(
    client: GraphQLClient, name: str, parent_id: str | None = None
) -> dict[str, Any]:
    """The whole response body of ``createGroup``, errors and all."""
    return await client(CREATE_GROUP, name=name, parentId=parent_id)


async def group_count(client: GraphQLClient) -> int:
    return int((await client.data("{ groups { totalCount } }"))["groups"]["totalCount"])


def cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


async def test_create_group_without_parent(admin: GraphQLClient) -> None:
    created = (await create_group_body(admin, "Lab"))["data"]["createGroup"]
    assert created["name"] == "Lab"
    assert created["parent"] is None
    group = (await admin.data(GROUP, id=created["id"]))["group"]
    assert group == {"id": created["id"], "name": "Lab", "parent": None}


async def test_group_name_is_trimmed(admin: GraphQLClient) -> None:
    created = (await create_group_body(admin, "  Lab  "))["data"]["createGroup"]
    assert created["name"] == "Lab"


async def test_parent_chain_is_readable(admin: GraphQLClient) -> None:
    site = await create_group(admin, "Site")
    floor = await create_group(admin, "Floor", site)
    room = (await create_group_body(admin, "Room", floor))["data"]["createGroup"]
    assert room["parent"] == {"id": floor, "name": "Floor"}
    group = (await admin.data(GROUP, id=room["id"]))["group"]
    assert group == {
        "id": room["id"],
        "name": "Room",
        "parent": {
            "id": floor,
            "name": "Floor",
            "parent": {"id": site, "name": "Site", "parent": None},
        },
    }


async def test_unknown_parent_is_not_found(admin: GraphQLClient) -> None:
    await create_group(admin, "existing")
    for parent_id in ("424242", "abc", "", "-1", "1.0", " 1"):
        body = await create_group_body(admin, "orphan", parent_id)
        assert error_codes(body) == ["NOT_FOUND"], parent_id
        assert body["data"] is None
    assert await group_count(admin) == 1


async def test_another_tenants_group_as_parent_is_not_found(admin: GraphQLClient) -> None:
    acme = await make_tenant(admin, "acme")
    foreign = await create_group(acme, "acme group")
    body = await create_group_body(admin, "intruder", foreign)
    assert error_codes(body) == ["NOT_FOUND"]
    assert await group_count(admin) == 0
    assert await group_count(acme) == 1


async def test_empty_or_overlong_name_is_invalid_input(admin: GraphQLClient) -> None:
    for name in ("", "   ", "\n\t", "n" * 256):
        assert error_codes(await create_group_body(admin, name)) == ["INVALID_INPUT"], name
    assert await group_count(admin) == 0


async def test_name_of_255_characters_is_fine(admin: GraphQLClient) -> None:
    name = "ü" * 255
    group_id = await create_group(admin, name)
    assert (await admin.data(GROUP, id=group_id))["group"]["name"] == name


async def test_unknown_group_reads_null(admin: GraphQLClient) -> None:
    await create_group(admin, "existing")
    for group_id in ("424242", "abc", "", "-1", "1.0"):
        assert (await admin.data(GROUP, id=group_id))["group"] is None, group_id


async def test_another_tenants_group_reads_null(admin: GraphQLClient) -> None:
    acme = await make_tenant(admin, "acme")
    foreign = await create_group(acme, "acme group")
    assert (await admin.data(GROUP, id=foreign))["group"] is None
    assert (await acme.data(GROUP, id=foreign))["group"]["name"] == "acme group"


async def test_group_ids_beyond_the_database_range_are_unknown(admin: GraphQLClient) -> None:
    # Group ids are 32-bit integers in the database: larger numbers name no group.
    for huge in ("2147483648", "99999999999", "999999999999999999", "9" * 40):
        assert (await admin(GROUP, id=huge)) == {"data": {"group": None}}, huge
        assert error_codes(await create_group_body(admin, "orphan", huge)) == ["NOT_FOUND"], huge
    assert await group_count(admin) == 0


async def test_cursor_beyond_the_database_range_is_no_internal_error(
    admin: GraphQLClient,
) -> None:
    await create_group(admin, "only")
    body = await admin(GROUPS, first=10, after=cursor("group:99999999999"))
    assert error_codes(body) in ([], ["INVALID_INPUT"])
    if not error_codes(body):
        assert body["data"]["groups"]["edges"] == []


async def test_empty_inventory_has_an_empty_page(admin: GraphQLClient) -> None:
    assert (await admin.data(GROUPS))["groups"] == {
        "totalCount": 0,
        "edges": [],
        "pageInfo": {"hasNextPage": False, "endCursor": None},
    }


async def test_pages_walk_through_every_group_once(admin: GraphQLClient) -> None:
    created = [await create_group(admin, f"group {i}") for i in range(7)]
    for page_size in (1, 3, 7, 10):
        seen: list[str] = []
        after = None
        for _ in range(len(created) + 1):
            page = (await admin.data(GROUPS, first=page_size, after=after))["groups"]
            assert page["totalCount"] == 7
            assert len(page["edges"]) <= page_size
            seen += [edge["node"]["id"] for edge in page["edges"]]
            if page["edges"]:
                assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert seen == created, page_size
        assert page["pageInfo"]["hasNextPage"] is False


async def test_edge_cursor_resumes_after_that_edge(admin: GraphQLClient) -> None:
    created = [await create_group(admin, f"group {i}") for i in range(4)]
    edges = (await admin.data(GROUPS, first=4))["groups"]["edges"]
    rest = (await admin.data(GROUPS, first=4, after=edges[1]["cursor"]))["groups"]["edges"]
    assert [e["node"]["id"] for e in rest] == created[2:]


async def test_first_1000_is_allowed(admin: GraphQLClient) -> None:
    await create_group(admin, "only")
    assert len((await admin.data(GROUPS, first=1000))["groups"]["edges"]) == 1


async def test_first_outside_the_page_limits_is_invalid_input(admin: GraphQLClient) -> None:
    for first in (-1, 1001):
        assert error_codes(await admin(GROUPS, first=first)) == ["INVALID_INPUT"], first


async def test_first_zero_answers_no_edges_with_count_and_page_info(
    admin: GraphQLClient,
) -> None:
    await create_group(admin, "only")
    page = (await admin.data(GROUPS, first=0))["groups"]
    assert page == {
        "totalCount": 1,
        "edges": [],
        "pageInfo": {"hasNextPage": True, "endCursor": None},
    }


async def test_garbage_cursor_is_invalid_input(admin: GraphQLClient) -> None:
    await create_group(admin, "only")
    for after in (
        "garbage",
        "",
        "!!!",
        cursor("registration:1"),
        cursor("group:abc"),
        cursor("group:"),
        cursor("group:-1"),
    ):
        assert error_codes(await admin(GROUPS, after=after)) == ["INVALID_INPUT"], after


async def test_control_characters_in_name_are_invalid_input(admin: GraphQLClient) -> None:
    for name in ("a\x00b", "a\x1bb", "line\nbreak"):
        assert error_codes(await create_group_body(admin, name)) == ["INVALID_INPUT"], repr(name)
    assert await group_count(admin) == 0
