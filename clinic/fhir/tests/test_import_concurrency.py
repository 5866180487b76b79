"""An import and the desk's registration of the same person at the same moment (issue 16):
PostgreSQL only (SQLite begins every transaction IMMEDIATE, so its writers never overlap).

Each runs the duplicate check, then registers. Under READ COMMITTED, two transactions that
check before either commits both find nobody and both register: two records of one person,
neither flagged. The registration lock (patients/duplicates.py) queues every check-then-register
behind any other until it commits, so the second to arrive finds the first's patient. To make
the window certain rather than lucky, each check here waits a moment after reading."""

from __future__ import annotations

import datetime
import threading
import time

import pytest
from django.db import connection

from clinic.fhir import import_run
from clinic.fhir.import_run import import_apply, import_check
from clinic.fhir.models import ImportBatch
from clinic.patients import services as patient_services
from clinic.patients.duplicates import PossibleDuplicatePatient, find_duplicates
from clinic.patients.models import Patient

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

CSV = (
    "external_id,legal_given_name,legal_family_name,date_of_birth,sex,email,phone_mobile,"
    "instrument,total,taken_on,weight_kg,height_cm,measured_on\n"
    "A-1,Robin,Okafor,1979-05-04,female,,,,,,,,\n"
)
AT_THE_DESK = {
    "legal_given_name": "Robin",
    "legal_family_name": "Okafor",
    "date_of_birth": datetime.date(1979, 5, 4),
    "sex": "female",
    "phone_mobile": "(555) 010-4477",
    "emergency_contact_name": "Sam Okafor",
    "emergency_contact_phone": "(555) 010-9988",
}


def _slow_check(**kwargs):
    found = find_duplicates(**kwargs)
    time.sleep(0.5)  # both would have read by now, were they not queued
    return found


def _both_at_once(*works):
    barrier = threading.Barrier(len(works))
    outcomes: list[object] = [None] * len(works)

    def run(index):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = works[index]()
        except Exception as error:  # the outcome, asserted below
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_an_import_and_a_registration_of_one_person_leave_one_record(
    monkeypatch, clinic_admin, front_desk
):
    batch = import_check(actor=clinic_admin, file_name="h.csv", content=CSV.encode())
    assert batch.report["refusals"] == []
    monkeypatch.setattr(import_run, "find_duplicates", _slow_check)
    monkeypatch.setattr(patient_services, "find_duplicates", _slow_check)
    imported, registered = _both_at_once(
        lambda: import_apply(actor=clinic_admin, batch=batch),
        lambda: patient_services.patient_register(actor=front_desk, data=dict(AT_THE_DESK)),
    )
    assert Patient.objects.filter(legal_family_name="Okafor").count() == 1
    batch = ImportBatch.objects.get(pk=batch.pk)
    # Exactly one of them registered Robin; the other was told of the likely duplicate.
    if isinstance(registered, Patient):
        assert batch.status == "refused"
        [refusal] = batch.report["refusals"]
        assert refusal["message"].startswith("Likely the patient already registered as MRN")
    else:
        assert isinstance(registered, PossibleDuplicatePatient), registered
        assert batch.status == "imported"


def test_two_desks_registering_one_person_at_once_leave_one_record(monkeypatch, front_desk):
    """The page, the API and a consultation's conversion all register through
    patient_register, so the same lock covers them."""
    monkeypatch.setattr(patient_services, "find_duplicates", _slow_check)
    outcomes = _both_at_once(
        *[
            lambda: patient_services.patient_register(actor=front_desk, data=dict(AT_THE_DESK))
            for _ in range(2)
        ]
    )
    assert Patient.objects.filter(legal_family_name="Okafor").count() == 1
    assert sorted(type(o).__name__ for o in outcomes) == ["Patient", "PossibleDuplicatePatient"]
