from tortoise import migrations
from tortoise.migrations import operations as ops
from models.events import RegistrationEventKind
from models.registrations import RegistrationStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Registration',
            fields=[
                ('device_id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=255)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='registrations', on_delete=OnDelete.CASCADE)),
                ('group', fields.ForeignKeyField('models.Group', source_field='group_id', null=True, db_constraint=True, to_field='id', related_name='registrations', on_delete=OnDelete.SET_NULL)),
                ('status', fields.CharEnumField(description='WAITING_FOR_CONNECTION: WAITING_FOR_CONNECTION\nPENDING_ACCEPTANCE: PENDING_ACCEPTANCE\nACCEPTED: ACCEPTED\nBLOCKED: BLOCKED', enum_type=RegistrationStatus, max_length=32)),
                ('owner', fields.CharField(max_length=100)),
                ('uses_token', fields.BooleanField(default=False)),
                ('token_hash', fields.CharField(null=True, max_length=255)),
                ('failed_attempts', fields.IntField(default=0)),
                ('blocked_reason', fields.CharField(null=True, max_length=255)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('connected_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('accepted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('accepted_by', fields.CharField(null=True, max_length=100)),
                ('credentials_delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('device_username', fields.CharField(null=True, max_length=300)),
                ('device_password_hash', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'registrations', 'app': 'models', 'indexes': [Index(fields=['tenant_id', 'status', 'device_id']), Index(fields=['tenant_id', 'device_id']), Index(fields=['group_id', 'device_id'])], 'pk_attr': 'device_id', 'table_description': 'A device ID an operator registered, and how far the device got.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RegistrationEvent',
            fields=[
                ('seq', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('device_id', fields.CharField(max_length=255)),
                ('kind', fields.CharEnumField(description='REGISTERED: REGISTERED\nCONNECTED: CONNECTED\nACCEPTED: ACCEPTED\nTOKEN_REJECTED: TOKEN_REJECTED\nBLOCKED: BLOCKED\nCREDENTIALS_DELIVERED: CREDENTIALS_DELIVERED\nREMOVED: REMOVED', enum_type=RegistrationEventKind, max_length=32)),
                ('status', fields.CharEnumField(null=True, description='WAITING_FOR_CONNECTION: WAITING_FOR_CONNECTION\nPENDING_ACCEPTANCE: PENDING_ACCEPTANCE\nACCEPTED: ACCEPTED\nBLOCKED: BLOCKED', enum_type=RegistrationStatus, max_length=32)),
                ('previous_status', fields.CharEnumField(null=True, description='WAITING_FOR_CONNECTION: WAITING_FOR_CONNECTION\nPENDING_ACCEPTANCE: PENDING_ACCEPTANCE\nACCEPTED: ACCEPTED\nBLOCKED: BLOCKED', enum_type=RegistrationStatus, max_length=32)),
                ('actor', fields.CharField(null=True, max_length=300)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'registration_events', 'app': 'models', 'indexes': [Index(fields=['tenant_id', 'seq']), Index(fields=['tenant_id', 'device_id', 'seq'])], 'pk_attr': 'seq', 'table_description': 'One change to one registration. ``seq`` strictly increases in commit order per tenant.'},
            bases=['Model'],
        ),
    ]
