"""``@c8y/client`` (npm, run by Node.js) against a real Gatehouse server, unchanged (API.md §8).

Its ``DeviceRegistrationService``, ``DeviceRegistrationBulkService`` and
``TenantOptionsService`` do what a Cumulocity script does; the device's first
contact and its credentials go through the same client's ``bootstrap``. The
test then reads the server's state back over GraphQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.kit.accounts import ADMIN_PASSWORD, BOOTSTRAP_PASSWORD
from tests.kit.c8y import gatehouse, run_node_scenario
from tests.kit.clients import basic
from tests.kit.servers import Server

CSV = "\r\n".join(
    [
        "ID;CREDENTIALS;TENANT;TYPE;NAME;ICCID;IDTYPE;PATH;SHELL",
        "c8y-bulk-1;;;c8y_Device;Pump 1;;c8y_Serial;Building 7/Floor 2;1",
        "c8y-bulk-2;;;c8y_Device;Pump 2;;c8y_Serial;Building 7/Floor 2;1",
        "c8y-bulk 3;;;c8y_Device;Pump 3;;c8y_Serial;;1",
        "c8y-bulk-4;secret-pw;;c8y_Device;Pump 4;;c8y_Serial;;1",
        "c8y-bulk-1;;;c8y_Device;Pump 1 again;;c8y_Serial;;1",
    ]
)
STATE = """{
  registrations(first: 100) { edges { node { id status usesSecurityToken failedAttempts
    group { name parent { name } } } } }
  events(first: 200) { edges { node { kind id } } }
  securityTokenPolicy
}"""


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], Any]]:
    """The scenario's steps, and the server's state afterwards."""
    cwd: Path = tmp_path_factory.mktemp("c8y-client")
    csv_file = cwd / "bulk-registration.csv"
    csv_file.write_bytes(b"\xef\xbb\xbf" + CSV.encode())
    with gatehouse(cwd) as server:
        steps = run_node_scenario(
            "scenario.js",
            {
                "GATEHOUSE_URL": server.url,
                "ADMIN_PASSWORD": ADMIN_PASSWORD,
                "BOOTSTRAP_PASSWORD": BOOTSTRAP_PASSWORD,
                "CSV_FILE": str(csv_file),
            },
        )
        yield steps, read_state(server)


def read_state(server: Server) -> dict[str, Any]:
    response = httpx.post(
        f"{server.url}/graphql",
        json={"query": STATE},
        headers={"Authorization": basic("management/admin", ADMIN_PASSWORD)},
        timeout=10,
    )
    data: dict[str, Any] = response.json()["data"]
    return data


def registrations(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["node"]["id"]: e["node"] for e in state["registrations"]["edges"]}


def test_create_answers_new_device_requests(outcome: tuple[dict[str, Any], Any]) -> None:
    steps, _ = outcome
    for n in range(1, 8):
        created = steps[f"create {n}"]
        assert (created["ok"], created["status"]) == (True, 201), created
        assert created["data"]["id"] == f"c8y-dev-{n}"
        assert created["data"]["status"] == "WAITING_FOR_CONNECTION"


def test_list_walks_every_page_by_id(outcome: tuple[dict[str, Any], Any]) -> None:
    steps, _ = outcome
    pages = steps["pages"]
    assert [page["ids"] for page in pages] == [
        ["c8y-dev-1", "c8y-dev-2", "c8y-dev-3"],
        ["c8y-dev-4", "c8y-dev-5", "c8y-dev-6"],
        ["c8y-dev-7"],
    ]
    assert [page["paging"]["currentPage"] for page in pages] == [1, 2, 3]
    assert pages[0]["paging"]["totalPages"] == 3
    assert pages[-1]["paging"]["nextPage"] is None


def test_detail_reads_one_request(outcome: tuple[dict[str, Any], Any]) -> None:
    detail = outcome[0]["detail"]
    assert (detail["ok"], detail["data"]["id"]) == (True, "c8y-dev-1")
    assert "securityToken" not in detail["data"]


def test_accept_with_a_wrong_then_the_right_token(outcome: tuple[dict[str, Any], Any]) -> None:
    steps, state = outcome
    first_contact = steps["first contact with a token"]
    assert (first_contact["ok"], first_contact["status"]) == (False, 404)
    wrong = steps["accept with a wrong token"]
    assert (wrong["ok"], wrong["status"]) == (False, 422)
    assert wrong["data"]["error"] == "devicecontrol/Security Token Mismatch"
    assert wrong["data"]["attemptsLeft"] == 4
    right = steps["accept with the right token"]
    assert (right["ok"], right["status"], right["data"]["status"]) == (True, 200, "ACCEPTED")
    credentials = steps["credentials"]
    assert (credentials["ok"], credentials["status"]) == (True, 201)
    assert credentials["data"]["username"] == "device_c8y-dev-1"
    device = registrations(state)["c8y-dev-1"]
    assert (device["usesSecurityToken"], device["failedAttempts"]) == (True, 1)


def test_accept_all_accepts_what_needs_no_token(outcome: tuple[dict[str, Any], Any]) -> None:
    steps, state = outcome
    accept_all = steps["accept all"]
    assert accept_all["ok"], accept_all
    assert accept_all["data"] == [
        {"id": "c8y-dev-2", "successful": True},
        {"id": "c8y-dev-3", "successful": True},
    ]
    assert registrations(state)["c8y-dev-3"]["status"] == "ACCEPTED"
    assert registrations(state)["c8y-dev-4"]["status"] == "WAITING_FOR_CONNECTION"


def test_delete_and_limit(outcome: tuple[dict[str, Any], Any]) -> None:
    steps, state = outcome
    assert (steps["delete"]["ok"], steps["delete"]["status"]) == (True, 204)
    gone = steps["detail of the deleted"]
    assert (gone["ok"], gone["status"], gone["data"]["error"]) == (
        False,
        404,
        "devicecontrol/Not Found",
    )
    assert "c8y-dev-7" not in registrations(state)
    assert steps["limit"]["data"] == {"isReached": False}


def test_bulk_registration_of_a_streamed_csv_file(outcome: tuple[dict[str, Any], Any]) -> None:
    steps, state = outcome
    bulk = steps["bulk"]
    assert (bulk["ok"], bulk["status"]) == (True, 201), bulk
    assert {k: bulk["data"][k] for k in ("numberOfAll", "numberOfCreated", "numberOfFailed")} == {
        "numberOfAll": 5,
        "numberOfCreated": 2,
        "numberOfFailed": 3,
    }
    failed = {(f["line"], f["deviceId"]) for f in bulk["data"]["failedCreationList"]}
    assert failed == {("4", "c8y-bulk 3"), ("5", "c8y-bulk-4"), ("6", "c8y-bulk-1")}
    group = registrations(state)["c8y-bulk-2"]["group"]
    assert group == {"name": "Floor 2", "parent": {"name": "Building 7"}}


def test_tenant_options_set_the_policy_and_read_it_back(
    outcome: tuple[dict[str, Any], Any],
) -> None:
    steps, state = outcome
    created = steps["set the policy"]
    assert (created["ok"], created["status"], created["data"]["value"]) == (True, 201, "REQUIRED")
    read = steps["read the policy"]
    assert (read["ok"], read["data"]["value"]) == (True, "REQUIRED")
    assert steps["update the policy"]["data"]["value"] == "IGNORED"
    listed = steps["list the options"]
    assert [(o["key"], o["value"]) for o in listed["data"]] == [
        ("security-token.policy", "IGNORED")
    ]
    refused = steps["refused value"]
    assert (refused["ok"], refused["status"]) == (False, 422)
    assert refused["data"]["error"] == "options/Invalid Option"
    assert state["securityTokenPolicy"] == "REQUIRED"


def test_every_change_wrote_its_event(outcome: tuple[dict[str, Any], Any]) -> None:
    _, state = outcome
    kinds = [(e["node"]["kind"], e["node"]["id"]) for e in state["events"]["edges"]]
    assert kinds.count(("REGISTERED", "c8y-dev-1")) == 1
    assert [k for k, i in kinds if i == "c8y-dev-1"] == [
        "REGISTERED",
        "CONNECTED",
        "TOKEN_REJECTED",
        "ACCEPTED",
        "CREDENTIALS_DELIVERED",
    ]
    assert ("REMOVED", "c8y-dev-7") in kinds
    assert ("REGISTERED", "c8y-bulk-2") in kinds
