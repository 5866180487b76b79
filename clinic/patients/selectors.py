"""Reads of patient records. Each takes the actor, checks access and writes the audit trail."""

from __future__ import annotations

import datetime
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import Prefetch, Q, QuerySet

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import InvalidInput, NotFound, PermissionDenied
from clinic.core.pages import Bounded, bounded
from clinic.core.parsing import record_uuid as parse_record_uuid
from clinic.core.text import CONTROL_CHARACTER_MESSAGE, has_control_characters
from clinic.patients.chart import ChartAlert
from clinic.patients.duplicates import DuplicateCandidate, find_duplicates
from clinic.patients.measurements import bmi_kg_m2
from clinic.patients.models import BodyMeasurement, CareTeamMember, EmergencyAccess, Patient

_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y")


def record_in_reach[RecordT: models.Model](
    *,
    actor: User,
    queryset: QuerySet[RecordT],
    record_uuid: object,
    object_type: str,
    patient_of: Callable[[RecordT], Patient],
    not_found_message: str,
    view_summary: str | Callable[[RecordT], str] | None = None,
    denied_summary: str | None = None,
    in_reach: Callable[[RecordT], bool] | None = None,
    patient: Patient | None = None,
    denial_names_patient: bool = False,
    check: Callable[[RecordT], None] | None = None,
) -> RecordT:
    """A patient's record by its public id, only when it is within the actor's reach: the one
    "fetch, check reach, audit the denial, not found" step of every selector.

    Reach is, by default, the patient being visible to the actor; `in_reach` replaces that test
    (the care team's clinicians only, say). A page that has already checked the actor's reach
    to one patient (the patient's own portal) passes that `patient` with a `queryset` holding
    only their records: any record found there is in reach. A record that does not exist and
    one out of reach look the same (NotFound with `not_found_message`), and both are audited as
    a denial, naming the patient when it is known (`patient`, or with `denial_names_patient`
    the record's own). Anything that is not a UUID is simply not found, unaudited: it names no
    record. `check` may then refuse a record in reach for another reason (a PermissionDenied:
    it is kept at a location the actor does not work at), before the read is audited. With
    `view_summary` (text, or text from the record) the read is audited as a view.
    The caller checks the role first, and selects the patient with the record so that
    `patient_of` costs no query."""
    try:
        key = parse_record_uuid(record_uuid)
    except NotFound as error:
        raise NotFound(not_found_message) from error
    record = queryset.filter(uuid=key).first()
    if record is None:
        reachable = False
    elif patient is not None and in_reach is None:
        reachable = True
    elif in_reach is not None:
        reachable = in_reach(record)
    else:
        reachable = Patient.objects.visible_to(actor).filter(pk=patient_of(record).pk).exists()
    if record is None or not reachable:
        named = patient
        if named is None and record is not None and denial_names_patient:
            named = patient_of(record)
        audit_record(
            actor=actor,
            action=AuditAction.DENIED,
            object_type=object_type,
            object_id=key,
            patient=named,
            summary=denied_summary
            or f"{object_type.replace('_', ' ').capitalize()} not found or patient not visible",
        )
        raise NotFound(not_found_message)
    if check is not None:
        check(record)
    if view_summary is not None:
        audit_record(
            actor=actor,
            action=AuditAction.VIEW,
            object_type=object_type,
            object_id=record.uuid,  # type: ignore[attr-defined]
            patient=patient_of(record),
            summary=view_summary if isinstance(view_summary, str) else view_summary(record),
        )
    return record


def _as_date(token: str) -> datetime.date | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(token, fmt).date()
        except ValueError:
            continue
    return None


def _search_filter(text: str) -> Q:
    """Every word must match: a name part, a date of birth, or the start of an MRN."""
    condition = Q()
    for token in re.split(r"[\s,]+", text.strip()):
        if not token:
            continue
        date = _as_date(token)
        if date is not None:
            condition &= Q(date_of_birth=date)
        elif token.isdigit():
            condition &= Q(mrn__startswith=token)
        else:
            condition &= (
                Q(legal_family_name__icontains=token)
                | Q(legal_given_name__icontains=token)
                | Q(preferred_name__icontains=token)
                | Q(legal_middle_name__icontains=token)
            )
    return condition


def _with_care_team(queryset: QuerySet) -> QuerySet:
    return queryset.prefetch_related(
        Prefetch(
            "care_team_members",
            queryset=CareTeamMember.objects.select_related("staff"),
        )
    )


def patient_page(
    *,
    actor: User,
    search: str = "",
    page_number: int | str = 1,
    page_size: int | None = None,
    updated_after: datetime.datetime | None = None,
    updated_before: datetime.datetime | None = None,
) -> Page:
    """One page of the patients the actor may see, optionally narrowed by a search and by when
    the patient's own record last changed, in [updated_after, updated_before) (FHIR
    `_lastUpdated`)."""
    if has_control_characters(search):
        raise InvalidInput({"query": [CONTROL_CHARACTER_MESSAGE]})
    queryset = Patient.objects.visible_to(actor)
    if search.strip():
        queryset = queryset.filter(_search_filter(search))
    if updated_after is not None:
        queryset = queryset.filter(updated_at__gte=updated_after)
    if updated_before is not None:
        queryset = queryset.filter(updated_at__lt=updated_before)
    paginator = Paginator(_with_care_team(queryset), page_size or settings.PAGE_SIZE)
    page = paginator.get_page(page_number)
    audit_record(
        actor=actor,
        action=AuditAction.SEARCH if search.strip() else AuditAction.LIST,
        object_type="patient",
        summary=f"Patient list page {page.number}: {len(page.object_list)} of {paginator.count}",
    )
    return page


def patient_with_mrn(*, actor: User, mrn: str) -> Patient | None:
    """The patient with this exact MRN, if the actor may see them (FHIR `identifier` search).
    Absent and not visible look the same; the search is audited either way."""
    patient = _with_care_team(Patient.objects.visible_to(actor)).filter(mrn=mrn).first()
    audit_record(
        actor=actor,
        action=AuditAction.SEARCH,
        object_type="patient",
        object_id=patient.uuid if patient else "",
        patient=patient,
        summary=f"Patient search by MRN: {'1 found' if patient else 'none found'}",
    )
    return patient


def my_patients(*, actor: User, size: int | None = None) -> Bounded[Patient]:
    """The patients whose care team the actor is on (a clinician's own list, on their home
    page): the first `size` (SECTION_SIZE) by name and how many in all; the patient list
    pages through the rest."""
    patients = bounded(
        _with_care_team(
            Patient.objects.active()
            .filter(care_team_members__staff=actor)
            .order_by("legal_family_name", "legal_given_name", "id")
        ),
        size=size,
    )
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="patient",
        summary=f"My patients: {len(patients)} of {patients.total}",
    )
    return patients


def patient_get(
    *, actor: User | None, patient_uuid: uuid.UUID | str, purpose: str = "chart"
) -> Patient:
    """A patient the actor may see. Absent and not-allowed look the same: NotFound."""
    try:
        key = uuid.UUID(str(patient_uuid))
    except ValueError as error:
        raise NotFound() from error
    patient = _with_care_team(Patient.objects.visible_to(actor)).filter(uuid=key).first()
    if patient is None:
        if actor is not None and actor.is_authenticated:
            audit_record(
                actor=actor,
                action=AuditAction.DENIED,
                object_type="patient",
                object_id=key,
                summary=f"Patient not found or not visible ({purpose})",
            )
        raise NotFound("No such patient, or the patient is not on your care team.")
    if actor is not None and actor.is_clinical and _emergency_only(actor=actor, patient=patient):
        purpose = f"EMERGENCY ACCESS (break the glass): {purpose}"
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type="patient",
        object_id=patient.uuid,
        patient=patient,
        summary=purpose,
    )
    return patient


def _emergency_only(*, actor: User, patient: Patient) -> bool:
    """The actor reaches this patient only through emergency access (not the care team)."""
    return not on_care_team(actor=actor, patient=patient) and (
        emergency_access_for(actor=actor, patient=patient) is not None
    )


def patient_duplicate_candidates(
    *,
    actor: User,
    given_name: str,
    family_name: str,
    date_of_birth: datetime.date | None,
    email: str = "",
    phones: tuple[str, ...] | list[str] = (),
    purpose: str = "before registering a patient",
    object_id: uuid.UUID | str = "",
) -> list[DuplicateCandidate]:
    """Likely duplicates of a person about to be registered (clinic/patients/duplicates.py),
    for those who register patients. The check is audited; a candidate the actor may not open
    is marked so, to be shown only by why it matched."""
    require(actor, Capability.PATIENT_CREATE)
    candidates = find_duplicates(
        actor=actor,
        given_name=given_name,
        family_name=family_name,
        date_of_birth=date_of_birth,
        email=email,
        phones=phones,
    )
    audit_record(
        actor=actor,
        action=AuditAction.SEARCH,
        object_type="patient",
        object_id=object_id,
        summary=f"Duplicate check {purpose}: {len(candidates)} possible",
    )
    return candidates


def emergency_access_for(*, actor: User, patient: Patient) -> EmergencyAccess | None:
    """The actor's emergency access (break the glass) to this patient still in effect, if any.
    Remembered on the patient for the request, so a chart's many checks cost one query."""
    cache: dict[int, EmergencyAccess | None] = patient.__dict__.setdefault(
        "_emergency_access_for", {}
    )
    if actor.pk not in cache:
        cache[actor.pk] = (
            EmergencyAccess.objects.in_effect()
            .filter(patient=patient, granted_to=actor)
            .order_by("-expires_at")
            .first()
            if actor.can("patient.emergency_access")
            else None
        )
    return cache[actor.pk]


def on_care_team(*, actor: User, patient: Patient) -> bool:
    """A member of the patient's care team itself (an emergency grant does not count here)."""
    return any(member.staff_id == actor.pk for member in patient.care_team_members.all())


def actor_on_care_team(*, actor: User, patient: Patient) -> bool:
    """On the patient's care team, or holding emergency access to the patient while it lasts:
    every clinical read and act for the care team honours a break-the-glass grant."""
    if on_care_team(actor=actor, patient=patient):
        return True
    return emergency_access_for(actor=actor, patient=patient) is not None


def can_view_clinical(*, actor: User, patient: Patient) -> bool:
    """Clinical data: clinic admins, and clinicians on this patient's care team (or with
    emergency access to the patient)."""
    if not actor.can("patient.view_clinical"):
        return False
    return actor.role == "clinic_admin" or actor_on_care_team(actor=actor, patient=patient)


def require_clinical_view(*, actor: User, patient: Patient, purpose: str) -> None:
    """Refuse (and audit the refusal of) clinical data to those outside the care team."""
    if can_view_clinical(actor=actor, patient=patient):
        return
    audit_record(
        actor=actor,
        action=AuditAction.DENIED,
        object_type="patient",
        object_id=patient.uuid,
        patient=patient,
        summary=f"Clinical data refused ({purpose})",
    )
    raise PermissionDenied("Clinical data is for the patient's care team.", audited=True)


def can_act_clinically(*, actor: User, patient: Patient, capability: str) -> bool:
    return actor.can(capability) and can_view_clinical(actor=actor, patient=patient)


def require_clinical_act(*, actor: User, patient: Patient, capability: str, message: str) -> None:
    """Refuse a clinical write by someone outside the care team (or without the role) before
    any of the patient's records is looked up: a refusal must not tell whether one exists."""
    if not can_act_clinically(actor=actor, patient=patient, capability=capability):
        raise PermissionDenied(message, capability=capability)


@dataclass(frozen=True)
class CurrentBody:
    weight_kg: Decimal | None
    weight_measured_on: datetime.date | None
    height_cm: Decimal | None
    height_measured_on: datetime.date | None

    @property
    def bmi_kg_m2(self) -> Decimal | None:
        return bmi_kg_m2(self.weight_kg, self.height_cm)


def current_body(*, measurements: list[BodyMeasurement]) -> CurrentBody:
    """The latest valid weight and the latest valid height, each with its date."""
    valid = [m for m in measurements if m.entered_in_error_at is None]
    weight = next((m for m in valid if m.weight_kg is not None), None)
    height = next((m for m in valid if m.height_cm is not None), None)
    return CurrentBody(
        weight_kg=weight.weight_kg if weight else None,
        weight_measured_on=weight.measured_on if weight else None,
        height_cm=height.height_cm if height else None,
        height_measured_on=height.measured_on if height else None,
    )


def body_measurement_list(*, actor: User, patient: Patient) -> list[BodyMeasurement]:
    if not can_view_clinical(actor=actor, patient=patient):
        return []
    return list(
        BodyMeasurement.objects.filter(patient=patient).select_related(
            "recorded_by", "entered_in_error_by"
        )
    )


def body_measurement_get(*, patient: Patient, measurement_uuid: uuid.UUID | str) -> BodyMeasurement:
    """One of this (already access-checked) patient's measurements."""
    measurement = BodyMeasurement.objects.filter(patient=patient, uuid=measurement_uuid).first()
    if measurement is None:
        raise NotFound()
    return measurement


def care_team_candidates(staff_role: str) -> QuerySet:
    """Active staff of one role, for choosing a care team."""
    return User.objects.filter(is_active=True, role=staff_role).order_by(
        "last_name", "first_name", "username"
    )


def chart_alerts(*, patient: Patient, body: CurrentBody | None) -> list[ChartAlert]:
    """Alerts for the chart header. `body` is None when the actor may not see clinical data.
    Later capabilities (suicidality, screening) add their alerts here."""
    alerts: list[ChartAlert] = []
    if not patient.is_active:
        alerts.append(ChartAlert("warning", "Inactive patient"))
    members = list(patient.care_team_members.all())
    if not any(m.team_role == "primary_prescriber" for m in members):
        alerts.append(ChartAlert("warning", "No primary prescriber on the care team"))
    if not patient.emergency_contact_name or not patient.emergency_contact_phone:
        alerts.append(ChartAlert("info", "No emergency contact on file"))
    if body is not None and body.weight_kg is None:
        alerts.append(ChartAlert("info", "No weight recorded (needed for weight-based dosing)"))
    return alerts


def body_measurements_for_dosing(*, patient: Patient) -> list[BodyMeasurement]:
    """The patient's weights and heights, newest first, entered-in-error ones included (the
    dosing rules skip them and say so). For a service that has already checked reach."""
    return list(BodyMeasurement.objects.filter(patient=patient))
