from tortoise import migrations
from tortoise.migrations import operations as ops

class Migration(migrations.Migration):
    dependencies = [('models', '0002_registrations')]

    initial = False

    operations = [
        ops.RemoveField(model_name='Tenant', name='is_management'),
    ]
