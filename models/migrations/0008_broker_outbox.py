from tortoise import migrations
from tortoise.migrations import operations as ops
from models.broker_outbox import BrokerTarget
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0007_event_kinds')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BrokerTask',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('target', fields.CharEnumField(description='MOSQUITTO: mosquitto\nRABBITMQ: rabbitmq', enum_type=BrokerTarget, max_length=16)),
                ('tenant_id', fields.CharField(max_length=32)),
                ('device_id', fields.CharField(max_length=255)),
                ('reason', fields.CharField(description='What queued it: ``reset`` or ``remove``.', max_length=16)),
                ('queued_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_error', fields.CharField(null=True, max_length=1000)),
                ('lease_owner', fields.CharField(null=True, max_length=96)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'broker_outbox', 'app': 'models', 'indexes': [Index(fields=['target', 'next_attempt_at']), Index(fields=['device_id', 'target'])], 'pk_attr': 'id', 'table_description': 'One revocation a broker has not confirmed yet, deleted once it has.'},
            bases=['Model'],
        ),
    ]
