from tortoise import migrations
from tortoise.migrations import operations as ops
from models.events import RegistrationEventKind
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_drop_tenant_is_management')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Registration',
            name='connected_from',
            field=fields.CharField(null=True, description='The client address of the first contact (API.md §9.6), shown before acceptance.', max_length=100),
        ),
        ops.AddField(
            model_name='Registration',
            name='credentials_requested_again_at',
            field=fields.DatetimeField(null=True, description='When a poll after delivery last wrote CREDENTIALS_REQUESTED_AGAIN (once an hour at most).', auto_now=False, auto_now_add=False),
        ),
        ops.AlterField(
            model_name='RegistrationEvent',
            name='kind',
            field=fields.CharEnumField(description='REGISTERED: REGISTERED\nCONNECTED: CONNECTED\nACCEPTED: ACCEPTED\nTOKEN_REJECTED: TOKEN_REJECTED\nBLOCKED: BLOCKED\nCREDENTIALS_DELIVERED: CREDENTIALS_DELIVERED\nREMOVED: REMOVED\nCREDENTIALS_REQUESTED_AGAIN: CREDENTIALS_REQUESTED_AGAIN', enum_type=RegistrationEventKind, max_length=32),
        ),
    ]
