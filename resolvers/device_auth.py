"""What a device's credentials open, decided without I/O (API.md §6).

The brokers' and gateways' callbacks (``graph/callbacks/``) ask two kinds of
question: are these credentials valid (a login), and may this device touch
this topic, queue or vhost (an authorization). The answers are here, as pure
functions of the device's credential state (read and cached by
``resolvers/device_logins.py``) and of :class:`DeviceRules`, built once from the
settings. Tested without a database (``tests/resolvers/test_device_auth.py``).

- **Valid credentials**: ``device_<id>`` or ``<tenant>/device_<id>`` (the
  registration's own tenant), the password delivered for ``<id>``, while the
  registration is ACCEPTED with its credentials delivered and not reset. The
  password is a random 192-bit secret stored as its SHA-256 digest, so the check
  is one digest and a constant-time comparison.
- **The client id**, wherever the broker passes one, is the device's
  (``GATEHOUSE_MQTT_CLIENT_ID``), so no device can take over another's session.
- **Topics** only inside the device's namespace (``resolvers/topics.py``).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime

from resolvers import topics

USERNAME_PREFIX = "device_"
#: Longer passwords are refused without hashing (a delivered one has 32 characters).
PASSWORD_MAX_LENGTH = 1024


@dataclass(frozen=True)
class DeviceUsername:
    """A device login's username: its device id, and the tenant when it names one."""

    device_id: str
    tenant_id: str | None


def parse_username(username: str) -> DeviceUsername | None:
    """``device_<id>`` or ``<tenant>/device_<id>``; ``None`` for anything else (a user's login).

    Device ids never hold ``/``, so the first ``/`` ends the tenant.
    """
    tenant_id, slash, name = username.partition("/")
    if not slash:
        tenant_id, name = "", username
    elif not tenant_id:
        return None
    if not name.startswith(USERNAME_PREFIX) or len(name) == len(USERNAME_PREFIX):
        return None
    return DeviceUsername(name[len(USERNAME_PREFIX) :], tenant_id or None)


@dataclass(frozen=True)
class CredentialState:
    """A registration whose device has valid credentials now (ACCEPTED, delivered, not reset)."""

    device_id: str
    tenant_id: str
    password_digest: str = field(repr=False)
    last_authenticated_at: datetime | None = None


@dataclass(frozen=True)
class DeviceLogin:
    """The device a callback's username names, with valid credentials."""

    device_id: str
    tenant_id: str

    @property
    def username(self) -> str:
        return USERNAME_PREFIX + self.device_id


class Refusal(enum.Enum):
    """Why a callback is answered "deny" (shown in logs and go-auth's ``error``; no secret)."""

    NOT_A_DEVICE = "not a device's username"
    BAD_CREDENTIALS = "wrong username or password, or no valid credentials for the device"
    CLIENT_ID = "the client id is not the device's"
    VHOST = "not the devices' vhost"
    RESOURCE = "not a resource of the device"
    OUTSIDE_NAMESPACE = "outside the device's namespace"
    SUPERUSER = "devices are never superusers"


@dataclass(frozen=True)
class Verdict:
    """A callback's answer: the device when allowed, the reason when not."""

    device: DeviceLogin | None
    refusal: Refusal | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None and self.device is not None

    @classmethod
    def deny(cls, refusal: Refusal, device: DeviceLogin | None = None) -> Verdict:
        return cls(device, refusal)


def password_matches(state: CredentialState, password: str) -> bool:
    """SHA-256 of ``password`` against the stored digest, in constant time."""
    if len(password) > PASSWORD_MAX_LENGTH:
        return False
    digest = hashlib.sha256(password.encode("utf-8", "surrogatepass")).hexdigest()
    return hmac.compare_digest(digest, state.password_digest)


def standing(name: DeviceUsername, state: CredentialState | None) -> Verdict:
    """The device a username names, if its credentials are valid now (no password checked)."""
    if state is None or (name.tenant_id is not None and name.tenant_id != state.tenant_id):
        return Verdict.deny(Refusal.BAD_CREDENTIALS)
    return Verdict(DeviceLogin(state.device_id, state.tenant_id))


def login(name: DeviceUsername, state: CredentialState | None, password: str) -> Verdict:
    """Valid credentials: the device's standing and its delivered password."""
    verdict = standing(name, state)
    if not verdict.allowed or state is None or not password_matches(state, password):
        return Verdict.deny(Refusal.BAD_CREDENTIALS)
    return verdict


class Action(enum.Enum):
    """What a device wants to do with an MQTT topic."""

    PUBLISH = "publish"
    SUBSCRIBE = "subscribe"
    #: Receive a message published to a topic (Mosquitto asks this at delivery).
    RECEIVE = "receive"


#: mosquitto-go-auth's ``acc`` values (Mosquitto's MOSQ_ACL_* bits) and what each asks for.
MOSQUITTO_ACCESS: dict[int, tuple[Action, ...]] = {
    1: (Action.RECEIVE,),
    2: (Action.PUBLISH,),
    3: (Action.RECEIVE, Action.PUBLISH),
    4: (Action.SUBSCRIBE,),
}


@dataclass(frozen=True)
class DeviceRules:
    """The settings that shape what a device may touch (``GATEHOUSE_DEVICE_TOPIC_PREFIX``,
    ``GATEHOUSE_MQTT_CLIENT_ID``, ``GATEHOUSE_RABBITMQ_VHOST``, ``GATEHOUSE_RABBITMQ_EXCHANGE``)."""

    topic_prefix: str = "devices/{id}"
    client_id: str = "{id}"
    #: RabbitMQ's vhost and topic exchange for devices.
    vhost: str = "/"
    exchange: str = "amq.topic"

    def __post_init__(self) -> None:
        for problem in (
            topics.prefix_problem(self.topic_prefix),
            topics.client_id_problem(self.client_id),
        ):
            if problem is not None:
                raise ValueError(problem)

    def client_id_of(self, device: DeviceLogin) -> str:
        return topics.client_id(self.client_id, device.device_id)

    def namespace(self, device: DeviceLogin) -> str | None:
        return topics.namespace(self.topic_prefix, device.device_id)

    def with_client_id(self, verdict: Verdict, client_id: str | None) -> Verdict:
        """``verdict``, refused when the broker passed a client id that is not the device's."""
        device = verdict.device
        if not verdict.allowed or client_id is None or device is None:
            return verdict
        if client_id != self.client_id_of(device):
            return Verdict.deny(Refusal.CLIENT_ID, device)
        return verdict

    def mqtt(self, verdict: Verdict, actions: tuple[Action, ...], topic: str) -> Verdict:
        """May the device do each of ``actions`` with the MQTT topic (or filter) ``topic``?"""
        device = verdict.device
        if not verdict.allowed or device is None:
            return verdict
        space = self.namespace(device)
        for action in actions:
            check = topics.filter_allowed if action is Action.SUBSCRIBE else topics.topic_allowed
            if not check(space, topic):
                return Verdict.deny(Refusal.OUTSIDE_NAMESPACE, device)
        return verdict

    # RabbitMQ (rabbitmq_auth_backend_http, API.md §6.1)

    def rabbitmq_vhost(self, verdict: Verdict, vhost: str) -> Verdict:
        if verdict.allowed and vhost != self.vhost:
            return Verdict.deny(Refusal.VHOST, verdict.device)
        return verdict

    def rabbitmq_queues(self, device: DeviceLogin) -> frozenset[str]:
        """The device's own MQTT subscription queues."""
        own = self.client_id_of(device)
        return frozenset(f"mqtt-subscription-{own}qos{qos}" for qos in (0, 1))

    def rabbitmq_resource(
        self, verdict: Verdict, vhost: str, resource: str, name: str, permission: str
    ) -> Verdict:
        """The devices' exchange to read or write, or the device's own queues."""
        verdict = self.rabbitmq_vhost(verdict, vhost)
        device = verdict.device
        if not verdict.allowed or device is None:
            return verdict
        if resource == "exchange":
            if name == self.exchange and permission in ("read", "write"):
                return verdict
        elif resource == "queue" and name in self.rabbitmq_queues(device):
            return verdict
        return Verdict.deny(Refusal.RESOURCE, device)

    def rabbitmq_topic(
        self, verdict: Verdict, vhost: str, exchange: str, routing_key: str
    ) -> Verdict:
        """A publish's routing key, or a subscription's binding key, inside the namespace."""
        verdict = self.rabbitmq_vhost(verdict, vhost)
        device = verdict.device
        if not verdict.allowed or device is None:
            return verdict
        if exchange != self.exchange:
            return Verdict.deny(Refusal.RESOURCE, device)
        space = topics.amqp_namespace(self.topic_prefix, device.device_id)
        if not topics.routing_key_allowed(space, routing_key):
            return Verdict.deny(Refusal.OUTSIDE_NAMESPACE, device)
        return verdict
