"""A patient's whole record, read once for it to leave the clinic (issue 16, "the patient's own
record"): by the patient from the portal, or by the care team for a records request.

One actor check and one audit event (an export naming what left) cover the whole read, rather
than a list event per kind of record: the question an auditor asks is "who took this patient's
record, and when". The reads are in bulk, one query per kind of record, so the cost does not
grow with the number of rows read per row. Records marked entered in error are left out, as the
FHIR searches leave them out.

The facts read here are what both formats print: the FHIR resources (record_formats.py) and
the readable PDF (record_pdf.py), so the two always agree.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from clinic.accounts.models import User
from clinic.assessments.models import AssessmentResponse
from clinic.billing.models import Diagnosis
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.fhir.record_formats import JournalFacts, WholeRecord
from clinic.fhir.records import (
    appointment_facts,
    body_measurement_facts,
    careplan_facts,
    condition_facts,
    dose_facts,
    encounter_facts,
    medication_order_facts,
    patient_facts,
    practitioner_facts,
    scored_response_facts,
    vitals_facts,
)
from clinic.journal.models import JournalEntry
from clinic.patients.models import BodyMeasurement, Patient
from clinic.patients.selectors import can_view_clinical
from clinic.protocols.models import TreatmentPlan
from clinic.scheduling.models import Appointment
from clinic.treatment_sessions.models import TreatmentSession, VitalsEntry
from clinic.treatment_sessions.selectors import sessions_of_scores
from clinic.treatment_sessions.selectors_doses import all_doses


def may_take_record(*, actor: User, patient: Patient) -> bool:
    """The patient themself (their portal sign-in), or a clinician who may see their clinical
    record (the care team, the clinic administrator)."""
    if actor.is_patient_principal:
        return patient.user_id == actor.pk
    return can_view_clinical(actor=actor, patient=patient)


def whole_record(*, actor: User, patient: Patient, purpose: str) -> WholeRecord:
    """Everything the clinic holds of the patient's care, oldest first, for one export.
    Refused (PermissionDenied, audited) for anyone else."""
    if not may_take_record(actor=actor, patient=patient):
        audit_record(
            actor=actor,
            action=AuditAction.DENIED,
            object_type="patient_record",
            patient=patient,
            summary=f"The whole record ({purpose})",
        )
        raise PermissionDenied("A patient's whole record is for them and their care team.")
    key = str(patient.uuid)
    record = WholeRecord(patient=patient_facts(patient))
    sessions = list(
        TreatmentSession.objects.filter(patient=patient)
        .select_related("assigned_nurse")
        .order_by("checked_in_at", "id")
    )
    record.sessions = [encounter_facts(s, key) for s in sessions]
    appointments = list(
        Appointment.objects.filter(patient=patient).select_related("nurse").order_by("starts_at")
    )
    record.appointments = [appointment_facts(a, key) for a in appointments]
    responses = list(
        AssessmentResponse.objects.filter(
            patient=patient, entered_in_error_at__isnull=True
        ).order_by("taken_at", "id")
    )
    rated_in = sessions_of_scores(responses=responses)  # in-session scales: their session
    for response in responses:
        response.patient = patient
        record.responses.append(scored_response_facts(response, str(rated_in.get(response.pk, ""))))
    readings = (
        VitalsEntry.objects.filter(session__patient=patient, entered_in_error_at__isnull=True)
        .select_related("session")
        .order_by("taken_at", "id")
    )
    record.vitals = [vitals_facts(reading, key) for reading in readings]
    measurements = BodyMeasurement.objects.valid().filter(patient=patient).order_by("measured_on")
    record.body = [body_measurement_facts(m, key) for m in measurements]
    record.doses = [dose_facts(dose) for dose in all_doses(patient)]
    plans = list(
        TreatmentPlan.objects.filter(patient=patient)
        .select_related("template", "prescribed_by")
        .order_by("start_date", "id")
    )
    record.plans = [(careplan_facts(p, key), medication_order_facts(p, key)) for p in plans]
    problems = Diagnosis.objects.filter(patient=patient, entered_in_error_at__isnull=True)
    record.problems = [condition_facts(d, key) for d in problems.order_by("created_at", "id")]
    staff: dict[int, User] = {}
    for session in sessions:
        if session.assigned_nurse is not None:
            staff[session.assigned_nurse.pk] = session.assigned_nurse
    for appointment in appointments:
        staff[appointment.nurse.pk] = appointment.nurse
    for plan in plans:
        staff[plan.prescribed_by.pk] = plan.prescribed_by
    performers = {dose.performer_uuid for dose in record.doses if dose.performer_uuid}
    known = {str(user.uuid) for user in staff.values()}
    for user in User.objects.filter(uuid__in=performers - known):
        staff[user.pk] = user
    record.practitioners = [practitioner_facts(user) for user in staff.values()]
    record.journal = [
        JournalFacts(
            written_at=entry.created_at,
            mood_before=entry.mood_before,
            mood_after=entry.mood_after,
            reflections=entry.reflections,
            insights=entry.insights,
        )
        for entry in JournalEntry.objects.shared().filter(patient=patient).order_by("created_at")
    ]
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="patient_record",
        patient=patient,
        summary=(
            f"The whole record ({purpose}): {len(record.sessions)} sessions, "
            f"{len(record.doses)} doses, {len(record.responses)} questionnaires, "
            f"{len(record.vitals)} vital-sign readings"
        )[:300],
    )
    return record
