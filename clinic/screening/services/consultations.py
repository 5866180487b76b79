"""Consultation requests: the public site's write, and the front desk's writes.

A request is personal data before the person is a patient: every write is audited, and the
public write records nothing personal in the audit trail. The public write never looks at
patients, so its outcome cannot reveal who is one.
"""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput, NotFound
from clinic.core.parsing import birth_date_problem, record_uuid
from clinic.core.text import CONTROL_CHARACTER_MESSAGE, has_control_characters
from clinic.patients.models import Patient
from clinic.patients.services import patient_register
from clinic.screening.choices import ConsultationStatus, ContactMethod, SeekingHelp
from clinic.screening.models import ConsultationRequest

OBJECT_TYPE = "consultation_request"

REQUEST_FIELDS = [
    "given_name",
    "family_name",
    "email",
    "phone",
    "preferred_contact",
    "date_of_birth",
    "seeking_help_with",
    "message",
    "heard_about",
    "consent_to_contact",
]
TEXT_LIMITS = {
    "given_name": 100,
    "family_name": 100,
    "email": 254,
    "phone": 32,
    "message": 4000,
    "heard_about": 200,
}
REQUIRED_TEXT = {"given_name", "family_name"}
NOTE_MAX_LENGTH = 2000
_PHONE_CHARACTERS = re.compile(r"^\+?[0-9()\-.\s]+$")
CONTACT_NEEDED = "Give an e-mail address or a phone number, so that we can reach you."
_METHOD_NEEDS = {
    ContactMethod.PHONE: ("phone", "You chose a phone call: please give a phone number."),
    ContactMethod.TEXT: ("phone", "You chose a text message: please give a mobile number."),
    ContactMethod.EMAIL: ("email", "You chose e-mail: please give an e-mail address."),
}


def clean_consultation_request(data: dict[str, Any]) -> dict[str, Any]:
    """Check a request as the public form sends it; raise InvalidInput naming each field."""
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for name in sorted(set(data) - set(REQUEST_FIELDS)):
        fail(name, "This field is not part of a consultation request.")
    cleaned: dict[str, Any] = {}
    for name, limit in TEXT_LIMITS.items():
        value = data.get(name) or ""
        if not isinstance(value, str):
            fail(name, "Enter text.")
            continue
        value = value.strip()
        if has_control_characters(value):
            fail(name, CONTROL_CHARACTER_MESSAGE)
        elif len(value) > limit:
            fail(name, f"Keep this to {limit} characters or fewer.")
        elif name in REQUIRED_TEXT and not value:
            fail(name, "This field is required.")
        cleaned[name] = value

    if cleaned.get("email") and "email" not in errors:
        try:
            validate_email(cleaned["email"])
        except ValidationError:
            fail("email", "Enter a valid e-mail address, e.g. name@example.org.")
    phone = cleaned.get("phone", "")
    digit_count = len(re.sub(r"\D", "", phone))
    if (
        phone
        and "phone" not in errors
        and (not _PHONE_CHARACTERS.match(phone) or not 7 <= digit_count <= 15)
    ):
        fail("phone", "Enter a phone number of 7 to 15 digits, e.g. (555) 010-4477.")

    method = data.get("preferred_contact") or ""
    if method not in ContactMethod.values:
        fail("preferred_contact", "Choose how you would like us to contact you.")
    cleaned["preferred_contact"] = method
    if not cleaned.get("email") and not phone:
        if "email" not in errors:
            fail("email", CONTACT_NEEDED)
        if "phone" not in errors:
            fail("phone", CONTACT_NEEDED)
    elif method in _METHOD_NEEDS:
        needed, message = _METHOD_NEEDS[ContactMethod(method)]
        if not cleaned.get(needed) and needed not in errors:
            fail("preferred_contact", message)

    dob = data.get("date_of_birth")
    if isinstance(dob, str):
        dob = dob.strip() or None
        if dob is not None:
            try:
                dob = datetime.date.fromisoformat(dob)
            except ValueError:
                fail("date_of_birth", "Enter the date as YYYY-MM-DD.")
                dob = None
    if dob is not None and not isinstance(dob, datetime.date):
        fail("date_of_birth", "Enter the date as YYYY-MM-DD.")
        dob = None
    if isinstance(dob, datetime.date):
        problem = birth_date_problem(dob, today=timezone.localdate())
        if problem:
            fail("date_of_birth", problem)
    cleaned["date_of_birth"] = dob

    seeking = data.get("seeking_help_with") or ""
    if seeking not in SeekingHelp.values:
        fail("seeking_help_with", "Choose what you would like help with (or “Not sure yet”).")
    cleaned["seeking_help_with"] = seeking

    if data.get("consent_to_contact") is not True:
        fail("consent_to_contact", "Please agree to be contacted, so that we can reply to you.")
    cleaned["consent_to_contact"] = True

    if errors:
        raise InvalidInput(errors)
    return cleaned


# ---------------------------------------------------------------------------------------
# The public write


@transaction.atomic
def consultation_request_create(*, data: dict[str, Any]) -> ConsultationRequest:
    """Store a request from the public site. There is no actor, and nothing about patients
    is read: the same thing happens whether or not the person is already a patient."""
    cleaned = clean_consultation_request(data)
    consultation = ConsultationRequest.objects.create(**cleaned)
    audit_record(
        actor=None,
        action=AuditAction.CREATE,
        object_type=OBJECT_TYPE,
        object_id=consultation.uuid,
        # Nothing personal: no name, contact or reason for seeking help.
        summary="Consultation request received through the public site",
        changes={"status": {"before": None, "after": consultation.status}},
    )
    return consultation


# ---------------------------------------------------------------------------------------
# Front desk writes


# The API's If-Match: checked on the request under its row lock, so that of two changes sent
# with the same tag the second sees the first and is refused.
Precondition = Callable[[ConsultationRequest], None] | None


def _lock(
    consultation: ConsultationRequest, precondition: Precondition = None
) -> ConsultationRequest:
    locked = ConsultationRequest.objects.select_for_update().filter(pk=consultation.pk).first()
    if locked is None:
        raise NotFound("No such consultation request.")
    if precondition is not None:
        precondition(locked)
    return locked


@transaction.atomic
def consultation_request_set_status(
    *,
    actor: User,
    consultation: ConsultationRequest,
    status: str,
    note: str = "",
    precondition: Precondition = None,
) -> ConsultationRequest:
    """Move a request to another status, or add a note to it, or both. Notes are appended
    with the time and the author, so what was written before stays."""
    require(actor, Capability.CONSULTATION_MANAGE)
    note = (note or "").strip()
    errors: dict[str, list[str]] = {}
    if status not in ConsultationStatus.values:
        errors["status"] = ["Choose one of the listed statuses."]
    if has_control_characters(note):
        errors["note"] = [CONTROL_CHARACTER_MESSAGE]
    elif len(note) > NOTE_MAX_LENGTH:
        errors["note"] = [f"Keep the note to {NOTE_MAX_LENGTH} characters or fewer."]
    if errors:
        raise InvalidInput(errors)
    locked = _lock(consultation, precondition)
    if status == locked.status and not note:
        raise InvalidInput({"status": ["Choose a different status, or add a note."]})
    changes: dict[str, dict[str, Any]] = {}
    now = timezone.now()
    if status != locked.status:
        changes["status"] = {"before": locked.status, "after": status}
        locked.status = status
        locked.status_changed_at = now
        locked.status_changed_by = actor
    if note:
        stamp = timezone.localtime(now).strftime("%Y-%m-%d %H:%M")
        entry = f"{stamp} {actor.get_username()}: {note}"
        before = locked.front_desk_note
        locked.front_desk_note = f"{before}\n{entry}" if before else entry
        changes["front_desk_note"] = {"before": before, "after": locked.front_desk_note}
    locked.save()
    if "status" in changes:
        summary = (
            "Consultation request status: "
            f"{ConsultationStatus(changes['status']['before']).label} → "
            f"{ConsultationStatus(status).label}"
        )
        if note:
            summary += ", with a note"
    else:
        summary = "Consultation request: note added"
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=OBJECT_TYPE,
        object_id=locked.uuid,
        patient=locked.patient,
        summary=summary,
        changes=changes,
    )
    return locked


def _already_linked() -> Conflict:
    return Conflict(
        "This request is already linked to a patient.", code="consultation_already_linked"
    )


@transaction.atomic
def consultation_request_convert(
    *,
    actor: User,
    consultation: ConsultationRequest,
    data: dict[str, Any],
    allow_possible_duplicate: bool = False,
    precondition: Precondition = None,
) -> Patient:
    """Register the person as a new patient (through `patient_create`) and link the request
    to them. Refused while a likely duplicate exists, unless the front desk has looked and
    says it is a different person. The request's status stays as it was."""
    require(actor, Capability.CONSULTATION_MANAGE)
    require(actor, Capability.PATIENT_CREATE)
    locked = _lock(consultation, precondition)
    if locked.patient_id is not None:
        raise _already_linked()
    # The same duplicate check as every registration (PossibleDuplicatePatient, a Conflict).
    patient = patient_register(actor=actor, data=data, confirm_new_patient=allow_possible_duplicate)
    locked.patient = patient
    locked.save(update_fields=["patient", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=OBJECT_TYPE,
        object_id=locked.uuid,
        patient=patient,
        summary=f"Consultation request converted: registered patient MRN {patient.mrn}",
        changes={
            "patient": {"before": None, "after": str(patient.uuid)},
            "possible_duplicate_overridden": allow_possible_duplicate,
        },
    )
    return patient


@transaction.atomic
def consultation_request_link_patient(
    *,
    actor: User,
    consultation: ConsultationRequest,
    patient_uuid: uuid.UUID | str,
    precondition: Precondition = None,
) -> Patient:
    """Link the request to a patient who is already registered (no new patient)."""
    require(actor, Capability.CONSULTATION_MANAGE)
    key = record_uuid(patient_uuid)
    patient = Patient.objects.visible_to(actor).filter(uuid=key).first()
    if patient is None:
        raise NotFound("No such patient.")
    locked = _lock(consultation, precondition)
    if locked.patient_id == patient.pk:
        return patient
    if locked.patient_id is not None:
        raise _already_linked()
    locked.patient = patient
    locked.save(update_fields=["patient", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type=OBJECT_TYPE,
        object_id=locked.uuid,
        patient=patient,
        summary=f"Consultation request linked to existing patient MRN {patient.mrn}",
        changes={"patient": {"before": None, "after": str(patient.uuid)}},
    )
    return patient
