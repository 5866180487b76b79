"""KetaCare's records as the plain facts the pure mappers take (clinic/fhir/mappers.py)."""

from __future__ import annotations

import datetime

from django.utils import timezone

from clinic.accounts.choices import CLINICAL_ROLES
from clinic.accounts.models import User
from clinic.assessments.choices import ResponseSource
from clinic.assessments.models import AssessmentResponse
from clinic.billing.models import Diagnosis, DiagnosisStatus
from clinic.core.models import AuditEvent
from clinic.fhir.mappers import (
    AppointmentFacts,
    AuditFacts,
    CarePlanFacts,
    ConditionFacts,
    EncounterFacts,
    PatientFacts,
    PractitionerFacts,
)
from clinic.fhir.medications import DoseFacts, MedicationOrderFacts, plan_dose_words
from clinic.fhir.observations import (
    BodyMeasurementFacts,
    ScoredResponseFacts,
    VitalsFacts,
    vital_sign_observations,
)
from clinic.fhir.provenance import SignatureFacts
from clinic.home_program.models import HomeSessionLog
from clinic.patients.models import BodyMeasurement, Patient
from clinic.protocols.models import TreatmentPlan
from clinic.scheduling.models import Appointment
from clinic.screening.choices import Route
from clinic.treatment_sessions.choices import AdministrationKind, ImSite, InfusionEventKind
from clinic.treatment_sessions.models import (
    DoseAdministration,
    InfusionEvent,
    TreatmentSession,
    VitalsEntry,
)


def patient_facts(patient: Patient) -> PatientFacts:
    return PatientFacts(
        uuid=str(patient.uuid),
        mrn=patient.mrn or "",
        legal_given_name=patient.legal_given_name,
        legal_middle_name=patient.legal_middle_name,
        legal_family_name=patient.legal_family_name,
        preferred_name=patient.preferred_name,
        date_of_birth=patient.date_of_birth,
        sex=patient.sex,  # type: ignore[arg-type]  # Sex holds the AdministrativeGender codes
        phone_mobile=patient.phone_mobile,
        phone_home=patient.phone_home,
        email=patient.email,
        address_line1=patient.address_line1,
        address_line2=patient.address_line2,
        city=patient.city,
        region=patient.region,
        postal_code=patient.postal_code,
        country=patient.country,
        is_active=patient.is_active,
        updated_at=patient.updated_at,
    )


def scored_response_facts(
    response: AssessmentResponse, encounter_uuid: str = ""
) -> ScoredResponseFacts:
    """`encounter_uuid`: the session an in-session scale was rated in (SessionScore)."""
    return ScoredResponseFacts(
        uuid=str(response.uuid),
        patient_uuid=str(response.patient.uuid),
        instrument_code=response.instrument_code,
        answers=tuple(response.answers),
        total=response.total if response.complete else None,
        taken_at=response.taken_at,
        entered_in_error=response.entered_in_error_at is not None,
        severity=response.severity if response.complete else "",
        encounter_uuid=encounter_uuid,
        updated_at=response.updated_at,
        answers_known=response.source != ResponseSource.IMPORTED,
    )


def vitals_facts(reading: VitalsEntry, patient_uuid: str) -> VitalsFacts:
    return VitalsFacts(
        uuid=str(reading.uuid),
        patient_uuid=patient_uuid,
        taken_at=reading.taken_at,
        systolic_mmhg=reading.systolic_mmhg,
        diastolic_mmhg=reading.diastolic_mmhg,
        heart_rate_bpm=reading.heart_rate_bpm,
        respiratory_rate_per_min=reading.respiratory_rate_per_min,
        spo2_percent=reading.spo2_percent,
        temperature_c=reading.temperature_c,
        encounter_uuid=str(reading.session.uuid),
        updated_at=reading.updated_at,
    )


def body_measurement_facts(measurement: BodyMeasurement, patient_uuid: str) -> BodyMeasurementFacts:
    return BodyMeasurementFacts(
        uuid=str(measurement.uuid),
        patient_uuid=patient_uuid,
        measured_on=measurement.measured_on,
        weight_kg=measurement.weight_kg,
        height_cm=measurement.height_cm,
        updated_at=measurement.updated_at,
    )


def encounter_facts(session: TreatmentSession, patient_uuid: str) -> EncounterFacts:
    nurse = session.assigned_nurse
    return EncounterFacts(
        uuid=str(session.uuid),
        patient_uuid=patient_uuid,
        kind=f"{Route(session.route).label} treatment session",
        started_at=session.checked_in_at,
        ended_at=session.discharged_at or session.stopped_at,
        nurse_name=nurse.display_name if nurse is not None else "",
        nurse_uuid=str(nurse.uuid) if nurse is not None else "",
        updated_at=session.updated_at,
    )


def practitioner_facts(user: User) -> PractitionerFacts:
    return PractitionerFacts(
        uuid=str(user.uuid),
        given_name=user.first_name,
        family_name=user.last_name,
        username=user.get_username(),
        credentials=user.credentials,
        npi=user.npi,
        is_active=user.is_active,
    )


def condition_facts(diagnosis: Diagnosis, patient_uuid: str) -> ConditionFacts:
    return ConditionFacts(
        uuid=str(diagnosis.uuid),
        patient_uuid=patient_uuid,
        icd10_code=diagnosis.icd10_code,
        description=diagnosis.description,
        active=diagnosis.status == DiagnosisStatus.ACTIVE,
        recorded_at=diagnosis.created_at,
        onset_date=diagnosis.onset_date,
        resolved_on=diagnosis.resolved_on,
        updated_at=diagnosis.updated_at,
    )


def appointment_facts(appointment: Appointment, patient_uuid: str) -> AppointmentFacts:
    return AppointmentFacts(
        uuid=str(appointment.uuid),
        patient_uuid=patient_uuid,
        status=appointment.status,
        kind=Route(appointment.route).label,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        nurse_uuid=str(appointment.nurse.uuid),
        nurse_name=appointment.nurse.display_name,
        status_reason=appointment.status_reason,
        updated_at=appointment.updated_at,
    )


def careplan_facts(plan: TreatmentPlan, patient_uuid: str) -> CarePlanFacts:
    dose = plan_dose_words(plan.esketamine_dose_mg, plan.dose_mg_per_kg, plan.infusion_minutes)
    return CarePlanFacts(
        uuid=str(plan.uuid),
        patient_uuid=patient_uuid,
        status=plan.status,
        title=plan.template.name,
        route=Route(plan.route).label,
        session_count=plan.session_count,
        start_date=plan.start_date,
        prescriber_uuid=str(plan.prescribed_by.uuid),
        prescriber_name=plan.prescribed_by.display_name,
        dose=dose,
        ended_on=timezone.localtime(plan.ended_at).date() if plan.ended_at else None,
        end_reason=plan.end_reason,
        updated_at=plan.updated_at,
    )


def audit_facts(event: AuditEvent) -> AuditFacts:
    clinician = event.actor is not None and event.actor.role in CLINICAL_ROLES
    return AuditFacts(
        id=event.pk,
        occurred_at=event.occurred_at,
        action=event.action,
        action_label=event.get_action_display(),
        actor_username=event.actor_username or "(anonymous)",
        actor_role=event.actor_role or "none",
        summary=event.summary,
        object_type=event.object_type,
        object_id=event.object_id,
        patient_uuid=str(event.patient.uuid) if event.patient is not None else "",
        actor_practitioner_uuid=str(event.actor.uuid) if clinician and event.actor else "",
        channel=event.channel,
    )


def _clock(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


def _infusion_course(events: list[InfusionEvent]) -> tuple[str, ...]:
    """An infusion's events in words, in the clinic's time zone: "started 10:02 at 120 mL/h",
    "paused 10:15: nausea", "resumed 10:18", "rate 90 mL/h from 10:20", "stopped 10:42"."""
    words = []
    for event in events:
        rate = f"{event.rate_ml_per_h.normalize():f} mL/h" if event.rate_ml_per_h else ""
        if event.kind == InfusionEventKind.START:
            said = f"started {_clock(event.occurred_at)}" + (f" at {rate}" if rate else "")
        elif event.kind == InfusionEventKind.RATE:
            said = f"rate {rate} from {_clock(event.occurred_at)}"
        else:
            said = f"{InfusionEventKind(event.kind).label.lower()} {_clock(event.occurred_at)}"
        if event.reason:
            said += f": {event.reason}"
        words.append(said)
    return tuple(words)


def _infusion(session: TreatmentSession) -> tuple[list[InfusionEvent], dict]:
    """An infusion's events and what every state of it shares: its start, first rate, course."""
    events = list(session.infusion_events.all())
    started = next((e for e in events if e.kind == InfusionEventKind.START), None)
    return events, {
        "infusion_started_at": started.occurred_at if started else session.dose_started_at,
        "rate_ml_per_h": (started.rate_ml_per_h if started else None)
        or session.infusion_rate_ml_per_h,
        "course": _infusion_course(events),
    }


def _unrecorded_infusion_facts(session: TreatmentSession) -> DoseFacts:
    """An infusion without an administration: running (in-progress), or stopped before any ran
    in (not-done, with the stop's reason)."""
    events, shared = _infusion(session)
    container = session.infusion_container
    stop = next((e for e in events if e.kind == InfusionEventKind.STOP), None)
    running = session.dose_completed_at is None
    nurse = session.assigned_nurse
    planned = session.planned_session
    return DoseFacts(
        uuid=str(session.uuid),
        patient_uuid=str(session.patient.uuid),
        route=session.route,
        medication_name=container.lot.product.name if container else "Ketamine",
        given_mg=None,
        given_at=None if running else session.dose_completed_at,
        status="in-progress" if running else "not-done",
        status_reason="" if running or stop is None else stop.reason,
        planned_mg=session.dose_planned_mg,
        drawn_mg=session.infusion_drawn_mg,
        lot_number=container.lot.lot_number if container else "",
        lot_expiry=container.lot.expiry if container else None,
        ndc=container.lot.product.ndc if container else "",
        encounter_uuid=str(session.uuid),
        performer_uuid=str(nurse.uuid) if nurse else "",
        performer_name=nurse.display_name if nurse else "",
        plan_uuid=str(planned.plan.uuid) if planned is not None else "",
        updated_at=session.updated_at,
        **shared,
    )


def dose_facts(dose: DoseAdministration | HomeSessionLog | TreatmentSession) -> DoseFacts:
    """A chair-side administration, with its lot and its infusion's course (an infusion's id
    is its session's, whatever its state); an infusion not yet recorded; or an at-home dose the
    patient logged."""
    if isinstance(dose, HomeSessionLog):
        assert dose.dose_taken_mg is not None and dose.dose_taken_at is not None
        return DoseFacts(
            uuid=str(dose.uuid),
            patient_uuid=str(dose.patient.uuid),
            route=dose.plan.route,
            medication_name=f"Ketamine, {Route(dose.plan.route).label.lower()}",
            given_mg=dose.dose_taken_mg,
            given_at=dose.dose_taken_at,
            taken_at_home=True,
            plan_uuid=str(dose.plan.uuid),
            updated_at=dose.updated_at,
        )
    if isinstance(dose, TreatmentSession):
        return _unrecorded_infusion_facts(dose)
    session = dose.session
    lot = dose.container.lot
    infusion = dose.kind == AdministrationKind.IV_INFUSION
    shared = _infusion(session)[1] if infusion else {}
    planned = session.planned_session
    notes = [session.dosing_ended_early_reason, dose.given_above_expected_reason]
    return DoseFacts(
        uuid=str(session.uuid if infusion else dose.uuid),
        patient_uuid=str(session.patient.uuid),
        route=session.route,
        medication_name=lot.product.name,
        given_mg=dose.given_mg,
        given_at=dose.given_at,
        lot_number=lot.lot_number,
        lot_expiry=lot.expiry,
        ndc=lot.product.ndc,
        im_site=ImSite(dose.im_site).label if dose.im_site else "",
        device_number=dose.device_number,
        encounter_uuid=str(session.uuid),
        performer_uuid=str(dose.recorded_by.uuid),
        performer_name=dose.recorded_by.display_name,
        plan_uuid=str(planned.plan.uuid) if planned is not None else "",
        note=". ".join(note for note in notes if note),
        updated_at=dose.updated_at,
        **shared,
    )


def medication_order_facts(plan: TreatmentPlan, patient_uuid: str) -> MedicationOrderFacts:
    return MedicationOrderFacts(
        uuid=str(plan.uuid),
        patient_uuid=patient_uuid,
        status=plan.status,
        route=plan.route,
        title=plan.template.name,
        authored_at=plan.activated_at or plan.created_at,
        prescriber_uuid=str(plan.prescribed_by.uuid),
        prescriber_name=plan.prescribed_by.display_name,
        session_count=plan.session_count,
        fixed_dose_mg=plan.esketamine_dose_mg,
        dose_mg_per_kg=plan.dose_mg_per_kg,
        infusion_minutes=plan.infusion_minutes,
        maintenance_interval_weeks=plan.maintenance_interval_weeks,
        start_date=plan.start_date,
        ended_on=timezone.localtime(plan.ended_at).date() if plan.ended_at else None,
        end_reason=plan.end_reason,
        updated_at=plan.updated_at,
    )


def signature_facts(session: TreatmentSession, clinic_name: str) -> SignatureFacts:
    """A signed session as its Provenance's facts, from a session read by
    selectors_signatures (its administrations, `valid_vitals` and `valid_scores` already
    loaded): the Encounter, then each dose (an infusion by its session's id, recorded or
    stopped before any ran in), each valid reading's Observations and each valid in-session
    scale's Observation (its response's id)."""
    assert session.signed_at is not None and session.signed_by is not None
    patient_uuid = str(session.patient.uuid)
    targets = [f"Encounter/{session.uuid}"]
    doses: list[str] = []
    for dose in session.administrations.all():
        infusion = dose.kind == AdministrationKind.IV_INFUSION
        doses.append(str(session.uuid if infusion else dose.uuid))
    if session.route == Route.IV and session.dose_started_at is not None:
        doses.append(str(session.uuid))
    # dict.fromkeys: a recorded infusion and its session share the id.
    targets += [f"MedicationAdministration/{uuid}" for uuid in dict.fromkeys(doses)]
    for reading in session.valid_vitals:  # type: ignore[attr-defined]
        observations = vital_sign_observations(vitals_facts(reading, patient_uuid))
        targets += [f"Observation/{observation.id}" for observation in observations]
    targets += [f"Observation/{score.response.uuid}" for score in session.valid_scores]  # type: ignore[attr-defined]
    return SignatureFacts(
        uuid=str(session.uuid),
        signed_at=session.signed_at,
        signer_uuid=str(session.signed_by.uuid),
        signer_name=session.signed_by.display_name,
        clinic_name=clinic_name,
        targets=tuple(targets),
    )
