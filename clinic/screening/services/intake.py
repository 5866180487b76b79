"""Intake writes: the screening history the rules engine evaluates. Staff on the care team
enter it, or the patient fills it in through a secure link; every change after submission
bumps the revision, which makes any signed decision due for re-review.

`clean_intake` is the one check of an intake's answers: the page runs it to show every
problem at once, and `intake_save` runs it again for whatever arrives."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Manager
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.audit import audit_record, diff, snapshot
from clinic.core.choices import AuditAction
from clinic.core.exceptions import InvalidInput, PermissionDenied
from clinic.core.parsing import trimmed_text
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
from clinic.screening.selectors import intake_link_digest

TEXT_FIELDS = [
    "history_detail",
    "allergies",
    "psychiatric_history",
    "substance_use",
    "home_treatment_monitor_name",
]
STAFF_ONLY_FIELDS = ["indication", "systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm"]
# Yes/no questions: True, False, or None for unanswered (unknown, never "no").
YES_NO_FIELDS = [
    "pregnant",
    "breastfeeding",
    "home_bp_monitor",
    "takes_medications",
    "tried_antidepressants",
]
PATIENT_FIELDS = [
    "condition_answers",
    *TEXT_FIELDS,
    "pregnant",
    "breastfeeding",
    "weight_kg",
    "height_cm",
    "home_bp_monitor",
    "takes_medications",
    "tried_antidepressants",
]
INTAKE_FIELDS = [*STAFF_ONLY_FIELDS, *PATIENT_FIELDS]
# Not asked of a patient whose recorded sex is male (calculators.md §3).
NOT_ASKED_OF_MALE = ("pregnant", "breastfeeding")
_VITALS = {
    "systolic_mmhg": "systolic_mmhg",
    "diastolic_mmhg": "diastolic_mmhg",
    "heart_rate_bpm": "heart_rate_bpm",
    "weight_kg": "weight_kg",
    "height_cm": "height_cm",
}
ANSWER_YES_OR_NO = "Answer yes or no."

# Each field's messages, keyed as InvalidInput names them.
type Errors = dict[str, list[str]]
# One row of the medicines or antidepressant-trials table, as the page or the API sends it.
type Row = dict[str, Any]


def row_key(table: str, index: int, field: str) -> str:
    """The error key of one cell of a table: "medications.2.medication_class" (0-based row,
    counting the blank rows the page showed, so it is the row the user sees)."""
    return f"{table}.{index}.{field}"


def _number(errors: Errors, name: str, raw: object) -> int | Decimal | None:
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


def _yes_no(errors: Errors, name: str, value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    errors[name] = [ANSWER_YES_OR_NO]
    return None


def _condition_answers(errors: Errors, raw: object) -> dict[str, bool]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        errors["condition_answers"] = ["Give each condition's answer as yes or no."]
        return {}
    unknown = [str(code) for code in raw if code not in Condition.values]
    if unknown:
        errors["condition_answers"] = [f"Unknown condition(s): {', '.join(unknown)}."]
    answers = {}
    for code in Condition.values:  # the vocabulary's order, so equal answers compare equal
        value = raw.get(code)
        if value is None:
            continue  # unanswered: no key
        if not isinstance(value, bool):
            errors[f"condition_answers.{code}"] = [ANSWER_YES_OR_NO]
            continue
        answers[code] = value
    return answers


def _clean_medications(errors: Errors, rows: list[Row]) -> list[Row]:
    kept = []
    for index, row in enumerate(rows):
        name, klass, dose = (
            trimmed_text(row.get("name")),
            row.get("medication_class") or "",
            trimmed_text(row.get("dose")),
        )
        if not name and not klass and not dose:
            continue  # a blank row is ignored
        if not name:
            errors[row_key("medications", index, "name")] = ["Enter the medicine's name."]
        if klass not in MedicationClass.values:
            errors[row_key("medications", index, "medication_class")] = [
                "Choose its class (Other when none fits)."
            ]
        for field, value in (("name", name), ("dose", dose)):
            if has_control_characters(value):
                errors[row_key("medications", index, field)] = [CONTROL_CHARACTER_MESSAGE]
        kept.append({"name": name, "medication_class": klass, "dose": dose})
    return kept


def _clean_trials(errors: Errors, rows: list[Row]) -> list[Row]:
    kept = []
    for index, row in enumerate(rows):
        drug, dose, outcome = (
            trimmed_text(row.get("drug")),
            trimmed_text(row.get("dose")),
            row.get("outcome") or "",
        )
        weeks = row.get("duration_weeks")
        adequate, current = row.get("adequate"), row.get("current_episode")
        if not (drug or dose or outcome or weeks not in (None, "") or adequate or current):
            continue  # a blank row is ignored (an unticked "no" alone is not a trial)
        if not drug:
            errors[row_key("trials", index, "drug")] = [
                "Enter the antidepressant's name: a trial is of a named drug."
            ]
        if outcome not in TrialOutcome.values:
            errors[row_key("trials", index, "outcome")] = ["Choose how the trial ended."]
        if weeks not in (None, "") and (not str(weeks).isdigit() or int(weeks) > 520):
            errors[row_key("trials", index, "duration_weeks")] = [
                "Enter the duration in whole weeks (up to 520)."
            ]
        for field, value in (("adequate", adequate), ("current_episode", current)):
            if not isinstance(value, bool):
                errors[row_key("trials", index, field)] = [ANSWER_YES_OR_NO]
        for field, value in (("drug", drug), ("dose", dose)):
            if has_control_characters(value):
                errors[row_key("trials", index, field)] = [CONTROL_CHARACTER_MESSAGE]
        kept.append(
            {
                "drug": drug,
                "dose": dose,
                "duration_weeks": int(str(weeks)) if str(weeks or "").isdigit() else None,
                "adequate": adequate is True,
                "outcome": outcome,
                "current_episode": current is True,
            }
        )
    return kept


def _list_answer(
    errors: Errors, name: str, answer: bool | None, rows: list[Row], what: str
) -> bool | None:
    """A yes/no question with its table: rows listed answer yes; "yes" needs a row; "no"
    cannot have rows."""
    if answer is None and rows:
        return True  # listing them is answering yes
    if answer is True and not rows:
        errors.setdefault(name, []).append(f"You answered yes: list at least one {what} below.")
    if answer is False and rows:
        errors.setdefault(name, []).append(
            f"You answered no, but {what}s are listed below: answer yes, or clear those rows."
        )
    return answer


def clean_intake(
    *,
    patient: Patient,
    data: dict[str, Any],
    medications: list[Row],
    trials: list[Row],
    current: Intake | None = None,
) -> tuple[dict[str, Any], list[Row], list[Row]]:
    """Vocabulary, plausibility and contradictions, every problem at once; InvalidInput names
    each field at fault, and each table cell as `row_key(...)`. `data` holds only the answers
    being changed; `current` is the intake they change (its other answers and, with
    `medications` or `trials` None, its rows are checked with them)."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name in data:
        if name not in INTAKE_FIELDS:
            errors[name] = ["This is not an intake question."]
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
    if "condition_answers" in data:
        cleaned["condition_answers"] = _condition_answers(errors, data["condition_answers"])
    for name in YES_NO_FIELDS:
        if name in data:
            cleaned[name] = _yes_no(errors, name, data[name])
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
        for name in NOT_ASKED_OF_MALE:
            if cleaned.get(name) is True:
                errors[name] = [
                    f"The patient's recorded sex is male; check '{name}' or the demographics."
                ]

    clean_meds = _clean_medications(errors, medications)
    clean_trials = _clean_trials(errors, trials)

    def answer(name: str) -> Any:
        return cleaned[name] if name in cleaned else getattr(current, name, None)

    for name, rows, what in (
        ("takes_medications", clean_meds, "medicine"),
        ("tried_antidepressants", clean_trials, "antidepressant"),
    ):
        value = _list_answer(errors, name, answer(name), rows, what)
        if name in data or value != answer(name):
            cleaned[name] = value
    if errors:
        raise InvalidInput(errors)
    return cleaned, clean_meds, clean_trials


def _intake_snapshot(intake: Intake) -> dict[str, Any]:
    data = snapshot(intake, INTAKE_FIELDS)
    # Sorted by code so the same answers given in another order are not a change.
    data["condition_answers"] = dict(sorted((intake.condition_answers or {}).items()))
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


def _may_edit(actor: User | None, patient: Patient) -> bool:
    # No actor is the patient's own link, which never reaches here without its token.
    if actor is None:
        return False
    return can_act_clinically(actor=actor, patient=patient, capability=Capability.INTAKE_EDIT)


@transaction.atomic
def intake_start(*, actor: User, patient: Patient) -> Intake:
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


def _rows_of(related: Manager[IntakeMedication] | Manager[AntidepressantTrial]) -> list[Row]:
    return [
        {
            f.name: getattr(row, f.name)
            for f in row._meta.concrete_fields
            if f.name not in ("id", "intake")
        }
        for row in related.all()
    ]


@transaction.atomic
def intake_save(
    *,
    actor: User | None,
    intake: Intake,
    data: dict[str, Any],
    medications: list[Row] | None = None,
    trials: list[Row] | None = None,
    submit: bool = False,
    link: IntakeLink | None = None,
    precondition: Callable[[Intake], None] | None = None,
) -> Intake:
    """Save intake answers (replacing the medication and trial lists when given).
    `precondition` (the API's If-Match) is checked on the locked row, after the role: of two
    saves sent with one tag, the second sees the first and is refused."""
    locked = Intake.objects.select_for_update().select_related("patient").get(pk=intake.pk)
    patient = Patient.objects.prefetch_related("care_team_members").get(pk=locked.patient_id)
    if link is None:
        if not _may_edit(actor, patient):
            raise PermissionDenied("Only the care team's prescribers and nurses enter an intake.")
    else:
        if link.intake_id != locked.pk:
            raise PermissionDenied("This link is not for that intake.")
        data = {k: v for k, v in data.items() if k in PATIENT_FIELDS}
    if precondition is not None:
        precondition(locked)
    cleaned, meds, trial_rows = clean_intake(
        patient=patient,
        data=data,
        # Rows not given stay as they are, and are checked against the yes/no answers.
        medications=medications if medications is not None else _rows_of(locked.medications),
        trials=trials if trials is not None else _rows_of(locked.trials),
        current=locked,
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


@transaction.atomic
def intake_link_create(*, actor: User, intake: Intake) -> tuple[IntakeLink, str]:
    patient = Patient.objects.prefetch_related("care_team_members").get(pk=intake.patient_id)
    if not _may_edit(actor, patient):
        raise PermissionDenied("Only the care team's prescribers and nurses send an intake link.")
    token = secrets.token_urlsafe(32)
    link = IntakeLink.objects.create(
        intake=intake,
        token_digest=intake_link_digest(token),
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


def intake_link_used(link: IntakeLink) -> None:
    IntakeLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=timezone.now())
