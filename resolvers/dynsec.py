"""Mosquitto's dynamic-security commands for a device, and what their answers mean (API.md §10.2).

Mosquitto 2's ``mosquitto_dynamic_security`` plugin is driven by JSON commands
published to ``$CONTROL/dynamic-security/v1``; it answers on
``$CONTROL/dynamic-security/v1/response`` with ``{"responses": [...]}``, one
per command, in order, each without ``error`` when it succeeded. A command's
``correlationData`` is echoed only when it is a string (any other type makes
Mosquitto drop the rest of the request).

Each device gets a client ``device_<id>`` that may connect only with the
device's client id (§6), and a role of its own, since ACL topics are literal
(no ``%c`` or ``%u``): publish, receive and subscribe inside the namespace and
nothing else. Mosquitto's ``#`` also matches the level above it, so
``devices/<id>/#`` covers ``devices/<id>`` itself; a subscription pattern ACL
matches a filter's ``+`` and ``#`` only as literal levels below the namespace,
so ``devices/+/state`` or ``#`` never pass. A device without a namespace (its id
holds ``+``, §6) gets a role without ACLs: it can connect and reaches nothing.

Deleting is three commands: take the role off the client (deleting a role
still attached leaves a dangling name on the client that breaks
``listClients``), delete the client (which disconnects its sessions), delete
the role. "Not found" answers count as done, so a deletion can be repeated.
Creating starts with the same three, so a leftover of an earlier attempt never
stands in the way and the client holds exactly the password being delivered.

Pure: no I/O; tested in ``tests/resolvers/test_dynsec.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from resolvers import topics
from resolvers.device_auth import USERNAME_PREFIX

REQUEST_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = "$CONTROL/dynamic-security/v1/response"
#: Role names are Gatehouse's own, so an operator can tell them from roles of their own.
ROLE_PREFIX = "gatehouse:"
#: Answers that mean "already gone" for a deletion.
GONE = frozenset({"Client not found", "Role not found"})

Command = dict[str, Any]


def username(device_id: str) -> str:
    return USERNAME_PREFIX + device_id


def role_name(device_id: str) -> str:
    return ROLE_PREFIX + username(device_id)


def acls(namespace: str | None) -> list[dict[str, Any]]:
    """The ACLs that allow exactly ``namespace`` (none for a device without one)."""
    if namespace is None:
        return []
    topic = f"{namespace}/#"
    return [
        {"acltype": kind, "topic": topic, "priority": 0, "allow": True}
        for kind in ("publishClientSend", "publishClientReceive", "subscribePattern")
    ]


def delete_device(device_id: str) -> list[Command]:
    """Remove the device's client and its role, in the order that leaves nothing dangling."""
    name, role = username(device_id), role_name(device_id)
    return [
        {"command": "removeClientRole", "username": name, "rolename": role},
        {"command": "deleteClient", "username": name},
        {"command": "deleteRole", "rolename": role},
    ]


def create_device(
    device_id: str, password: str, rules_prefix: str, client_id: str
) -> list[Command]:
    """Replace whatever the device had with a client holding ``password`` and its own role.

    ``rules_prefix`` and ``client_id`` are the settings' templates
    (``GATEHOUSE_DEVICE_TOPIC_PREFIX``, ``GATEHOUSE_MQTT_CLIENT_ID``).
    """
    role = role_name(device_id)
    return [
        *delete_device(device_id),
        {
            "command": "createRole",
            "rolename": role,
            "textname": f"Gatehouse: the topics of device {device_id}",
            "acls": acls(topics.namespace(rules_prefix, device_id)),
        },
        {
            "command": "createClient",
            "username": username(device_id),
            "password": password,
            "clientid": topics.client_id(client_id, device_id),
            "textname": f"Gatehouse: device {device_id}",
            "roles": [{"rolename": role, "priority": 0}],
        },
    ]


def with_correlation(commands: Sequence[Command], prefix: str) -> list[Command]:
    """``commands`` each tagged ``<prefix>:<index>`` (a string, so Mosquitto echoes it)."""
    return [{**command, "correlationData": f"{prefix}:{n}"} for n, command in enumerate(commands)]


def correlation_prefix(payload: Any) -> str | None:
    """The request a response payload answers (from its first response's correlationData)."""
    responses = payload.get("responses") if isinstance(payload, dict) else None
    if not isinstance(responses, list) or not responses or not isinstance(responses[0], dict):
        return None
    tag = responses[0].get("correlationData")
    if not isinstance(tag, str) or ":" not in tag:
        return None
    return tag.rpartition(":")[0]


@dataclass(frozen=True)
class Failure:
    """A command Mosquitto refused (for the log and ``last_error``; no password in it)."""

    command: str
    error: str

    def __str__(self) -> str:
        return f"{self.command}: {self.error}"


def failures(commands: Sequence[Command], responses: Any) -> list[Failure]:
    """What went wrong, command by command; empty when everything is done.

    A deletion answered "not found" is done. A missing answer (Mosquitto stops
    at a command it cannot read) is a failure of that command.
    """
    answers = responses if isinstance(responses, list) else []
    found: list[Failure] = []
    for index, command in enumerate(commands):
        name = str(command.get("command"))
        answer = answers[index] if index < len(answers) else None
        if not isinstance(answer, dict):
            found.append(Failure(name, "no answer"))
            continue
        error = answer.get("error")
        if error is None:
            continue
        deleting = name in ("removeClientRole", "deleteClient", "deleteRole")
        if deleting and error in GONE:
            continue
        found.append(Failure(name, str(error)[:200]))
    return found
