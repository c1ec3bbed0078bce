from tortoise import migrations
from tortoise.migrations import operations as ops
from models.events import RegistrationEventKind
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_webhooks')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='RegistrationEvent',
            name='kind',
            field=fields.CharEnumField(description='REGISTERED: REGISTERED\nCONNECTED: CONNECTED\nACCEPTED: ACCEPTED\nTOKEN_REJECTED: TOKEN_REJECTED\nBLOCKED: BLOCKED\nCREDENTIALS_DELIVERED: CREDENTIALS_DELIVERED\nREMOVED: REMOVED\nCREDENTIALS_RESET: CREDENTIALS_RESET\nCREDENTIALS_REQUESTED_AGAIN: CREDENTIALS_REQUESTED_AGAIN', enum_type=RegistrationEventKind, max_length=32),
        ),
    ]
