"""Bulk registration: ``registerCsv`` and ``POST /devicecontrol/bulkNewDeviceRequests`` (§8.3)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from models.events import RegistrationEvent
from models.groups import Group
from models.registrations import Registration
from tests.kit.accounts import make_tenant, make_user
from tests.kit.clients import GraphQLClient, error_codes
from tests.kit.groups import create_group
from tests.kit.registrations import event_kinds, register
from tests.kit.rest import BULK, error_of, rest
from tests.kit.statements import statements

REGISTER_CSV = """
mutation($csv: String!) {
  registerCsv(csv: $csv) {
    created failed
    lines {
      line id
      problem { code message id }
      registration { id status tenantId owner group { name parent { name } } }
    }
  }
}"""
#: What the benchmark asks (``bench/bulk.py``): every line, its problem, no registration.
REGISTER_CSV_LINES = """
mutation($csv: String!) {
  registerCsv(csv: $csv) { created failed lines { line id problem { code message } } }
}"""
HEADER = "ID;CREDENTIALS;TENANT;TYPE;NAME;ICCID;IDTYPE;PATH;SHELL"


def cumulocity_line(device_id: str, path: str = "", tenant: str = "", credentials: str = "") -> str:
    return f"{device_id};{credentials};{tenant};c8y_Device;{device_id};;c8y_Serial;{path};1"


async def register_csv(client: GraphQLClient, csv: str) -> dict[str, Any]:
    result: dict[str, Any] = (await client.data(REGISTER_CSV, csv=csv))["registerCsv"]
    return result


def by_line(result: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {line["line"]: line for line in result["lines"]}


async def upload(
    client: GraphQLClient, content: bytes, name: str = "bulk-registration.csv"
) -> httpx.Response:
    return await rest(client).post(BULK, files={"file": (name, content, "text/csv")})


# ---------------------------------------------------------------- GraphQL


async def test_good_lines_are_registered_and_bad_lines_fail_with_their_numbers(
    admin: GraphQLClient,
) -> None:
    acme = await make_tenant(admin, "acme")
    await register(acme, {"id": "SN-taken"})
    csv = "\r\n".join(
        [
            HEADER,
            cumulocity_line("SN-1", "Building 7/Floor 2"),
            cumulocity_line("has space"),
            "",
            cumulocity_line("SN-taken"),
            cumulocity_line("SN-1"),
            cumulocity_line("SN-5", credentials="preset-password"),
            cumulocity_line("SN-6", tenant="nosuch"),
            cumulocity_line("SN-7", tenant="acme", path="Hall"),
            cumulocity_line("SN-8", "Building 7"),
        ]
    )
    result = await register_csv(admin, csv)
    assert (result["created"], result["failed"]) == (2, 6)
    lines = by_line(result)
    assert sorted(lines) == [2, 3, 5, 6, 7, 8, 9, 10]
    problems = {n: line["problem"]["code"] for n, line in lines.items() if line["problem"]}
    assert problems == {
        3: "INVALID_ID",
        5: "ALREADY_EXISTS",
        6: "ALREADY_EXISTS",
        7: "INVALID_INPUT",
        8: "NOT_FOUND",
        9: "TENANT_AND_GROUP",
    }
    assert "acme" not in lines[5]["problem"]["message"]
    assert "line 2" in lines[6]["problem"]["message"]
    assert lines[3]["registration"] is None
    first = lines[2]["registration"]
    assert first["status"] == "WAITING_FOR_CONNECTION"
    assert (first["tenantId"], first["owner"]) == ("management", "management/admin")
    assert first["group"] == {"name": "Floor 2", "parent": {"name": "Building 7"}}
    assert lines[10]["registration"]["group"] == {"name": "Building 7", "parent": None}
    assert sorted(
        await Registration.filter(tenant_id="management").values_list("device_id", flat=True)
    ) == ["SN-1", "SN-8"]
    assert await event_kinds("SN-1") == ["REGISTERED"]
    assert await RegistrationEvent.filter(tenant_id="management").count() == 2


async def test_group_paths_reuse_existing_groups_and_create_only_what_is_missing(
    admin: GraphQLClient,
) -> None:
    building = await create_group(admin, "Building 7")
    acme = await make_tenant(admin, "acme")
    theirs = await create_group(acme, "Floor 2")
    result = await register_csv(
        admin, "ID,PATH\nSN-1,Building 7/Floor 2\nSN-2,Building 7/Floor 2\n"
    )
    assert result["created"] == 2
    groups = await Group.filter(tenant_id="management").order_by("id")
    assert [(g.name, g.parent_id) for g in groups] == [
        ("Building 7", None),
        ("Floor 2", int(building)),
    ]
    rows = await Registration.filter(device_id__in=["SN-1", "SN-2"]).values_list(
        "group_id", flat=True
    )
    assert set(rows) == {groups[1].id}
    assert (await Group.get(id=int(theirs))).tenant_id == "acme"


async def test_tenant_lines_go_to_the_named_subtenant_and_its_event_log(
    admin: GraphQLClient,
) -> None:
    acme = await make_tenant(admin, "acme")
    result = await register_csv(admin, "ID\tTENANT\nSN-a\tacme\nSN-m\tmanagement\nSN-n\t\n")
    assert result["failed"] == 0
    tenants = {line["id"]: line["registration"]["tenantId"] for line in result["lines"]}
    assert tenants == {"SN-a": "acme", "SN-m": "management", "SN-n": "management"}
    assert await RegistrationEvent.filter(tenant_id="acme", device_id="SN-a").count() == 1
    # A subtenant may write its own tenant, not another.
    mine = await register_csv(acme, "ID;TENANT\nSN-own;acme\nSN-other;management\n")
    assert [line["problem"] and line["problem"]["code"] for line in mine["lines"]] == [
        None,
        "INVALID_INPUT",
    ]


async def test_a_file_it_cannot_read_registers_nothing(admin: GraphQLClient) -> None:
    body = await admin(REGISTER_CSV, csv="NAME;PATH\nPump;Hall\n")
    assert error_codes(body) == ["INVALID_INPUT"]
    assert "ID column" in body["errors"][0]["message"]
    assert await Registration.all().count() == 0


async def test_register_csv_needs_device_control_admin(admin: GraphQLClient) -> None:
    reader = await make_user(admin, "reader", ["DEVICE_CONTROL_READ", "INVENTORY_ADMIN"])
    body = await reader(REGISTER_CSV, csv="ID\nSN-1\n")
    assert error_codes(body) == ["FORBIDDEN"]
    assert await Registration.all().count() == 0


# ---------------------------------------------------------------- REST


async def test_upload_answers_cumulocitys_bulk_result(admin: GraphQLClient) -> None:
    csv = "\r\n".join(
        [
            HEADER,
            cumulocity_line("SN-1", "Lab"),
            cumulocity_line("SN 2"),
            "",
            cumulocity_line("SN-1"),
        ]
    )
    response = await upload(admin, b"\xef\xbb\xbf" + csv.encode())
    assert response.status_code == 201, response.text
    body = response.json()
    assert {k: body[k] for k in body if k != "failedCreationList"} == {
        "numberOfAll": 3,
        "numberOfCreated": 1,
        "numberOfFailed": 2,
        "numberOfSuccessful": 1,
        "credentialUpdatedList": [],
    }
    failed = body["failedCreationList"]
    assert [(f["deviceId"], f["line"], f["bulkNewDeviceStatus"]) for f in failed] == [
        ("SN 2", "3", "FAILED"),
        ("SN-1", "5", "FAILED"),
    ]
    assert all(isinstance(f["failureReason"], str) and f["failureReason"] for f in failed)
    assert await event_kinds("SN-1") == ["REGISTERED"]


async def test_upload_streamed_in_chunks_without_content_length(admin: GraphQLClient) -> None:
    boundary = "----gatehouse-test-boundary"
    parts = [
        f"--{boundary}\r\n".encode(),
        b'Content-Disposition: form-data; name="file"; filename="bulk-registration.csv"\r\n',
        b"Content-Type: text/csv\r\n\r\n",
        b"ID;PATH\r\n",
        *[f"SN-{n:03};Hall {n % 2}\r\n".encode() for n in range(300)],
        f"\r\n--{boundary}--\r\n".encode(),
    ]

    async def chunks() -> AsyncIterator[bytes]:
        for part in parts:
            yield part

    response = await admin.http.post(
        BULK,
        content=chunks(),
        headers=rest(admin).headers({"Content-Type": f"multipart/form-data; boundary={boundary}"}),
    )
    assert response.status_code == 201, response.text
    assert response.json()["numberOfCreated"] == 300
    assert await Registration.all().count() == 300


async def test_upload_of_a_raw_text_csv_body(admin: GraphQLClient) -> None:
    response = await rest(admin).post(
        BULK + "/", content=b"ID\nSN-raw\n", headers={"Content-Type": "text/csv"}
    )
    assert (response.status_code, response.json()["numberOfCreated"]) == (201, 1)


@pytest.mark.parametrize(
    ("kwargs", "status", "error"),
    [
        ({"files": {"file": ("x.csv", b"NAME\nPump\n")}}, 422, "devicecontrol/"),
        ({"files": {"upload": ("x.csv", b"ID\nSN-1\n")}}, 422, "undefined/validationError"),
        ({"json": {"csv": "ID\nSN-1\n"}}, 415, "general/Unsupported Media Type"),
        ({"files": {"file": ("x.csv", "ID\nSN-é\n".encode("latin-1"))}}, 422, "devicecontrol/"),
    ],
)
async def test_an_upload_it_cannot_read_registers_nothing(
    admin: GraphQLClient, kwargs: dict[str, Any], status: int, error: str
) -> None:
    response = await rest(admin).post(BULK, **kwargs)
    assert response.status_code == status, response.text
    assert error_of(response).startswith(error) or error_of(response) == "undefined/validationError"
    assert await Registration.all().count() == 0


async def test_upload_needs_device_control_admin(admin: GraphQLClient) -> None:
    reader = await make_user(admin, "reader", ["DEVICE_CONTROL_READ", "INVENTORY_ADMIN"])
    response = await upload(reader, b"ID\nSN-1\n")
    assert response.status_code == 403
    assert error_of(response) == "security/Forbidden"
    anonymous = await admin.http.post(BULK, files={"file": ("x.csv", b"ID\nSN-1\n")})
    assert anonymous.status_code == 401
    assert await Registration.all().count() == 0


async def test_the_readmes_example_file_registers_every_line(admin: GraphQLClient) -> None:
    example = Path(__file__).resolve().parents[2] / "docs" / "bulk-registration.csv"
    response = await upload(admin, example.read_bytes())
    assert response.status_code == 201, response.text
    assert (response.json()["numberOfCreated"], response.json()["numberOfFailed"]) == (4, 0)
    assert await Group.filter(tenant_id="management").count() == 2


# ---------------------------------------------------------------- bounded statements


def bulk_csv(lines: int) -> str:
    rows = [HEADER]
    for n in range(lines):
        if n % 100 == 99:
            rows.append(cumulocity_line(f"bad id {n}"))
        else:
            path = f"Site {lines}-{n % 3}/Hall {n % 4}"  # new groups each time: 3 + 12
            rows.append(cumulocity_line(f"SN-{lines}-{n:06}", path))
    return "\r\n".join(rows) + "\r\n"


async def test_a_thousand_and_a_hundred_thousand_lines_cost_the_same_statements(
    admin: GraphQLClient,
) -> None:
    await rest(admin).get("/devicecontrol/newDeviceRequests/limit")  # the login is cached now
    counts = []
    for size in (1000, 100_000):
        with statements() as sql:
            response = await upload(admin, bulk_csv(size).encode())
        assert response.status_code == 201
        assert response.json()["numberOfCreated"] == size - size // 100
        counts.append(len(sql.statements))
    assert counts[0] == counts[1]
    # lock, taken ids, groups, two levels of groups, registrations, events
    assert counts[1] <= 7, counts
    assert await RegistrationEvent.filter(tenant_id="management").count() == 99_000 + 990
    assert await Group.filter(tenant_id="management").count() == 30


async def test_two_tenants_uploading_the_same_ids_at_once_register_each_id_once(
    admin: GraphQLClient,
) -> None:
    acme = await make_tenant(admin, "acme")
    lines = [f"SN-race-{n:04};Hall\n" for n in range(2000)]
    forward = ("ID;PATH\n" + "".join(lines)).encode()
    backward = ("ID;PATH\n" + "".join(reversed(lines))).encode()
    results = await asyncio.gather(upload(admin, forward), upload(acme, backward))
    bodies = [r.json() for r in results]
    assert [r.status_code for r in results] == [201, 201]
    assert sum(b["numberOfCreated"] for b in bodies) == 2000
    assert sum(b["numberOfFailed"] for b in bodies) == 2000
    assert {f["code"] for b in bodies for f in b["failedCreationList"]} == {"ALREADY_EXISTS"}
    assert await Registration.all().count() == 2000
    # Each tenant's events are exactly its own registrations.
    for tenant_id, body in zip(("management", "acme"), bodies, strict=True):
        events = await RegistrationEvent.filter(tenant_id=tenant_id).count()
        assert events == body["numberOfCreated"]
        assert await Registration.filter(tenant_id=tenant_id).count() == events


def compact_csv(lines: int) -> str:
    """Like :func:`bulk_csv` in two columns (well under GraphQL's body limit), with a group
    per 50 lines and four subgroups each: a statement per group would show too."""
    rows = ["ID;PATH"]
    for n in range(lines):
        device = f"bad {n}" if n % 100 == 99 else f"G{lines}-{n}"
        rows.append(f"{device};{lines}-{n % (lines // 50)}/{n % 4}")  # groups grow with size
    return "\r\n".join(rows) + "\r\n"


async def test_register_csv_runs_the_same_statements_for_1000_and_20000_lines(
    admin: GraphQLClient,
) -> None:
    # The GraphQL way in, with the answer naming every line: neither reading the file nor
    # answering may cost a statement per line or per group. The REST way in is counted at
    # 100,000 lines above (the same resolver); 20,000 keep this test's time small.
    await admin.data("{ me { username } }")  # the login is cached now
    counts = []
    for size in (1000, 20_000):
        with statements() as sql:
            result = (await admin.data(REGISTER_CSV_LINES, csv=compact_csv(size)))["registerCsv"]
        assert (result["created"], result["failed"]) == (size - size // 100, size // 100)
        assert [line["line"] for line in result["lines"]] == list(range(2, size + 2))
        counts.append(len(sql.statements))
    assert counts[0] == counts[1], counts
    # lock, taken ids, groups, two levels of groups, registrations, events, the answer's groups
    assert counts[1] <= 8, counts


async def test_register_csv_answers_group_paths_with_the_same_statements_for_any_size(
    admin: GraphQLClient,
) -> None:
    # Each line's registration with its group path, which graphql-core completes field by
    # field: the groups are loaded in one batch, not one query per line or per group.
    await admin.data("{ me { username } }")
    counts = []
    for size in (100, 1000):
        with statements() as sql:
            result = await register_csv(admin, compact_csv(size))
        assert result["created"] == size - size // 100
        line = by_line(result)[2]["registration"]
        assert line["group"] == {"name": "0", "parent": {"name": f"{size}-0"}}
        counts.append(len(sql.statements))
    assert counts[0] == counts[1], counts
