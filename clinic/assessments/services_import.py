"""Totals brought from a previous system (issue 16, "arriving data"): a PHQ-9 or GAD-7 total
with the day it was taken, without its item answers. Kept as an AssessmentResponse of source
`imported` with no answers, so the chart's progress, the due list and the outcomes read it as
the baseline it was; it raises no suicidality alert (there are no items to read, and it is
history), and the import's report says how many totals arrived."""

from __future__ import annotations

import datetime

from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.assessments.choices import ResponseSource
from clinic.assessments.instruments import get_instrument
from clinic.assessments.models import AssessmentResponse
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import InvalidInput
from clinic.core.parsing import event_moment
from clinic.patients.models import Patient

# The instruments whose totals may arrive (fhir-loinc.md §1.1 gives their total codes).
IMPORTABLE_TOTALS = ("phq9", "gad7")


def imported_total_record(
    *,
    actor: User,
    patient: Patient,
    instrument_code: str,
    total: object,
    taken_at: datetime.datetime,
) -> AssessmentResponse:
    require(actor, Capability.RECORDS_IMPORT)
    if instrument_code not in IMPORTABLE_TOTALS:
        raise InvalidInput({"instrument": [f"Only {', '.join(IMPORTABLE_TOTALS)} totals."]})
    instrument = get_instrument(instrument_code)
    low, high = instrument.total_range or (0, 0)
    if isinstance(total, bool) or not isinstance(total, int) or not low <= total <= high:
        raise InvalidInput(
            {"total": [f"A {instrument.name} total is a whole number from {low} to {high}."]}
        )
    taken_at = event_moment(
        "taken_at",
        taken_at,
        now=timezone.now(),
        born_on=patient.date_of_birth,
        future_message="A questionnaire cannot be dated in the future.",
    )
    band = next((b for b in instrument.bands if b.low <= total <= b.high), None)
    response = AssessmentResponse.objects.create(
        patient=patient,
        instrument_code=instrument.code,
        instrument_version=instrument.version,
        answers=[],
        complete=True,
        total=total,
        severity=band.slug if band else "",
        taken_at=taken_at,
        source=ResponseSource.IMPORTED,
        recorded_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="assessment_response",
        object_id=response.uuid,
        patient=patient,
        summary=f"Imported {instrument.name} total {total} of {taken_at:%Y-%m-%d}",
    )
    return response
