"""Intake: the screening history the rules engine evaluates. Staff on the care team enter it,
or the patient fills it in through a secure link; every change after submission bumps the
revision, which makes any signed decision due for re-review."""

from __future__ import annotations

import datetime
import hashlib
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clinic.accounts.permissions import Capability
from clinic.assessments.models import AssessmentResponse
from clinic.core.audit import audit_record, diff, snapshot
from clinic.core.choices import AuditAction
from clinic.core.exceptions import InvalidInput, NotFound, PermissionDenied
from clinic.core.policy import plausible_range
from clinic.core.text import CONTROL_CHARACTER_MESSAGE, has_control_characters
from clinic.patients.models import Patient
from clinic.patients.selectors import can_act_clinically
from clinic.screening.choices import (
    Condition,
    Indication,
    IntakeStatus,
    MedicationClass,
    TrialOutcome,
)
from clinic.screening.models import AntidepressantTrial, Intake, IntakeLink, IntakeMedication
from clinic.screening.rules import IntakeFacts, TrialFacts

TEXT_FIELDS = [
    "history_detail",
    "allergies",
    "psychiatric_history",
    "substance_use",
    "home_treatment_monitor_name",
]
STAFF_ONLY_FIELDS = ["indication", "systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm"]
PATIENT_FIELDS = [
    "conditions",
    *TEXT_FIELDS,
    "pregnant",
    "breastfeeding",
    "weight_kg",
    "height_cm",
    "home_bp_monitor",
]
INTAKE_FIELDS = [*STAFF_ONLY_FIELDS, *PATIENT_FIELDS]
_VITALS = {
    "systolic_mmhg": "systolic_mmhg",
    "diastolic_mmhg": "diastolic_mmhg",
    "heart_rate_bpm": "heart_rate_bpm",
    "weight_kg": "weight_kg",
    "height_cm": "height_cm",
}


def _number(errors, name, raw):
    if raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        value = None
    if value is None or not value.is_finite():
        errors[name] = ["Enter a number."]
        return None
    allowed = plausible_range(_VITALS[name])
    if not allowed.contains(value):
        errors[name] = [allowed.message()]
        return None
    if name in ("weight_kg", "height_cm"):
        return value.quantize(Decimal("0.1"))
    if value != value.to_integral_value():
        errors[name] = ["Enter a whole number."]
        return None
    return int(value)


def clean_intake(
    *, patient: Patient, data: dict[str, Any], medications: list[dict], trials: list[dict]
) -> tuple[dict[str, Any], list[dict], list[dict]]:
    """Vocabulary, plausibility and contradictions; InvalidInput names every field at fault."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        if name in data:
            text = (data[name] or "").strip()
            if has_control_characters(text):
                errors[name] = [CONTROL_CHARACTER_MESSAGE]
            cleaned[name] = text
    if "indication" in data:
        indication = data["indication"] or ""
        if indication and indication not in Indication.values:
            errors["indication"] = [f"Unknown indication {indication!r}."]
        cleaned["indication"] = indication
    if "conditions" in data:
        conditions = list(dict.fromkeys(data["conditions"] or []))
        unknown = [c for c in conditions if c not in Condition.values]
        if unknown:
            errors["conditions"] = [f"Unknown condition(s): {', '.join(map(str, unknown))}."]
        cleaned["conditions"] = conditions
    for name in ("pregnant", "breastfeeding", "home_bp_monitor"):
        if name in data:
            cleaned[name] = data[name]
    for name in _VITALS:
        if name in data:
            cleaned[name] = _number(errors, name, data[name])
    systolic, diastolic = cleaned.get("systolic_mmhg"), cleaned.get("diastolic_mmhg")
    if systolic is not None and diastolic is not None and diastolic >= systolic:
        errors["diastolic_mmhg"] = ["The diastolic pressure must be below the systolic."]
    # Only one of the pair given (and not already refused for its range): ask for both.
    given = {n: data.get(n) not in (None, "") for n in ("systolic_mmhg", "diastolic_mmhg")}
    if given["systolic_mmhg"] != given["diastolic_mmhg"] and not (
        {"systolic_mmhg", "diastolic_mmhg"} & set(errors)
    ):
        missing = "diastolic_mmhg" if given["systolic_mmhg"] else "systolic_mmhg"
        errors[missing] = ["Enter both blood-pressure values, or neither."]
    if patient.sex == "male":
        for name in ("pregnant", "breastfeeding"):
            if cleaned.get(name) is True:
                errors[name] = [
                    f"The patient's recorded sex is male; check '{name}' or the demographics."
                ]

    clean_meds = []
    for index, med in enumerate(medications):
        name = (med.get("name") or "").strip()
        klass = med.get("medication_class") or ""
        if not name and not klass:
            continue
        if not name:
            errors.setdefault("medications", []).append(f"Medication {index + 1}: enter its name.")
        if klass not in MedicationClass.values:
            errors.setdefault("medications", []).append(
                f"Medication {index + 1}: choose its class."
            )
        clean_meds.append(
            {"name": name, "medication_class": klass, "dose": (med.get("dose") or "").strip()}
        )

    clean_trials = []
    for index, trial in enumerate(trials):
        drug = (trial.get("drug") or "").strip()
        outcome = trial.get("outcome") or ""
        if not drug and not outcome:
            continue
        if not drug:
            errors.setdefault("trials", []).append(
                f"Trial {index + 1}: an outcome without a drug — enter the antidepressant's name."
            )
        if outcome not in TrialOutcome.values:
            errors.setdefault("trials", []).append(f"Trial {index + 1}: choose the outcome.")
        weeks = trial.get("duration_weeks")
        if weeks not in (None, "") and (not str(weeks).isdigit() or int(weeks) > 520):
            errors.setdefault("trials", []).append(f"Trial {index + 1}: duration in whole weeks.")
        clean_trials.append(
            {
                "drug": drug,
                "dose": (trial.get("dose") or "").strip(),
                "duration_weeks": int(weeks) if str(weeks or "").isdigit() else None,
                "adequate": bool(trial.get("adequate")),
                "outcome": outcome,
                "current_episode": bool(trial.get("current_episode")),
            }
        )
    for row in [*clean_meds, *clean_trials]:
        if any(has_control_characters(str(v)) for v in row.values()):
            errors.setdefault("medications" if "medication_class" in row else "trials", []).append(
                CONTROL_CHARACTER_MESSAGE
            )
    if errors:
        raise InvalidInput(errors)
    return cleaned, clean_meds, clean_trials


def _intake_snapshot(intake: Intake) -> dict[str, Any]:
    data = snapshot(intake, INTAKE_FIELDS)
    data["medications"] = [
        f"{m.name} ({m.medication_class}) {m.dose}".strip() for m in intake.medications.all()
    ]
    data["trials"] = [
        f"{t.drug} {t.dose} {t.duration_weeks or '?'} wk, "
        f"{'adequate' if t.adequate else 'inadequate'}, {t.outcome}, "
        f"{'current' if t.current_episode else 'past'} episode"
        for t in intake.trials.all()
    ]
    return data


def _may_edit(actor, patient: Patient) -> bool:
    return can_act_clinically(actor=actor, patient=patient, capability=Capability.INTAKE_EDIT)


@transaction.atomic
def intake_start(*, actor, patient: Patient) -> Intake:
    """The patient's current intake (the latest), or a new draft."""
    if not _may_edit(actor, patient):
        raise PermissionDenied("Only the care team's prescribers and nurses enter an intake.")
    intake = Intake.objects.filter(patient=patient).order_by("-created_at", "-id").first()
    if intake is None:
        intake = Intake.objects.create(patient=patient)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="intake",
            object_id=intake.uuid,
            patient=patient,
            summary="Intake started",
        )
    return intake


@transaction.atomic
def intake_save(
    *,
    actor,
    intake: Intake,
    data: dict[str, Any],
    medications: list[dict] | None = None,
    trials: list[dict] | None = None,
    submit: bool = False,
    link: IntakeLink | None = None,
) -> Intake:
    """Save intake answers (replacing the medication and trial lists when given)."""
    locked = Intake.objects.select_for_update().select_related("patient").get(pk=intake.pk)
    patient = Patient.objects.prefetch_related("care_team_members").get(pk=locked.patient_id)
    if link is None:
        if not _may_edit(actor, patient):
            raise PermissionDenied("Only the care team's prescribers and nurses enter an intake.")
    else:
        if link.intake_id != locked.pk:
            raise PermissionDenied("This link is not for that intake.")
        data = {k: v for k, v in data.items() if k in PATIENT_FIELDS}
    cleaned, meds, trial_rows = clean_intake(
        patient=patient,
        data=data,
        medications=medications if medications is not None else [],
        trials=trials if trials is not None else [],
    )
    before = _intake_snapshot(locked)
    for name, value in cleaned.items():
        setattr(locked, name, value)
    if medications is not None:
        locked.medications.all().delete()
        IntakeMedication.objects.bulk_create([IntakeMedication(intake=locked, **m) for m in meds])
    if trials is not None:
        locked.trials.all().delete()
        AntidepressantTrial.objects.bulk_create(
            [AntidepressantTrial(intake=locked, **t) for t in trial_rows]
        )
    after = _intake_snapshot(locked)
    changes = diff(before, after)
    if changes and locked.status == IntakeStatus.SUBMITTED:
        locked.revision += 1
    if submit and locked.status != IntakeStatus.SUBMITTED:
        locked.status = IntakeStatus.SUBMITTED
        locked.submitted_at = timezone.now()
        locked.submitted_by = actor if link is None else None
        locked.source = "staff" if link is None else "patient_link"
        changes["status"] = {"before": "draft", "after": "submitted"}
    locked.save()
    if changes:
        audit_record(
            actor=actor if link is None else None,
            action=AuditAction.UPDATE,
            object_type="intake",
            object_id=locked.uuid,
            patient=patient,
            summary=f"Intake saved (revision {locked.revision})"
            + (" by the patient through a link" if link else ""),
            changes=changes,
        )
    return locked


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def intake_link_create(*, actor, intake: Intake) -> tuple[IntakeLink, str]:
    patient = Patient.objects.prefetch_related("care_team_members").get(pk=intake.patient_id)
    if not _may_edit(actor, patient):
        raise PermissionDenied("Only the care team's prescribers and nurses send an intake link.")
    token = secrets.token_urlsafe(32)
    link = IntakeLink.objects.create(
        intake=intake,
        token_digest=_digest(token),
        created_by=actor,
        expires_at=timezone.now()
        + datetime.timedelta(hours=settings.QUESTIONNAIRE_LINK_VALID_HOURS),
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="intake_link",
        object_id=link.uuid,
        patient=patient,
        summary="Intake link created",
    )
    return link, token


def intake_link_by_digest(digest: str | None) -> IntakeLink:
    link = (
        IntakeLink.objects.select_related("intake", "intake__patient")
        .filter(token_digest=digest)
        .first()
        if digest
        else None
    )
    if link is None or link.used_at is not None or link.expires_at <= timezone.now():
        raise NotFound("This link has expired or was already used. Ask the clinic for a new one.")
    return link


def intake_link_used(link: IntakeLink) -> None:
    IntakeLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=timezone.now())


def latest_cssrs_risk(patient: Patient) -> str | None:
    response = (
        AssessmentResponse.objects.valid()
        .filter(patient=patient, instrument_code="cssrs-screen")
        .exclude(severity="")
        .order_by("-taken_at", "-id")
        .first()
    )
    return response.severity if response else None


def intake_facts(intake: Intake, *, cssrs_risk: str | None) -> IntakeFacts:
    """What the rules engine needs, from the intake and the patient's record."""
    patient = intake.patient
    return IntakeFacts(
        age_years=patient.age_years(),
        sex=patient.sex,
        pregnant=intake.pregnant,
        breastfeeding=intake.breastfeeding,
        weight_kg=intake.weight_kg,
        height_cm=intake.height_cm,
        systolic_mmhg=intake.systolic_mmhg,
        diastolic_mmhg=intake.diastolic_mmhg,
        heart_rate_bpm=intake.heart_rate_bpm,
        indication=intake.indication or None,
        conditions=tuple(intake.conditions),
        medication_classes=tuple(
            sorted({m.medication_class for m in intake.medications.all()} - {"other"})
        ),
        antidepressant_trials=tuple(
            TrialFacts(t.drug, t.adequate, t.outcome, t.current_episode)
            for t in intake.trials.all()
        ),
        cssrs_risk=cssrs_risk,
        home_treatment_monitor=bool(intake.home_treatment_monitor_name.strip()),
        home_bp_monitor=bool(intake.home_bp_monitor),
    )
