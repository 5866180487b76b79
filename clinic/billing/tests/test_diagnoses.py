"""The problem list's services: billable ICD-10-CM codes only (checked against the full code
set), one primary diagnosis, resolve and entered-in-error that keep the entry, who may change
it, and an audit event for each change. Expected codes and words are those of the CMS
ICD-10-CM tabular (docs/clinical/billing.md §3), not the code under test's."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.billing import icd10, services
from clinic.billing.models import Diagnosis
from clinic.core.exceptions import InvalidInput, PermissionDenied
from clinic.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def add(actor, patient, code, **kwargs) -> Diagnosis:
    return services.diagnosis_record(actor=actor, patient=patient, code=code, **kwargs)


def refusal(call) -> dict[str, list[str]]:
    with pytest.raises(InvalidInput) as refused:
        call()
    return refused.value.errors


# --------------------------------------------------------------------------- the code set


@pytest.mark.parametrize(
    ("typed", "code", "words"),
    [
        ("F33.1", "F33.1", "Major depressive disorder, recurrent, moderate"),
        ("f331", "F33.1", "Major depressive disorder, recurrent, moderate"),
        (" F43.12 ", "F43.12", "Post-traumatic stress disorder, chronic"),
        ("F32.A", "F32.A", "Depression, unspecified"),
        ("R45.851", "R45.851", "Suicidal ideations"),
        ("T14.91XA", "T14.91XA", "Suicide attempt, initial encounter"),
        ("Z91.51", "Z91.51", "Personal history of suicidal behavior"),
        ("G89.4", "G89.4", "Chronic pain syndrome"),
    ],
)
def test_billable_codes_are_found_with_their_words(typed, code, words):
    assert icd10.billable_code(typed) == icd10.Icd10Code(code, words)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("F33", "is a heading, not a billable code"),  # header [P24]
        ("F33.4", "is a heading, not a billable code"),
        ("Z91.5", "is a heading, not a billable code"),
        ("F42", "is a heading, not a billable code"),
        ("F42.0", "WHO ICD-10 code that ICD-10-CM does not have"),  # [P25]
        ("F42.1", "WHO ICD-10 code that ICD-10-CM does not have"),
        ("F99.9", "is not in the ICD-10-CM code set"),
        ("depression", "is not shaped like an ICD-10-CM code"),
        ("", "Enter an ICD-10-CM code"),
    ],
)
def test_headers_who_codes_and_unknown_codes_are_refused_with_the_reason(typed, reason):
    with pytest.raises(icd10.CodeError) as refused:
        icd10.billable_code(typed)
    assert reason in refused.value.message


def test_a_header_names_the_billable_codes_under_it():
    with pytest.raises(icd10.CodeError) as refused:
        icd10.billable_code("Z91.5")
    assert refused.value.message.endswith("Choose a more specific code: Z91.51, Z91.52.")


def test_search_by_words_and_by_the_first_characters():
    assert [c.code for c in icd10.search("recurrent moderate depressive")] == ["F33.1"]
    assert [c.code for c in icd10.search("F43.1")] == ["F43.10", "F43.11", "F43.12"]
    assert icd10.search("") == [] and icd10.search("   ") == []
    assert all(c.code != "F33" for c in icd10.search("F33"))  # headers never offered


def test_the_intake_indication_suggests_codes_and_tells_tr_depression_has_none():
    assert [c.code for c in icd10.suggestions("ocd")] == ["F42.2", "F42.8", "F42.9"]
    assert [c.code for c in icd10.suggestions("treatment_resistant_depression")] == [
        "F33.1",
        "F33.2",
        "F32.1",
        "F32.2",
    ]
    assert icd10.suggestions("") == []
    # Every suggestion is itself billable (no header slipped into the table).
    for codes in icd10.SUGGESTED_FOR_INDICATION.values():
        for code in codes:
            icd10.billable_code(code)


# --------------------------------------------------------------------------- recording


def test_a_prescriber_adds_a_diagnosis_and_it_is_audited(patient, prescriber):
    onset = timezone.localdate() - datetime.timedelta(days=400)
    diagnosis = add(prescriber, patient, "f33.2", onset_date=onset, primary=True, note="Since 2024")
    assert (diagnosis.icd10_code, diagnosis.description) == (
        "F33.2",
        "Major depressive disorder, recurrent severe without psychotic features",
    )
    assert diagnosis.code_set == "ICD-10-CM April 2026"
    assert diagnosis.is_primary and diagnosis.status == "active" and diagnosis.onset_date == onset
    event = AuditEvent.objects.get(object_type="diagnosis", action="create")
    assert event.patient == patient and event.actor == prescriber
    assert event.changes["icd10_code"] == {"before": None, "after": "F33.2"}


def test_refusals_name_the_field(patient, prescriber):
    errors = refusal(lambda: add(prescriber, patient, "F42.0"))
    assert "WHO ICD-10 code" in errors["icd10_code"][0]
    future = timezone.localdate() + datetime.timedelta(days=1)
    assert (
        "future"
        in refusal(lambda: add(prescriber, patient, "F41.1", onset_date=future))["onset_date"][0]
    )
    before_birth = patient.date_of_birth - datetime.timedelta(days=1)
    assert refusal(lambda: add(prescriber, patient, "F41.1", onset_date=before_birth))["onset_date"]
    add(prescriber, patient, "F41.1")
    assert refusal(lambda: add(prescriber, patient, "F41.1"))["icd10_code"] == [
        "F41.1 is already on the active problem list."
    ]
    assert Diagnosis.objects.count() == 1


@pytest.mark.parametrize("who", ["nurse", "therapist", "clinic_admin", "billing", "front_desk"])
def test_only_prescribers_change_the_problem_list(patient, actors, who):
    with pytest.raises(PermissionDenied):
        add(actors[who], patient, "F33.1")
    assert not Diagnosis.objects.exists()


def test_a_prescriber_off_the_care_team_is_refused(patient, actors):
    with pytest.raises(PermissionDenied):
        add(actors["prescriber_off_team"], patient, "F33.1")


# --------------------------------------------------------------------------- primary, resolve


def test_one_primary_diagnosis_at_a_time(patient, prescriber):
    first = add(prescriber, patient, "F33.1", primary=True)
    second = add(prescriber, patient, "F41.1", primary=True)
    first.refresh_from_db()
    assert not first.is_primary and second.is_primary
    services.diagnosis_make_primary(actor=prescriber, diagnosis=first)
    second.refresh_from_db()
    first.refresh_from_db()
    assert first.is_primary and not second.is_primary
    assert AuditEvent.objects.filter(
        object_type="diagnosis", summary="F41.1 is no longer the primary diagnosis"
    ).exists()


def test_the_database_refuses_two_primaries(patient, prescriber):
    add(prescriber, patient, "F33.1", primary=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Diagnosis.objects.create(
            patient=patient,
            icd10_code="F41.1",
            description="Generalized anxiety disorder",
            code_set=icd10.CODE_SET,
            is_primary=True,
            recorded_by=prescriber,
        )


def test_resolving_keeps_the_entry_and_ends_its_primacy(patient, prescriber):
    onset = timezone.localdate() - datetime.timedelta(days=90)
    diagnosis = add(prescriber, patient, "F43.10", onset_date=onset, primary=True)
    too_early = onset - datetime.timedelta(days=1)
    assert (
        "before its onset"
        in refusal(
            lambda: services.diagnosis_resolve(
                actor=prescriber, diagnosis=diagnosis, resolved_on=too_early
            )
        )["resolved_on"][0]
    )
    resolved = services.diagnosis_resolve(
        actor=prescriber, diagnosis=diagnosis, resolved_on=timezone.localdate()
    )
    assert resolved.status == "resolved" and not resolved.is_primary
    assert resolved.resolved_by == prescriber
    assert Diagnosis.objects.count() == 1
    # The same code may be added again later (a recurrence); the resolved entry remains.
    add(prescriber, patient, "F43.10")
    assert Diagnosis.objects.filter(icd10_code="F43.10").count() == 2


def test_entered_in_error_strikes_the_entry_with_the_reason(patient, prescriber):
    diagnosis = add(prescriber, patient, "F31.81", primary=True)
    assert refusal(
        lambda: services.diagnosis_mark_entered_in_error(
            actor=prescriber, diagnosis=diagnosis, reason="  "
        )
    )["reason"]
    marked = services.diagnosis_mark_entered_in_error(
        actor=prescriber, diagnosis=diagnosis, reason="Wrong patient's history"
    )
    assert marked.entered_in_error_at is not None and not marked.is_primary
    assert marked.entered_in_error_reason == "Wrong patient's history"
    assert Diagnosis.objects.count() == 1
    with pytest.raises(InvalidInput):
        services.diagnosis_make_primary(actor=prescriber, diagnosis=marked)
