"""Valid device credentials and what they open (``resolvers/device_auth.py``): pure, no database."""

from __future__ import annotations

import hashlib

import pytest

from resolvers.device_auth import (
    MOSQUITTO_ACCESS,
    Action,
    CredentialState,
    DeviceLogin,
    DeviceRules,
    DeviceUsername,
    Refusal,
    Verdict,
    login,
    parse_username,
    standing,
)

PASSWORD = "r6ghbxrojkFIDFVPcMm8_PgfIo8JkP4K"
STATE = CredentialState("SN-1", "acme", hashlib.sha256(PASSWORD.encode()).hexdigest())
RULES = DeviceRules()
SN1 = Verdict(DeviceLogin("SN-1", "acme"))


@pytest.mark.parametrize(
    ("username", "parsed"),
    [
        ("device_SN-1", DeviceUsername("SN-1", None)),
        ("acme/device_SN-1", DeviceUsername("SN-1", "acme")),
        ("device_a.b+c", DeviceUsername("a.b+c", None)),
        ("device_", None),
        ("SN-1", None),
        ("management/admin", None),
        ("admin", None),
        ("/device_SN-1", None),
        ("acme/SN-1", None),
        ("", None),
    ],
)
def test_a_device_username_is_device_id_with_an_optional_tenant(
    username: str, parsed: DeviceUsername | None
) -> None:
    assert parse_username(username) == parsed


def test_the_delivered_password_is_valid_with_or_without_the_registrations_tenant() -> None:
    assert login(DeviceUsername("SN-1", None), STATE, PASSWORD).allowed
    assert login(DeviceUsername("SN-1", "acme"), STATE, PASSWORD).device == DeviceLogin(
        "SN-1", "acme"
    )


@pytest.mark.parametrize(
    ("name", "state", "password"),
    [
        (DeviceUsername("SN-1", None), STATE, PASSWORD[:-1]),
        (DeviceUsername("SN-1", None), STATE, PASSWORD + "x"),
        (DeviceUsername("SN-1", None), STATE, ""),
        (DeviceUsername("SN-1", None), STATE, "x" * 5000),
        (DeviceUsername("SN-1", "other"), STATE, PASSWORD),
        (DeviceUsername("SN-1", None), None, PASSWORD),  # removed, reset, not delivered
    ],
)
def test_anything_else_is_refused_the_same_way(
    name: DeviceUsername, state: CredentialState | None, password: str
) -> None:
    verdict = login(name, state, password)
    assert not verdict.allowed
    assert verdict.refusal is Refusal.BAD_CREDENTIALS


def test_checks_without_a_password_need_valid_credentials_and_the_right_tenant() -> None:
    assert standing(DeviceUsername("SN-1", None), STATE).allowed
    assert not standing(DeviceUsername("SN-1", "other"), STATE).allowed
    assert not standing(DeviceUsername("SN-1", None), None).allowed


def test_the_state_never_shows_its_digest() -> None:
    assert STATE.password_digest not in repr(STATE)


@pytest.mark.parametrize(
    ("rules", "client_id", "allowed"),
    [
        (RULES, None, True),
        (RULES, "SN-1", True),
        (RULES, "SN-2", False),
        (RULES, "", False),
        (DeviceRules(client_id="dev-{id}"), "dev-SN-1", True),
        (DeviceRules(client_id="dev-{id}"), "SN-1", False),
    ],
)
def test_the_client_id_where_the_broker_passes_one_is_the_devices(
    rules: DeviceRules, client_id: str | None, allowed: bool
) -> None:
    verdict = rules.with_client_id(SN1, client_id)
    assert verdict.allowed is allowed
    if not allowed:
        assert verdict.refusal is Refusal.CLIENT_ID


@pytest.mark.parametrize(
    ("actions", "topic", "allowed"),
    [
        ((Action.PUBLISH,), "devices/SN-1/state", True),
        ((Action.SUBSCRIBE,), "devices/SN-1/#", True),
        ((Action.PUBLISH,), "devices/SN-1/#", False),
        ((Action.RECEIVE,), "devices/SN-1/cmd", True),
        ((Action.RECEIVE, Action.PUBLISH), "devices/SN-1/cmd", True),
        ((Action.SUBSCRIBE,), "devices/+/state", False),
        ((Action.SUBSCRIBE,), "#", False),
        ((Action.PUBLISH,), "devices/SN-2/state", False),
    ],
)
def test_mqtt_actions_stay_inside_the_namespace(
    actions: tuple[Action, ...], topic: str, allowed: bool
) -> None:
    assert RULES.mqtt(SN1, actions, topic).allowed is allowed


def test_mosquittos_access_bits() -> None:
    assert MOSQUITTO_ACCESS[1] == (Action.RECEIVE,)
    assert MOSQUITTO_ACCESS[2] == (Action.PUBLISH,)
    assert set(MOSQUITTO_ACCESS[3]) == {Action.RECEIVE, Action.PUBLISH}
    assert MOSQUITTO_ACCESS[4] == (Action.SUBSCRIBE,)


@pytest.mark.parametrize(
    ("vhost", "resource", "name", "permission", "allowed"),
    [
        ("/", "exchange", "amq.topic", "read", True),
        ("/", "exchange", "amq.topic", "write", True),
        ("/", "exchange", "amq.topic", "configure", False),
        ("/", "exchange", "amq.direct", "write", False),
        ("/", "queue", "mqtt-subscription-SN-1qos0", "configure", True),
        ("/", "queue", "mqtt-subscription-SN-1qos1", "read", True),
        ("/", "queue", "mqtt-subscription-SN-2qos1", "read", False),
        ("/", "queue", "mqtt-subscription-SN-1qos2", "read", False),
        ("/", "queue", "amq.gen-1", "read", False),
        ("other", "exchange", "amq.topic", "read", False),
        ("/", "topic", "amq.topic", "read", False),
    ],
)
def test_rabbitmq_resources_are_the_exchange_and_the_devices_own_queues(
    vhost: str, resource: str, name: str, permission: str, allowed: bool
) -> None:
    assert RULES.rabbitmq_resource(SN1, vhost, resource, name, permission).allowed is allowed


@pytest.mark.parametrize(
    ("vhost", "exchange", "routing_key", "allowed"),
    [
        ("/", "amq.topic", "devices.SN-1.state", True),
        ("/", "amq.topic", "devices.SN-1.#", True),
        ("/", "amq.topic", "devices.*.state", False),
        ("/", "amq.topic", "#", False),
        ("/", "amq.fanout", "devices.SN-1.state", False),
        ("iot", "amq.topic", "devices.SN-1.state", False),
    ],
)
def test_rabbitmq_topics_are_routing_keys_inside_the_namespace(
    vhost: str, exchange: str, routing_key: str, allowed: bool
) -> None:
    assert RULES.rabbitmq_topic(SN1, vhost, exchange, routing_key).allowed is allowed


def test_rabbitmq_gives_a_device_whose_id_holds_a_dot_no_topic() -> None:
    dotted = Verdict(DeviceLogin("SN.1", "acme"))
    assert not RULES.rabbitmq_topic(dotted, "/", "amq.topic", "devices.SN.1.state").allowed
    assert RULES.mqtt(dotted, (Action.PUBLISH,), "devices/SN.1/state").allowed


def test_the_vhost_and_exchange_are_settings() -> None:
    rules = DeviceRules(vhost="iot", exchange="devices")
    assert rules.rabbitmq_vhost(SN1, "iot").allowed
    assert not rules.rabbitmq_vhost(SN1, "/").allowed
    assert rules.rabbitmq_topic(SN1, "iot", "devices", "devices.SN-1.x").allowed


def test_a_refused_verdict_stays_refused_through_every_rule() -> None:
    refused = Verdict.deny(Refusal.BAD_CREDENTIALS)
    assert RULES.with_client_id(refused, "SN-1") is refused
    assert RULES.mqtt(refused, (Action.PUBLISH,), "devices/SN-1").refusal is Refusal.BAD_CREDENTIALS
    assert not RULES.rabbitmq_resource(refused, "/", "exchange", "amq.topic", "read").allowed


def test_rules_refuse_a_prefix_that_would_let_namespaces_overlap() -> None:
    with pytest.raises(ValueError, match="exactly once"):
        DeviceRules(topic_prefix="devices/dev-{id}")
    with pytest.raises(ValueError, match="must contain"):
        DeviceRules(client_id="fixed")
