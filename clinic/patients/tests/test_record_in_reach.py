"""The one "fetch a patient's record by its id, check reach, audit the denial, not found" step
that every selector uses: a record out of reach looks exactly like one that does not exist,
both leave a denial in the audit trail, and a string that is no id at all names no record."""

from __future__ import annotations

import datetime
import uuid

import pytest

from clinic.core.choices import AuditAction
from clinic.core.exceptions import NotFound
from clinic.core.models import AuditEvent
from clinic.patients.models import BodyMeasurement
from clinic.patients.selectors import record_in_reach
from clinic.patients.services import body_measurement_record
from clinic.patients.tests.factories import register

pytestmark = pytest.mark.django_db

MISSING = "No such measurement."


@pytest.fixture
def weight(patient, nurse):
    return body_measurement_record(
        actor=nurse,
        patient=patient,
        measured_on=datetime.date(2026, 11, 30),
        weight_kg="80",
        height_cm="170",
    )


def _fetch(actor, key, **options):
    return record_in_reach(
        actor=actor,
        queryset=BodyMeasurement.objects.select_related("patient"),
        record_uuid=key,
        object_type="body_measurement",
        patient_of=lambda measurement: measurement.patient,
        not_found_message=MISSING,
        **options,
    )


def _denials():
    return AuditEvent.objects.filter(action=AuditAction.DENIED, object_type="body_measurement")


def test_the_care_team_gets_the_record_and_the_read_is_audited(weight, nurse, patient):
    found = _fetch(nurse, weight.uuid, view_summary=lambda m: f"Measured {m.measured_on:%d %b %Y}")

    assert found == weight
    view = AuditEvent.objects.get(action=AuditAction.VIEW, object_type="body_measurement")
    assert (view.patient, view.summary) == (patient, "Measured 30 Nov 2026")
    assert not _denials().exists()


def test_out_of_reach_and_missing_look_the_same_and_both_are_audited(weight, make_staff):
    outsider = make_staff("nurse")

    with pytest.raises(NotFound) as out_of_reach:
        _fetch(outsider, weight.uuid)
    with pytest.raises(NotFound) as missing:
        _fetch(outsider, uuid.uuid4())

    assert out_of_reach.value.message == missing.value.message == MISSING
    assert _denials().count() == 2
    # Without `denial_names_patient`, a denial never says whose record was asked for.
    assert set(_denials().values_list("patient", flat=True)) == {None}


def test_a_reach_test_replaces_the_default_and_can_name_the_patient(weight, nurse, patient):
    with pytest.raises(NotFound):
        _fetch(nurse, weight.uuid, in_reach=lambda m: False, denial_names_patient=True)

    denial = _denials().get()
    assert (denial.patient, denial.object_id) == (patient, str(weight.uuid))


def test_the_patients_own_queryset_needs_no_visibility_check(weight, patient, front_desk):
    """The portal has checked that the actor is the patient: any record of theirs is in
    reach, and a record of another patient is simply not in the queryset."""
    other = register(front_desk, legal_given_name="Alex", date_of_birth=datetime.date(1990, 1, 2))
    own = BodyMeasurement.objects.filter(patient=patient)

    assert (
        record_in_reach(
            actor=front_desk,
            queryset=own,
            record_uuid=weight.uuid,
            object_type="body_measurement",
            patient_of=lambda m: patient,
            patient=patient,
            not_found_message=MISSING,
        )
        == weight
    )
    with pytest.raises(NotFound):
        record_in_reach(
            actor=front_desk,
            queryset=BodyMeasurement.objects.filter(patient=other),
            record_uuid=weight.uuid,
            object_type="body_measurement",
            patient_of=lambda m: other,
            patient=other,
            not_found_message=MISSING,
        )
    assert _denials().get().patient == other


def test_a_string_that_is_no_id_is_not_found_without_an_audit_row(nurse):
    with pytest.raises(NotFound) as error:
        _fetch(nurse, "../../etc/passwd")

    assert error.value.message == MISSING
    assert not _denials().exists()
