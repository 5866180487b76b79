"""A patient's sessions and vital signs over time, for the FHIR searches (issue 16): the
sessions themselves (Encounter), and the chair-side readings of their sessions with the weights
and heights of their chart (Observation), newest first, paged in the database. Actor-checked
and audited like every clinical read."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import CharField, DateTimeField, Value
from django.db.models.functions import Cast
from django.utils import timezone

from clinic.accounts.models import User
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.patients.models import BodyMeasurement, Patient
from clinic.patients.selectors import can_view_clinical, record_in_reach, require_clinical_view
from clinic.treatment_sessions.models import TreatmentSession, VitalsEntry

ONE_DAY = datetime.timedelta(days=1)


@dataclass
class VitalSignsPage:
    readings: list[VitalsEntry | BodyMeasurement]  # newest first
    number: int
    has_next: bool
    has_previous: bool
    count: int


def _days(
    after: datetime.datetime | None, before: datetime.datetime | None
) -> tuple[datetime.date | None, datetime.date | None]:
    """The measured-on days (whole days in the clinic's time zone) that overlap
    [after, before): the first such day, and the first day past them."""
    first = timezone.localtime(after).date() if after is not None else None
    past = None
    if before is not None:
        local = timezone.localtime(before)
        past = local.date() if local.time() == datetime.time() else local.date() + ONE_DAY
    return first, past


def vital_signs_page(
    *,
    actor: User,
    patient: Patient,
    taken_after: datetime.datetime | None = None,
    taken_before: datetime.datetime | None = None,
    updated_after: datetime.datetime | None = None,
    updated_before: datetime.datetime | None = None,
    page_number: int | str = 1,
    page_size: int = 20,
    purpose: str = "vital signs",
) -> VitalSignsPage:
    """One page of the patient's valid vitals readings and body measurements in
    [taken_after, taken_before), newest first (a measurement sorts by the start of its day).
    Readings and measurements marked entered in error are left out. `updated_after` and
    `updated_before` narrow to records last changed in [updated_after, updated_before)."""
    require_clinical_view(actor=actor, patient=patient, purpose=purpose)
    vitals = VitalsEntry.objects.filter(session__patient=patient, entered_in_error_at__isnull=True)
    if taken_after is not None:
        vitals = vitals.filter(taken_at__gte=taken_after)
    if taken_before is not None:
        vitals = vitals.filter(taken_at__lt=taken_before)
    measurements = BodyMeasurement.objects.valid().filter(patient=patient)
    if updated_after is not None:
        vitals = vitals.filter(updated_at__gte=updated_after)
        measurements = measurements.filter(updated_at__gte=updated_after)
    if updated_before is not None:
        vitals = vitals.filter(updated_at__lt=updated_before)
        measurements = measurements.filter(updated_at__lt=updated_before)
    first_day, past_day = _days(taken_after, taken_before)
    if first_day is not None:
        measurements = measurements.filter(measured_on__gte=first_day)
    if past_day is not None:
        measurements = measurements.filter(measured_on__lt=past_day)
    # Each side unordered (SQLite refuses an ORDER BY inside a compound statement); the union
    # is ordered as a whole.
    rows = (
        vitals.order_by()
        .annotate(
            kind=Value("vitals", output_field=CharField()),
            at=Cast("taken_at", DateTimeField()),
        )
        .values_list("kind", "pk", "at")
    )
    rows = rows.union(
        measurements.order_by()
        .annotate(
            kind=Value("body", output_field=CharField()),
            at=Cast("measured_on", DateTimeField()),
        )
        .values_list("kind", "pk", "at"),
        all=True,
    ).order_by("-at", "-pk")
    page = Paginator(rows, page_size).get_page(page_number)
    keys = list(page.object_list)
    by_kind: dict[str, Mapping[int, VitalsEntry | BodyMeasurement]] = {
        # With its session: each reading's Observations name their Encounter.
        "vitals": VitalsEntry.objects.select_related("session").in_bulk(
            [pk for kind, pk, _ in keys if kind == "vitals"]
        ),
        "body": BodyMeasurement.objects.in_bulk([pk for kind, pk, _ in keys if kind == "body"]),
    }
    readings = [by_kind[kind][pk] for kind, pk, _ in keys]
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="vitals",
        patient=patient,
        summary=f"{len(readings)} of {page.paginator.count} vital-sign readings ({purpose})",
    )
    return VitalSignsPage(
        readings=readings,
        number=page.number,
        has_next=page.has_next(),
        has_previous=page.has_previous(),
        count=page.paginator.count,
    )


def session_page(
    *,
    actor: User,
    patient: Patient,
    started_after: datetime.datetime | None = None,
    started_before: datetime.datetime | None = None,
    updated_after: datetime.datetime | None = None,
    updated_before: datetime.datetime | None = None,
    page_number: int | str = 1,
    page_size: int = 20,
    purpose: str = "treatment sessions",
) -> Page:
    """One page of the patient's treatment sessions checked in within
    [started_after, started_before) and last changed in [updated_after, updated_before), newest
    first, with the assigned nurse."""
    require_clinical_view(actor=actor, patient=patient, purpose=purpose)
    sessions = TreatmentSession.objects.filter(patient=patient)
    if started_after is not None:
        sessions = sessions.filter(checked_in_at__gte=started_after)
    if started_before is not None:
        sessions = sessions.filter(checked_in_at__lt=started_before)
    if updated_after is not None:
        sessions = sessions.filter(updated_at__gte=updated_after)
    if updated_before is not None:
        sessions = sessions.filter(updated_at__lt=updated_before)
    page = Paginator(
        sessions.select_related("assigned_nurse").order_by("-checked_in_at", "-id"), page_size
    ).get_page(page_number)
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="treatment_session",
        patient=patient,
        summary=f"{len(page.object_list)} of {page.paginator.count} sessions ({purpose})",
    )
    return page


def vitals_reading_get(*, actor: User, reading_uuid: object, purpose: str) -> VitalsEntry:
    """One chair-side reading by its UUID, for a clinician who may see the patient's clinical
    record; otherwise not found, audited as a denial."""
    return record_in_reach(
        actor=actor,
        queryset=VitalsEntry.objects.select_related("session__patient"),
        record_uuid=reading_uuid,
        object_type="vitals",
        patient_of=lambda reading: reading.session.patient,
        not_found_message="No such reading, or the patient is not in your reach.",
        in_reach=lambda reading: can_view_clinical(actor=actor, patient=reading.session.patient),
        view_summary=purpose,
    )


def body_measurement_in_reach(
    *, actor: User, measurement_uuid: object, purpose: str
) -> BodyMeasurement:
    """One weight or height entry by its UUID, on the same terms as a reading."""
    return record_in_reach(
        actor=actor,
        queryset=BodyMeasurement.objects.select_related("patient"),
        record_uuid=measurement_uuid,
        object_type="body_measurement",
        patient_of=lambda measurement: measurement.patient,
        not_found_message="No such measurement, or the patient is not in your reach.",
        in_reach=lambda measurement: can_view_clinical(actor=actor, patient=measurement.patient),
        view_summary=purpose,
    )


def sessions_named(
    *, actor: User, patient: Patient, session_uuids: Collection[str], purpose: str
) -> list[TreatmentSession]:
    """The patient's sessions among these UUIDs (those the patient's Observations name, for a
    FHIR `_include`), with the assigned nurse, in one query and one audit event; anything not
    a UUID or not this patient's session is left out."""
    require_clinical_view(actor=actor, patient=patient, purpose=purpose)
    keys = {key for key in map(_uuid_or_none, session_uuids) if key is not None}
    if not keys:
        return []
    found = list(
        TreatmentSession.objects.filter(patient=patient, uuid__in=keys)
        .select_related("assigned_nurse")
        .order_by("-checked_in_at", "-id")
    )
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="treatment_session",
        patient=patient,
        summary=f"{len(found)} sessions ({purpose})"[:300],
    )
    return found


def _uuid_or_none(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None
