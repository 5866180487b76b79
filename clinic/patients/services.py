"""Writes to patient records: each checks the role and care team, runs in one transaction
and leaves an audit event with before and after values."""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.audit import audit_record, diff, snapshot
from clinic.core.choices import AuditAction
from clinic.core.exceptions import InvalidInput, NotFound, PermissionDenied
from clinic.core.parsing import birth_date_problem, date_problem
from clinic.core.policy import plausible_range
from clinic.core.records import mark_entered_in_error, required_text
from clinic.core.text import CONTROL_CHARACTER_MESSAGE, has_control_characters
from clinic.patients.choices import CARE_TEAM_STAFF_ROLE, CareTeamRole, Sex
from clinic.patients.duplicates import (
    PossibleDuplicatePatient,
    find_duplicates,
    registration_lock,
)
from clinic.patients.measurements import mrn_for
from clinic.patients.models import BodyMeasurement, CareTeamMember, Patient
from clinic.patients.selectors import can_act_clinically

DEMOGRAPHIC_FIELDS = [
    "legal_given_name",
    "legal_middle_name",
    "legal_family_name",
    "preferred_name",
    "pronouns",
    "date_of_birth",
    "sex",
    "email",
    "phone_mobile",
    "phone_home",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "emergency_contact_name",
    "emergency_contact_relationship",
    "emergency_contact_phone",
]
REQUIRED_FIELDS = {"legal_given_name", "legal_family_name", "date_of_birth", "sex"}
PHONE_FIELDS = {"phone_mobile", "phone_home", "emergency_contact_phone"}
_PHONE_CHARACTERS = re.compile(r"^[0-9+()\-.\s]*(?:\s*(?:x|ext\.?)\s*\d+)?$", re.IGNORECASE)


def clean_demographics(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    unknown = set(data) - set(DEMOGRAPHIC_FIELDS)
    for name in sorted(unknown):
        errors[name] = ["This field is not part of a patient's demographics."]
    cleaned: dict[str, Any] = {}
    for name in DEMOGRAPHIC_FIELDS:
        if name not in data:
            if not partial and name in REQUIRED_FIELDS:
                errors[name] = ["This field is required."]
            continue
        value = data[name]
        if isinstance(value, str):
            value = value.strip()
            if has_control_characters(value):
                errors[name] = [CONTROL_CHARACTER_MESSAGE]
                continue
        if name in REQUIRED_FIELDS and value in (None, ""):
            errors[name] = ["This field is required."]
            continue
        cleaned[name] = "" if value is None else value

    dob = cleaned.get("date_of_birth")
    if isinstance(dob, str) and dob:
        try:
            dob = datetime.date.fromisoformat(dob)
            cleaned["date_of_birth"] = dob
        except ValueError:
            errors["date_of_birth"] = ["Enter the date as YYYY-MM-DD."]
            dob = None
    if isinstance(dob, datetime.date):
        # The clinic's bounds (clinic/core/policy.py, `oldest_patient_age_years`).
        problem = birth_date_problem(dob, today=timezone.localdate())
        if problem:
            errors["date_of_birth"] = [problem]

    if "sex" in cleaned and cleaned["sex"] not in Sex.values:
        errors["sex"] = [f"Choose one of: {', '.join(Sex.values)}."]
    for name in PHONE_FIELDS & set(cleaned):
        phone = cleaned[name]
        digits = re.sub(r"\D", "", phone.split("x")[0])
        if phone and (not _PHONE_CHARACTERS.match(phone) or not 7 <= len(digits) <= 15):
            errors[name] = ["Enter a phone number of 7 to 15 digits, e.g. (555) 010-4477."]
    if cleaned.get("email"):
        try:
            validate_email(cleaned["email"])
        except ValidationError:
            errors["email"] = ["Enter a valid email address, e.g. name@example.org."]
    if cleaned.get("country") and not re.fullmatch(r"[A-Z]{2}", cleaned["country"]):
        errors["country"] = ["Use the two-letter country code, e.g. US."]
    if errors:
        raise InvalidInput(errors)
    return cleaned


@transaction.atomic
def patient_create(*, actor: User, data: dict[str, Any]) -> Patient:
    require(actor, Capability.PATIENT_CREATE)
    cleaned = clean_demographics(data, partial=False)
    patient = Patient.objects.create(created_by=actor, **cleaned)
    # The MRN derives from the row id, so two desks registering at once never collide.
    patient.mrn = mrn_for(patient.pk)
    Patient.objects.filter(pk=patient.pk).update(mrn=patient.mrn)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="patient",
        object_id=patient.uuid,
        patient=patient,
        summary=f"Registered patient MRN {patient.mrn}",
        changes=diff({}, snapshot(patient, ["mrn", *DEMOGRAPHIC_FIELDS])),
    )
    return patient


@transaction.atomic
def patient_register(
    *, actor: User, data: dict[str, Any], confirm_new_patient: bool = False
) -> Patient:
    """Register a patient through the front door (the page, the API, a consultation request):
    refused with PossibleDuplicatePatient while a likely duplicate exists, unless the user has
    looked and confirms a different person. The override is audited with who it overrode.
    (`patient_create` is the registration itself, for callers that have no person at the
    desk, such as the demo.)"""
    require(actor, Capability.PATIENT_CREATE)
    cleaned = clean_demographics(data, partial=False)
    registration_lock()  # the check and the registration, one at a time
    candidates = find_duplicates(
        actor=actor,
        given_name=cleaned.get("legal_given_name", ""),
        family_name=cleaned.get("legal_family_name", ""),
        date_of_birth=cleaned.get("date_of_birth"),
        email=cleaned.get("email", ""),
        phones=[cleaned.get("phone_mobile", ""), cleaned.get("phone_home", "")],
    )
    if candidates and not confirm_new_patient:
        raise PossibleDuplicatePatient(candidates)
    patient = patient_create(actor=actor, data=data)
    if candidates:
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="patient",
            object_id=patient.uuid,
            patient=patient,
            summary=f"Registered MRN {patient.mrn} as a different person from "
            f"{len(candidates)} likely duplicate{'' if len(candidates) == 1 else 's'}, "
            "as confirmed by the registering user",
            changes={
                "possible_duplicates": {
                    "before": None,
                    "after": [
                        {"patient": str(c.patient.uuid), "reasons": list(c.reasons)}
                        for c in candidates
                    ],
                }
            },
        )
    return patient


def patient_lock(*, actor: User, patient_id: int) -> Patient | None:
    """Lock a patient's row, when the patient is within the actor's reach, to serialise work
    per patient in another app's transaction (one booking at a time, one plan at a time)."""
    return Patient.objects.visible_to(actor).select_for_update().filter(pk=patient_id).first()


def patient_row_lock(*, patient_id: int) -> None:
    """Lock a patient's row to serialise another app's decisions for that patient (two
    suicidality answers saved at once must not raise two first alerts). No reach check: for a
    step the system takes on the patient's own path (a questionnaire link, the kiosk, the
    portal) or after its caller has checked the actor; staff steps use `patient_lock`."""
    Patient.objects.select_for_update().filter(pk=patient_id).values_list("pk").get()


def _lock_visible(actor: User, patient: Patient) -> Patient:
    locked = Patient.objects.visible_to(actor).select_for_update().filter(pk=patient.pk).first()
    if locked is None:
        raise NotFound("No such patient, or the patient is not on your care team.")
    return locked


@transaction.atomic
def patient_update(*, actor: User, patient: Patient, data: dict[str, Any]) -> Patient:
    require(actor, Capability.PATIENT_EDIT_DEMOGRAPHICS)
    locked = _lock_visible(actor, patient)
    cleaned = clean_demographics(data, partial=True)
    before = snapshot(locked, DEMOGRAPHIC_FIELDS)
    for name, value in cleaned.items():
        setattr(locked, name, value)
    changes = diff(before, snapshot(locked, DEMOGRAPHIC_FIELDS))
    if changes:
        locked.save()
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="patient",
            object_id=locked.uuid,
            patient=locked,
            summary="Demographics changed: " + ", ".join(changes),
            changes=changes,
        )
    return locked


@transaction.atomic
def care_team_set(
    *,
    actor: User,
    patient: Patient,
    primary_prescriber: User | None,
    prescribers: Sequence[User] = (),
    nurses: Sequence[User] = (),
    therapists: Sequence[User] = (),
) -> list[CareTeamMember]:
    """Replace the care team. Each member must be active staff of the matching role."""
    require(actor, Capability.PATIENT_EDIT_CARE_TEAM)
    locked = _lock_visible(actor, patient)
    wanted: dict[int, tuple[User, CareTeamRole]] = {}
    errors: dict[str, list[str]] = {}
    slots: list[tuple[str, CareTeamRole, list[User | None]]] = [
        ("primary_prescriber", CareTeamRole.PRIMARY_PRESCRIBER, [primary_prescriber]),
        ("prescribers", CareTeamRole.PRESCRIBER, list(prescribers)),
        ("nurses", CareTeamRole.NURSE, list(nurses)),
        ("therapists", CareTeamRole.THERAPIST, list(therapists)),
    ]
    for field, team_role, chosen in slots:
        for member in chosen:
            if member is None:
                continue
            if not member.is_clinic_staff or member.role != CARE_TEAM_STAFF_ROLE[team_role]:
                errors.setdefault(field, []).append(
                    f"{member} is not an active {CARE_TEAM_STAFF_ROLE[team_role]}."
                )
            elif member.pk in wanted:
                # The primary prescriber listed again as a prescriber is the same person.
                continue
            else:
                wanted[member.pk] = (member, team_role)
    if errors:
        raise InvalidInput(errors)

    current = list(CareTeamMember.objects.filter(patient=locked).select_related("staff"))
    before = sorted(f"{m.team_role}:{m.staff.username}" for m in current)
    CareTeamMember.objects.filter(patient=locked).delete()
    added_at = timezone.now()
    members = CareTeamMember.objects.bulk_create(
        [
            CareTeamMember(
                patient=locked, staff=user, team_role=role, added_at=added_at, added_by=actor
            )
            for user, role in wanted.values()
        ]
    )
    after = sorted(f"{role}:{user.username}" for user, role in wanted.values())
    if before != after:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="care_team",
            object_id=locked.uuid,
            patient=locked,
            summary="Care team changed",
            changes={"care_team": {"before": before, "after": after}},
        )
    return members


def _decimal_in_range(errors: dict[str, list[str]], name: str, raw: object) -> Decimal | None:
    if raw in (None, ""):
        return None
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        value = None
    if value is None or not value.is_finite():
        errors[name] = ["Enter a number."]
        return None
    # The range applies to the value as entered, before rounding to one decimal:
    # 24.95 kg is below 25, not 25.0.
    allowed = plausible_range(name)
    if not allowed.contains(value):
        errors[name] = [allowed.message()]
        return None
    return value.quantize(Decimal("0.1"), ROUND_HALF_UP)


@transaction.atomic
def body_measurement_record(
    *,
    actor: User,
    patient: Patient,
    measured_on: datetime.date,
    weight_kg: object = None,
    height_cm: object = None,
) -> BodyMeasurement:
    if not can_act_clinically(
        actor=actor, patient=patient, capability=Capability.PATIENT_RECORD_MEASUREMENTS
    ):
        raise PermissionDenied("Only the care team's prescribers and nurses record measurements.")
    errors: dict[str, list[str]] = {}
    weight = _decimal_in_range(errors, "weight_kg", weight_kg)
    height = _decimal_in_range(errors, "height_cm", height_cm)
    if measured_on is None:
        errors["measured_on"] = ["This field is required."]
    elif problem := date_problem(
        measured_on,
        today=timezone.localdate(),
        born_on=patient.date_of_birth,
        future_message="A measurement cannot be dated in the future.",
    ):
        errors["measured_on"] = [problem]
    if not errors and weight is None and height is None:
        errors["weight_kg"] = ["Enter a weight, a height, or both."]
    if errors:
        raise InvalidInput(errors)
    measurement = BodyMeasurement.objects.create(
        patient=patient,
        measured_on=measured_on,
        weight_kg=weight,
        height_cm=height,
        recorded_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="body_measurement",
        object_id=measurement.uuid,
        patient=patient,
        summary="Weight/height recorded",
        changes=diff({}, snapshot(measurement, ["measured_on", "weight_kg", "height_cm"])),
    )
    return measurement


@transaction.atomic
def body_measurement_mark_entered_in_error(
    *, actor: User, measurement: BodyMeasurement, reason: str
) -> BodyMeasurement:
    if not can_act_clinically(
        actor=actor,
        patient=measurement.patient,
        capability=Capability.PATIENT_RECORD_MEASUREMENTS,
    ):
        raise PermissionDenied("Only the care team's prescribers and nurses correct measurements.")
    reason = required_text("reason", reason, "Say why this entry is wrong.")
    locked = BodyMeasurement.objects.select_for_update().get(pk=measurement.pk)
    if not mark_entered_in_error(locked, actor=actor, reason=reason):
        return locked
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="body_measurement",
        object_id=locked.uuid,
        patient=locked.patient,
        summary="Measurement marked entered in error",
        changes={
            "entered_in_error_reason": {"before": "", "after": locked.entered_in_error_reason}
        },
    )
    return locked
