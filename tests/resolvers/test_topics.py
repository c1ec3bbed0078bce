"""A device's namespace (``resolvers/topics.py``): no topic or filter reaches another device's.

Pure rules, no database. The properties are checked on generated device ids,
topics and filters (hypothesis), with small alphabets full of the characters
that matter (``/ + # . * $``) so that near misses are common, against reference
matchers for MQTT filters and RabbitMQ binding keys written here.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from resolvers import topics
from resolvers.validation import device_id_problem

TEMPLATES = ["devices/{id}", "devices/{id}", "{id}", "site/7/{id}/data", "a.b/{id}"]
#: Characters a device id may hold that a topic rule must get right, plus plain ones.
ID_ALPHABET = "ab1-_$.+*é"
LEVEL_ALPHABET = "ab1.$*+#é"

device_ids = st.text(ID_ALPHABET, min_size=1, max_size=5).filter(
    lambda i: device_id_problem(i) is None
)
levels = st.one_of(
    st.sampled_from(["+", "#", "", "devices", "site", "7", "data", "a.b"]),
    st.text(LEVEL_ALPHABET, max_size=4),
)
templates = st.sampled_from(TEMPLATES)


@st.composite
def two_devices(draw: st.DrawFn) -> tuple[str, str]:
    """Two different ids; often one built from the other, the near misses that matter."""
    mine = draw(device_ids)
    related = st.builds(
        lambda sep, extra, first: f"{mine}{sep}{extra}" if first else f"{extra}{sep}{mine}",
        st.sampled_from([".", "*", "+", "", "$"]),
        st.text(ID_ALPHABET, max_size=2),
        st.booleans(),
    ).filter(lambda i: device_id_problem(i) is None)
    other = draw(related | st.sampled_from(["*", "+", "#x", "."]) | device_ids)
    assume(other != mine and device_id_problem(other) is None)
    pair = (mine, other)
    return pair if draw(st.booleans()) else (other, mine)


EXAMPLES = settings(max_examples=300, deadline=None)


def mqtt_matches(topic_filter: str, topic: str) -> bool:
    """MQTT 3.1.1 §4.7 (``$`` topics treated like any other: stricter for the property)."""
    wanted, levels_ = topic_filter.split("/"), topic.split("/")
    for position, level in enumerate(wanted):
        if level == "#":
            return True
        if position >= len(levels_):
            return False
        if level != "+" and level != levels_[position]:
            return False
    return len(wanted) == len(levels_)


def amqp_matches(binding_key: str, routing_key: str) -> bool:
    """RabbitMQ topic exchange: ``*`` one word, ``#`` zero or more words."""

    def match(pattern: list[str], words: list[str]) -> bool:
        if not pattern:
            return not words
        head, rest = pattern[0], pattern[1:]
        if head == "#":
            return any(match(rest, words[n:]) for n in range(len(words) + 1))
        if not words:
            return False
        return (head == "*" or head == words[0]) and match(rest, words[1:])

    return match(binding_key.split("."), routing_key.split("."))


@st.composite
def near(draw: st.DrawFn, template: str, device_id: str) -> str:
    """A topic or filter: mostly inside the device's namespace, often just beside it,
    with many wildcards, the shapes where a leak would show."""
    own = template.replace("{id}", device_id)
    start = draw(
        st.sampled_from(
            [own, own, own, template.replace("{id}", "+"), template.replace("{id}", "#"), ""]
        )
        | st.builds(lambda t: t.split("/")[0], st.just(template))
    )
    suffix = draw(st.lists(st.sampled_from(["+", "#"]) | levels, max_size=3))
    return "/".join([start, *suffix]) if start or suffix else "#"


def instances(topic_filter: str, filler: str) -> str:
    """A topic the filter matches: each ``+`` one level, ``#`` one or more levels."""
    out = []
    for level in topic_filter.split("/"):
        out.append(filler if level in ("+", "#") else level)
    return "/".join(out)


@EXAMPLES
@given(st.data(), templates, two_devices())
def test_no_filter_a_device_may_use_matches_a_topic_of_another_device(
    data: st.DataObject, template: str, devices: tuple[str, str]
) -> None:
    mine, other = devices
    own, theirs = topics.namespace(template, mine), topics.namespace(template, other)
    topic_filter = data.draw(near(template, mine) | near(template, other))
    their_topic = data.draw(near(template, other))
    if not topics.filter_allowed(own, topic_filter):
        return
    assert own is not None
    if topics.topic_allowed(theirs, their_topic):
        assert not mqtt_matches(topic_filter, their_topic)
    filler = data.draw(st.sampled_from([other, "x", "+"]))
    instance = instances(topic_filter, filler)
    assert instance == own or instance.startswith(own + "/")


@EXAMPLES
@given(st.data(), templates, two_devices())
def test_no_topic_a_device_may_publish_reaches_a_filter_of_another_device(
    data: st.DataObject, template: str, devices: tuple[str, str]
) -> None:
    mine, other = devices
    own, theirs = topics.namespace(template, mine), topics.namespace(template, other)
    topic = data.draw(near(template, mine) | near(template, other))
    their_filter = data.draw(near(template, other))
    if not topics.topic_allowed(own, topic):
        return
    assert "+" not in topic and "#" not in topic
    if topics.filter_allowed(theirs, their_filter):
        assert not mqtt_matches(their_filter, topic)


@EXAMPLES
@given(st.data(), templates, two_devices())
def test_on_rabbitmq_no_key_a_device_may_use_meets_a_key_of_another_device(
    data: st.DataObject, template: str, devices: tuple[str, str]
) -> None:
    mine, other = devices
    own = topics.amqp_namespace(template, mine)
    theirs = topics.amqp_namespace(template, other)
    my_key = topics.amqp_spelling(data.draw(near(template, mine) | near(template, other)))
    their_key = topics.amqp_spelling(data.draw(near(template, other)))
    if not (
        topics.routing_key_allowed(own, my_key) and topics.routing_key_allowed(theirs, their_key)
    ):
        return
    # Neither binds to what the other publishes.
    assert not amqp_matches(my_key, their_key)
    assert not amqp_matches(their_key, my_key)


@EXAMPLES
@given(st.data(), templates, device_ids)
def test_what_mqtt_allows_rabbitmq_allows_in_its_own_spelling(
    data: st.DataObject, template: str, device_id: str
) -> None:
    assume(topics.amqp_namespace(template, device_id) is not None)
    topic = data.draw(near(template, device_id))
    assume("." not in topic and "*" not in topic)
    space = topics.namespace(template, device_id)
    spelled = topics.amqp_spelling(topic)
    if topics.filter_allowed(space, topic):
        assert topics.routing_key_allowed(topics.amqp_namespace(template, device_id), spelled)


@pytest.mark.parametrize(
    ("topic_filter", "allowed"),
    [
        ("devices/SN-1", True),
        ("devices/SN-1/state", True),
        ("devices/SN-1/#", True),
        ("devices/SN-1/+/state", True),
        ("devices/SN-1/+", True),
        ("devices/SN-1/a/b/c", True),
        ("devices/+/state", False),
        ("devices/#", False),
        ("#", False),
        ("+/SN-1/state", False),
        ("devices/SN-2/state", False),
        ("devices/SN-1/#/state", False),
        ("devices/SN-1/st#", False),
        ("devices/SN-1/st+", False),
        ("devices/SN-10", False),
        ("devices/SN-1x/state", False),
        ("$share/g/devices/SN-1/state", False),
        ("", False),
    ],
)
def test_filters_in_and_out_of_the_default_namespace(topic_filter: str, allowed: bool) -> None:
    space = topics.namespace("devices/{id}", "SN-1")
    assert topics.filter_allowed(space, topic_filter) is allowed


@pytest.mark.parametrize(
    ("topic", "allowed"),
    [
        ("devices/SN-1", True),
        ("devices/SN-1/state", True),
        ("devices/SN-1/", True),
        ("devices/SN-1/#", False),
        ("devices/SN-1/+", False),
        ("devices/SN-2/state", False),
        ("devices/SN-1\0/x", False),
    ],
)
def test_topics_to_publish_hold_no_wildcard(topic: str, allowed: bool) -> None:
    assert topics.topic_allowed(topics.namespace("devices/{id}", "SN-1"), topic) is allowed


@pytest.mark.parametrize(
    ("routing_key", "allowed"),
    [
        ("devices.SN-1", True),
        ("devices.SN-1.state", True),
        ("devices.SN-1.#", True),
        ("devices.SN-1.*.state", True),
        ("devices.*.state", False),
        ("devices.#", False),
        ("#", False),
        ("*.SN-1.state", False),
        ("devices.SN-2.state", False),
        ("devices.SN-10", False),
    ],
)
def test_routing_keys_in_and_out_of_the_default_namespace(routing_key: str, allowed: bool) -> None:
    space = topics.amqp_namespace("devices/{id}", "SN-1")
    assert topics.routing_key_allowed(space, routing_key) is allowed


@pytest.mark.parametrize("device_id", ["a+b", "+"])
def test_an_id_holding_a_plus_has_no_topic_at_all(device_id: str) -> None:
    assert topics.namespace("devices/{id}", device_id) is None
    assert topics.amqp_namespace("devices/{id}", device_id) is None
    assert not topics.topic_allowed(None, f"devices/{device_id}")
    assert not topics.filter_allowed(None, f"devices/{device_id}/#")


@pytest.mark.parametrize("device_id", ["a.b", "a*b", "*", "SN.1"])
def test_on_rabbitmq_an_id_holding_a_dot_or_star_has_no_topic(device_id: str) -> None:
    assert topics.amqp_namespace("devices/{id}", device_id) is None
    assert topics.namespace("devices/{id}", device_id) is not None  # fine on MQTT brokers


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("devices/{id}", None),
        ("{id}", None),
        ("tenants/acme/devices/{id}/up", None),
        ("devices", "exactly once"),
        ("devices/{id}/{id}", "exactly once"),
        ("devices/dev-{id}", "exactly once"),
        ("devices/+/{id}", "'+'"),
        ("devices/#/{id}", "'#'"),
        ("devices/*/{id}", "'*'"),
        ("devices//{id}", "empty"),
        ("$SYS/{id}", "'$'"),
    ],
)
def test_the_prefix_setting_keeps_the_id_a_whole_level_among_plain_ones(
    template: str, problem: str | None
) -> None:
    found = topics.prefix_problem(template)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_the_client_id_rule_names_the_device() -> None:
    assert topics.client_id("{id}", "SN-1") == "SN-1"
    assert topics.client_id("dev-{id}", "SN-1") == "dev-SN-1"
    assert topics.client_id_problem("static") is not None
    assert topics.client_id_problem("dev-{id}") is None
