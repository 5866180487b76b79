"""Version 1 of the screening rule set is the default from screening-rules.md (no overrides)."""

from django.db import migrations


def create_version_one(apps, schema_editor):
    RuleSetVersion = apps.get_model("screening", "RuleSetVersion")
    RuleSetVersion.objects.get_or_create(
        version=1, defaults={"policy": {}, "note": "Default rule set (screening-rules.md)"}
    )


class Migration(migrations.Migration):
    dependencies = [("screening", "0002_intake_link")]
    operations = [migrations.RunPython(create_version_one, migrations.RunPython.noop)]
