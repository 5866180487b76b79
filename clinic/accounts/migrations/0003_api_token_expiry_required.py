from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_api_tokens_expire")]

    operations = [
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(),
        ),
    ]
