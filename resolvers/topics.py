"""A device's own topics (API.md §6): its namespace, in MQTT's spelling and RabbitMQ's.

A device publishes and subscribes only inside its namespace: the topic that
``GATEHOUSE_DEVICE_TOPIC_PREFIX`` (default ``devices/{id}``) names for it and
every topic below. Wildcards may appear only below the device's own level, so
no filter a device may use can match a topic of another device. The prefix is
checked once (:func:`prefix_problem`): ``{id}`` must be one whole level and the
other levels plain words, so that two devices' namespaces always differ at the
id level and neither lies inside the other (ids never hold ``/``).

RabbitMQ's MQTT plugin turns an MQTT topic into a routing key by writing ``/``
as ``.`` and ``+`` as ``*`` (``#`` stays), and reads ``*`` and ``#`` in keys as
wildcards. A device whose id holds ``.``, ``*``, ``+`` or ``#`` therefore has no
namespace there: its id would be several words or a wildcard.

Pure: no I/O; tested with generated topics in ``tests/resolvers/test_topics.py``.
"""

from __future__ import annotations

#: The placeholder for the device id in the prefix and client id settings.
ID = "{id}"
#: What may not appear in an MQTT namespace: wildcards, the level separator, NUL.
_NOT_IN_MQTT_ID = frozenset("+#/\0")
#: What may not appear in a RabbitMQ namespace: also the word separator and ``*``.
_NOT_IN_AMQP_ID = _NOT_IN_MQTT_ID | frozenset(".*")


def prefix_problem(template: str) -> str | None:
    """Why ``template`` cannot be the device topic prefix, or ``None`` when it can."""
    levels = template.split("/")
    if levels.count(ID) != 1:
        return f"must contain {ID} exactly once, as a whole topic level (like devices/{ID})"
    if template.startswith("$"):
        return "must not start with '$' (brokers reserve those topics)"
    for level in levels:
        if level == ID:
            continue
        if not level:
            return "must not have an empty topic level"
        for char in "+#*{}\0":
            if char in level:
                return f"must not contain {char!r} outside {ID}"
    return None


def client_id_problem(template: str) -> str | None:
    """Why ``template`` cannot be the MQTT client id rule, or ``None`` when it can."""
    if ID not in template:
        return f"must contain {ID} (the device id), like {ID} or device-{ID}"
    if "\0" in template:
        return "must not contain NUL"
    return None


def client_id(template: str, device_id: str) -> str:
    """The MQTT client id a device must use."""
    return template.replace(ID, device_id)


# ---------------------------------------------------------------- MQTT


def namespace(template: str, device_id: str) -> str | None:
    """The device's namespace in MQTT's spelling, or ``None`` when it can have none."""
    if not device_id or not _NOT_IN_MQTT_ID.isdisjoint(device_id):
        return None
    return template.replace(ID, device_id)


def _inside(namespace: str, topic: str, separator: str) -> bool:
    return topic == namespace or topic.startswith(namespace + separator)


def topic_allowed(namespace: str | None, topic: str) -> bool:
    """Whether a device may publish to (or receive a message of) the MQTT topic ``topic``."""
    if namespace is None or "\0" in topic or "+" in topic or "#" in topic:
        return False
    return _inside(namespace, topic, "/")


def filter_allowed(namespace: str | None, topic_filter: str) -> bool:
    """Whether a device may subscribe to the MQTT filter ``topic_filter``.

    ``+`` and ``#`` only as whole levels below the device's own level, ``#`` last.
    """
    if namespace is None or "\0" in topic_filter or not _inside(namespace, topic_filter, "/"):
        return False
    below = topic_filter[len(namespace) + 1 :].split("/") if topic_filter != namespace else []
    for position, level in enumerate(below):
        if level == "#":
            if position != len(below) - 1:
                return False
        elif level != "+" and ("+" in level or "#" in level):
            return False
    return True


# ---------------------------------------------------------------- RabbitMQ


def amqp_spelling(mqtt_topic: str) -> str:
    """An MQTT topic or filter as RabbitMQ's MQTT plugin writes it as a routing key."""
    return mqtt_topic.replace("/", ".").replace("+", "*")


def amqp_namespace(template: str, device_id: str) -> str | None:
    """The device's namespace as a RabbitMQ routing key, or ``None`` when it can have none."""
    if not device_id or not _NOT_IN_AMQP_ID.isdisjoint(device_id):
        return None
    return amqp_spelling(template.replace(ID, device_id))


def routing_key_allowed(namespace: str | None, routing_key: str) -> bool:
    """Whether a device may publish with, or bind with, ``routing_key`` (RabbitMQ's spelling).

    Every word of the namespace is a plain word, so a key that starts with it
    (a publish's key, or a binding key with ``*`` and ``#`` below it) reaches
    nothing outside the namespace.
    """
    if namespace is None or "\0" in routing_key:
        return False
    return _inside(namespace, routing_key, ".")
