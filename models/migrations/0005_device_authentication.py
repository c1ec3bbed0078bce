from tortoise import migrations
from tortoise.migrations import operations as ops
from models.events import RegistrationEventKind
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_takeover_trace')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Registration',
            name='last_authenticated_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AlterField(
            model_name='RegistrationEvent',
            name='kind',
            field=fields.CharEnumField(description='REGISTERED: REGISTERED\nCONNECTED: CONNECTED\nACCEPTED: ACCEPTED\nTOKEN_REJECTED: TOKEN_REJECTED\nBLOCKED: BLOCKED\nCREDENTIALS_DELIVERED: CREDENTIALS_DELIVERED\nREMOVED: REMOVED\nCREDENTIALS_RESET: CREDENTIALS_RESET', enum_type=RegistrationEventKind, max_length=32),
        ),
    ]
