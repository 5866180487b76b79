"""Every API token expires. Tokens made before expiry existed get API_TOKEN_EXPIRY_DAYS from
now (not from their creation), so an integration is not cut off by the upgrade itself."""

import datetime

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def give_open_tokens_an_expiry(apps, schema_editor):
    ApiToken = apps.get_model("accounts", "ApiToken")
    expires_at = timezone.now() + datetime.timedelta(days=settings.API_TOKEN_EXPIRY_DAYS)
    ApiToken.objects.filter(expires_at__isnull=True).update(expires_at=expires_at)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.RunPython(give_open_tokens_an_expiry, migrations.RunPython.noop),
    ]
