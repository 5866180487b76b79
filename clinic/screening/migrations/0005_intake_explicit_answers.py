"""Explicit answers on the intake (issue 11): an unanswered question is unknown, never "no".

The old form had a bare checkbox per condition, so an unticked box could mean "no" or "not
asked". What a clinic knows for certain is kept and nothing is guessed:
- a ticked condition becomes a "yes" answer; an unticked one becomes *unanswered*, never "no";
- an intake with medication rows answered "takes medicines now?" yes; one without rows is
  unanswered (none listed may mean none taken or never asked); the same for antidepressant
  trials.
The revision is not bumped: the answers are the same, only how they are stored changes. Signed
decisions are not touched; their review page re-checks the intake behind them.
"""

from django.db import migrations, models


def forwards(apps, schema_editor):
    Intake = apps.get_model("screening", "Intake")
    changed = []
    for intake in Intake.objects.all().iterator():
        intake.condition_answers = {code: True for code in intake.conditions or []}
        intake.takes_medications = True if intake.medications.exists() else None
        intake.tried_antidepressants = True if intake.trials.exists() else None
        changed.append(intake)
    # bulk_update leaves updated_at alone: the record's content did not change.
    Intake.objects.bulk_update(
        changed,
        ["condition_answers", "takes_medications", "tried_antidepressants"],
        batch_size=500,
    )


def backwards(apps, schema_editor):
    Intake = apps.get_model("screening", "Intake")
    changed = []
    for intake in Intake.objects.all().iterator():
        answers = intake.condition_answers or {}
        intake.conditions = [code for code, value in answers.items() if value is True]
        changed.append(intake)
    Intake.objects.bulk_update(changed, ["conditions"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0004_rems_patient_id"),
    ]

    operations = [
        migrations.AddField(
            model_name="intake",
            name="condition_answers",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text=(
                    "Condition code → true (yes) or false (no); a condition not here is "
                    "unanswered."
                ),
            ),
        ),
        migrations.AddField(
            model_name="intake",
            name="takes_medications",
            field=models.BooleanField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="intake",
            name="tried_antidepressants",
            field=models.BooleanField(blank=True, null=True),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveField(model_name="intake", name="conditions"),
    ]
