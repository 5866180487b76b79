"""The data migration of issue 11 (screening 0005): what a clinic knew is kept, nothing is
guessed. A ticked condition becomes "yes"; an unticked one becomes unanswered, never "no"
(the old checkbox could not tell "no" from "not asked"); medication and trial rows present
answer their question yes, and none leaves it unanswered. Going back restores the ticked list.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("screening", "0004_rems_patient_id")]
AFTER = [("screening", "0005_intake_explicit_answers")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_ticked_boxes_become_yes_and_unticked_ones_unanswered():
    apps = _migrate(BEFORE)
    Patient = apps.get_model("patients", "Patient")
    Intake = apps.get_model("screening", "Intake")
    Medication = apps.get_model("screening", "IntakeMedication")
    Trial = apps.get_model("screening", "AntidepressantTrial")
    patient = Patient.objects.create(
        mrn="00009001",
        legal_given_name="Ada",
        legal_family_name="Quist",
        date_of_birth=datetime.date(1980, 3, 1),
        sex="female",
    )
    with_rows = Intake.objects.create(
        patient=patient, conditions=["psychosis_history", "bladder_symptoms"], revision=3
    )
    Medication.objects.create(intake=with_rows, name="Lorazepam", medication_class="benzodiazepine")
    Trial.objects.create(
        intake=with_rows,
        drug="sertraline",
        adequate=True,
        outcome="no_response",
        current_episode=True,
    )
    bare = Intake.objects.create(patient=patient, conditions=[])
    updated_at = {i.pk: i.updated_at for i in Intake.objects.all()}

    apps = _migrate(AFTER)
    Intake = apps.get_model("screening", "Intake")
    with_rows = Intake.objects.get(pk=with_rows.pk)
    assert with_rows.condition_answers == {"psychosis_history": True, "bladder_symptoms": True}
    assert (with_rows.takes_medications, with_rows.tried_antidepressants) == (True, True)
    assert with_rows.revision == 3  # the same answers: no new revision
    bare = Intake.objects.get(pk=bare.pk)
    assert bare.condition_answers == {}  # unticked: unanswered, never "no"
    assert (bare.takes_medications, bare.tried_antidepressants) == (None, None)
    assert {i.pk: i.updated_at for i in Intake.objects.all()} == updated_at

    apps = _migrate(BEFORE)
    Intake = apps.get_model("screening", "Intake")
    assert sorted(Intake.objects.get(pk=with_rows.pk).conditions) == [
        "bladder_symptoms",
        "psychosis_history",
    ]
    assert Intake.objects.get(pk=bare.pk).conditions == []
    _migrate(AFTER)
