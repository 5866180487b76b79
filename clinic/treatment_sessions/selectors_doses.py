"""Every dose a patient received, for the FHIR MedicationAdministration search (issue 16): the
administrations recorded at the chair (IV, IM, each esketamine device), the infusions not yet
recorded as given (running, or stopped before any ran in), and the at-home doses the patient
logged, as one list, newest first, paged in the database. All are served together: a list of
chair-side doses alone would read as "nothing taken" for a patient on the at-home program, and
one without the running infusion as "nothing given yet" to a monitor at the chair side.
Actor-checked and audited like every clinical read.

An infusion is one dose from its start: its id is its session's UUID, running or done, so a
client that read it while it ran finds it again once it is recorded."""

from __future__ import annotations

import datetime

from django.core.paginator import Page, Paginator
from django.db.models import CharField, DateTimeField, Exists, OuterRef, Prefetch, Value
from django.db.models.functions import Cast

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import NotFound
from clinic.core.parsing import record_uuid as parse_record_uuid
from clinic.home_program.models import HomeSessionLog
from clinic.patients.models import Patient
from clinic.patients.selectors import can_view_clinical, record_in_reach, require_clinical_view
from clinic.screening.choices import Route
from clinic.treatment_sessions.choices import AdministrationKind
from clinic.treatment_sessions.models import DoseAdministration, InfusionEvent, TreatmentSession

# A recorded administration, an at-home dose, or an infusion's session before it is recorded.
Dose = DoseAdministration | HomeSessionLog | TreatmentSession

NOT_FOUND = "No such dose, or the patient is not in your reach."

_EVENTS = InfusionEvent.objects.order_by("occurred_at", "id")


def _administrations():
    """Chair-side doses with what a MedicationAdministration names: the session (its infusion
    events, its plan), the lot and product, and the nurse."""
    return DoseAdministration.objects.select_related(
        "session__patient",
        "session__planned_session__plan",
        "container__lot__product",
        "recorded_by",
    ).prefetch_related(Prefetch("session__infusion_events", queryset=_EVENTS))


def _unrecorded_infusions():
    """IV sessions whose infusion started and has no administration: still running, or stopped
    with nothing given (the whole draw wasted)."""
    recorded = DoseAdministration.objects.filter(
        session=OuterRef("pk"), kind=AdministrationKind.IV_INFUSION
    )
    return (
        TreatmentSession.objects.filter(route=Route.IV, dose_started_at__isnull=False)
        .exclude(Exists(recorded))
        .select_related(
            "patient", "planned_session__plan", "infusion_container__lot__product", "assigned_nurse"
        )
        .prefetch_related(Prefetch("infusion_events", queryset=_EVENTS))
    )


def _home_doses():
    return HomeSessionLog.objects.dosed().select_related("patient", "plan")


def _at(dose: Dose) -> datetime.datetime:
    """When a dose sorts: given, taken, or (not yet recorded) started."""
    if isinstance(dose, HomeSessionLog):
        assert dose.dose_taken_at is not None  # dosed() only
        return dose.dose_taken_at
    if isinstance(dose, TreatmentSession):
        assert dose.dose_started_at is not None
        return dose.dose_started_at
    return dose.given_at


def all_doses(patient: Patient) -> list[Dose]:
    """Every dose of the patient, oldest first, in three queries (and the infusions' events):
    for a whole-record export whose caller has already checked and audited the read
    (clinic/fhir/patient_record.py)."""
    doses: list[Dose] = [
        *_administrations().filter(session__patient=patient),
        *_unrecorded_infusions().filter(patient=patient),
        *_home_doses().filter(patient=patient),
    ]
    return sorted(doses, key=lambda dose: (_at(dose), dose.uuid))


def _keys(queryset, source: str, moment: str):
    return (
        queryset.order_by()
        .annotate(source=Value(source, output_field=CharField()), at=Cast(moment, DateTimeField()))
        .values_list("source", "pk", "at")
    )


def dose_page(
    *,
    actor: User,
    patient: Patient,
    given_after: datetime.datetime | None = None,
    given_before: datetime.datetime | None = None,
    updated_after: datetime.datetime | None = None,
    updated_before: datetime.datetime | None = None,
    page_number: int | str = 1,
    page_size: int = 20,
    purpose: str = "doses",
) -> Page:
    """One page of the patient's doses given in [given_after, given_before) (an infusion by
    when it stopped, one not yet recorded by when it started), newest first; with
    `updated_after`/`updated_before`, only those whose own record (the administration, the
    unrecorded infusion's session, the at-home log) last changed in that window."""
    require_clinical_view(actor=actor, patient=patient, purpose=purpose)
    at_chair = DoseAdministration.objects.filter(session__patient=patient)
    running = _unrecorded_infusions().filter(patient=patient)
    at_home = HomeSessionLog.objects.dosed().filter(patient=patient)
    if given_after is not None:
        at_chair = at_chair.filter(given_at__gte=given_after)
        running = running.filter(dose_started_at__gte=given_after)
        at_home = at_home.filter(dose_taken_at__gte=given_after)
    if given_before is not None:
        at_chair = at_chair.filter(given_at__lt=given_before)
        running = running.filter(dose_started_at__lt=given_before)
        at_home = at_home.filter(dose_taken_at__lt=given_before)
    if updated_after is not None:
        at_chair = at_chair.filter(updated_at__gte=updated_after)
        running = running.filter(updated_at__gte=updated_after)
        at_home = at_home.filter(updated_at__gte=updated_after)
    if updated_before is not None:
        at_chair = at_chair.filter(updated_at__lt=updated_before)
        running = running.filter(updated_at__lt=updated_before)
        at_home = at_home.filter(updated_at__lt=updated_before)
    keys = (
        _keys(at_chair, "chair", "given_at")
        .union(
            _keys(running, "infusion", "dose_started_at"),
            _keys(at_home, "home", "dose_taken_at"),
            all=True,
        )
        .order_by("-at", "-source", "-pk")
    )
    page = Paginator(keys, page_size).get_page(page_number)
    rows = list(page.object_list)

    def wanted(source: str) -> list[int]:
        return [pk for kind, pk, _ in rows if kind == source]

    found = {
        "chair": _administrations().in_bulk(wanted("chair")),
        "infusion": _unrecorded_infusions().in_bulk(wanted("infusion")),
        "home": _home_doses().in_bulk(wanted("home")),
    }
    doses: list[Dose] = [found[kind][pk] for kind, pk, _ in rows]
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="dose",
        patient=patient,
        summary=f"{len(doses)} of {page.paginator.count} doses ({purpose})",
    )
    return Page(doses, page.number, page.paginator)


def dose_in_reach(*, actor: User, dose_uuid: object, purpose: str) -> Dose:
    """One dose by its id, for a clinician who may see the patient's clinical record; otherwise
    not found, audited as a denial. A role that never sees clinical records is refused
    outright. The id is an at-home log's, an IM or esketamine administration's, or an IV
    session's for its infusion."""
    require(actor, Capability.PATIENT_VIEW_CLINICAL)
    try:
        key = parse_record_uuid(dose_uuid)
    except NotFound as error:
        raise NotFound(NOT_FOUND) from error
    if HomeSessionLog.objects.dosed().filter(uuid=key).exists():
        return record_in_reach(
            actor=actor,
            queryset=_home_doses(),
            record_uuid=key,
            object_type="home_session_log",
            patient_of=lambda log: log.patient,
            not_found_message=NOT_FOUND,
            in_reach=lambda log: can_view_clinical(actor=actor, patient=log.patient),
            view_summary=purpose,
        )
    recorded = DoseAdministration.objects.filter(
        session__uuid=key, kind=AdministrationKind.IV_INFUSION
    ).first()
    if recorded is not None:
        queryset, record_key = _administrations(), recorded.uuid
    elif _unrecorded_infusions().filter(uuid=key).exists():
        queryset, record_key = _unrecorded_infusions(), key
    else:  # an IM injection or an esketamine device, by its own id; an IV one is not found
        queryset = _administrations().exclude(kind=AdministrationKind.IV_INFUSION)
        record_key = key
    return record_in_reach(
        actor=actor,
        queryset=queryset,
        record_uuid=record_key,
        object_type="dose",
        patient_of=_patient_of,
        not_found_message=NOT_FOUND,
        in_reach=lambda dose: can_view_clinical(actor=actor, patient=_patient_of(dose)),
        view_summary=purpose,
    )


def _patient_of(dose: DoseAdministration | TreatmentSession) -> Patient:
    return dose.patient if isinstance(dose, TreatmentSession) else dose.session.patient
