"""The outbox of broker-side revocations (API.md §10.2, §10.3): written with the change."""

from __future__ import annotations

import enum

from tortoise import fields
from tortoise.models import Model


class BrokerTarget(enum.Enum):
    """Which broker a queued revocation is for."""

    #: Delete the device's client and role from Mosquitto's dynamic security.
    MOSQUITTO = "mosquitto"
    #: Close the device's open connections through RabbitMQ's management API.
    RABBITMQ = "rabbitmq"


class BrokerTask(Model):
    """One revocation a broker has not confirmed yet, deleted once it has.

    Written in the same transaction as the ``resetCredentials`` or
    ``removeRegistration`` that calls for it, so a committed change always has
    its row and a rolled-back one never does. ``tenant_id`` is a plain copy, not
    a foreign key: a revocation must outlive whatever happens to the tenant.
    ``lease_owner`` and ``lease_until`` name the one process delivering it now.
    """

    id = fields.BigIntField(primary_key=True)
    target = fields.CharEnumField(BrokerTarget, max_length=16)
    tenant_id = fields.CharField(max_length=32)
    device_id = fields.CharField(max_length=255)
    #: What queued it: ``reset`` or ``remove``.
    reason = fields.CharField(max_length=16)
    queued_at = fields.DatetimeField()
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    last_error = fields.CharField(max_length=1000, null=True)
    lease_owner = fields.CharField(max_length=96, null=True)
    lease_until = fields.DatetimeField(null=True)

    class Meta:
        table = "broker_outbox"
        indexes = (("target", "next_attempt_at"), ("device_id", "target"))
