"""Mosquitto's dynamic-security commands for a device and the reading of its answers (pure)."""

from __future__ import annotations

import json

from resolvers import dynsec


def test_the_role_allows_exactly_the_namespace_with_literal_topics() -> None:
    assert dynsec.acls("devices/SN-1") == [
        {"acltype": "publishClientSend", "topic": "devices/SN-1/#", "priority": 0, "allow": True},
        {
            "acltype": "publishClientReceive",
            "topic": "devices/SN-1/#",
            "priority": 0,
            "allow": True,
        },
        {"acltype": "subscribePattern", "topic": "devices/SN-1/#", "priority": 0, "allow": True},
    ]
    assert dynsec.acls(None) == []


def test_creating_replaces_whatever_the_device_had_and_follows_the_settings() -> None:
    commands = dynsec.create_device("SN-1", "pw", "fleet/{id}/io", "dev-{id}")
    assert [c["command"] for c in commands] == [
        "removeClientRole",
        "deleteClient",
        "deleteRole",
        "createRole",
        "createClient",
    ]
    role, client = commands[3], commands[4]
    assert role["rolename"] == "gatehouse:device_SN-1"
    assert {acl["topic"] for acl in role["acls"]} == {"fleet/SN-1/io/#"}
    assert client["username"] == "device_SN-1"
    assert client["password"] == "pw"
    assert client["clientid"] == "dev-SN-1"
    assert client["roles"] == [{"rolename": "gatehouse:device_SN-1", "priority": 0}]
    # No %c or %u patterns anywhere: ACL topics in dynamic security are literal.
    assert "%" not in json.dumps(commands)


def test_a_device_whose_id_holds_a_plus_gets_a_role_without_topics() -> None:
    commands = dynsec.create_device("SN+1", "pw", "devices/{id}", "{id}")
    assert commands[3]["acls"] == []
    assert commands[4]["clientid"] == "SN+1"


def test_deleting_takes_the_role_off_the_client_before_deleting_the_role() -> None:
    names = [
        (c["command"], c.get("username"), c.get("rolename")) for c in dynsec.delete_device("X")
    ]
    assert names == [
        ("removeClientRole", "device_X", "gatehouse:device_X"),
        ("deleteClient", "device_X", None),
        ("deleteRole", None, "gatehouse:device_X"),
    ]


def test_correlation_data_is_a_string_per_command_and_finds_its_request() -> None:
    tagged = dynsec.with_correlation(dynsec.delete_device("X"), "proc-1:7")
    assert [c["correlationData"] for c in tagged] == ["proc-1:7:0", "proc-1:7:1", "proc-1:7:2"]
    answer = {"responses": [{"command": "deleteClient", "correlationData": "proc-1:7:0"}]}
    assert dynsec.correlation_prefix(answer) == "proc-1:7"
    unreadable: list[object] = [{}, {"responses": []}, {"responses": [{"command": "x"}]}, [], "x"]
    for payload in unreadable:
        assert dynsec.correlation_prefix(payload) is None


def test_gone_counts_as_done_for_deletions_only() -> None:
    commands = dynsec.create_device("X", "pw", "devices/{id}", "{id}")
    answers = [
        {"command": "removeClientRole", "error": "Client not found"},
        {"command": "deleteClient", "error": "Client not found"},
        {"command": "deleteRole", "error": "Role not found"},
        {"command": "createRole"},
        {"command": "createClient"},
    ]
    assert dynsec.failures(commands, answers) == []
    refused = [*answers[:4], {"command": "createClient", "error": "Client already exists"}]
    assert [str(f) for f in dynsec.failures(commands, refused)] == [
        "createClient: Client already exists"
    ]


def test_missing_answers_are_failures() -> None:
    commands = dynsec.delete_device("X")
    # Mosquitto stops at a command it cannot read and answers nothing for the rest.
    problems = dynsec.failures(commands, [{"command": "removeClientRole"}])
    assert [str(p) for p in problems] == ["deleteClient: no answer", "deleteRole: no answer"]
    assert len(dynsec.failures(commands, None)) == 3


def test_a_failure_never_carries_the_password() -> None:
    commands = dynsec.create_device("X", "s3cret-pw", "devices/{id}", "{id}")
    answers = [{"command": c["command"], "error": "Permission denied"} for c in commands]
    assert "s3cret-pw" not in " ".join(str(f) for f in dynsec.failures(commands, answers))
