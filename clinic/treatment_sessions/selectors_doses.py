"""Every dose a patient received, for the FHIR MedicationAdministration search (issue 16): the
administrations recorded at the chair (IV, IM, each esketamine device) and the at-home doses
the patient logged, as one list, newest first, paged in the database. Both kinds are served
together: a list of chair-side doses alone would read as "nothing taken" for a patient on the
at-home program. Actor-checked and audited like every clinical read."""

from __future__ import annotations

import datetime

from django.core.paginator import Page, Paginator
from django.db.models import CharField, DateTimeField, Prefetch, Value
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
from clinic.treatment_sessions.models import DoseAdministration, InfusionEvent

Dose = DoseAdministration | HomeSessionLog

NOT_FOUND = "No such dose, or the patient is not in your reach."


def _administrations():
    """Chair-side doses with what a MedicationAdministration names: the session (its infusion
    events, its plan), the lot and product, and the nurse."""
    return DoseAdministration.objects.select_related(
        "session__patient",
        "session__planned_session__plan",
        "container__lot__product",
        "recorded_by",
    ).prefetch_related(
        Prefetch("session__infusion_events", queryset=InfusionEvent.objects.order_by("occurred_at"))
    )


def _home_doses():
    return HomeSessionLog.objects.dosed().select_related("patient", "plan")


def all_doses(patient: Patient) -> list[Dose]:
    """Every dose of the patient, oldest first, in two queries (and the infusions' events in a
    third): for a whole-record export whose caller has already checked and audited the read
    (clinic/fhir/patient_record.py)."""
    doses: list[Dose] = [
        *_administrations().filter(session__patient=patient),
        *_home_doses().filter(patient=patient),
    ]
    return sorted(doses, key=lambda dose: (_given_at(dose), dose.uuid))


def _given_at(dose: Dose) -> datetime.datetime:
    if isinstance(dose, HomeSessionLog):
        assert dose.dose_taken_at is not None  # dosed() only
        return dose.dose_taken_at
    return dose.given_at


def dose_page(
    *,
    actor: User,
    patient: Patient,
    given_after: datetime.datetime | None = None,
    given_before: datetime.datetime | None = None,
    page_number: int | str = 1,
    page_size: int = 20,
    purpose: str = "doses",
) -> Page:
    """One page of the patient's doses given in [given_after, given_before) (an infusion by
    when it stopped), newest first: DoseAdministration and dosed HomeSessionLog records."""
    require_clinical_view(actor=actor, patient=patient, purpose=purpose)
    at_chair = DoseAdministration.objects.filter(session__patient=patient)
    at_home = HomeSessionLog.objects.dosed().filter(patient=patient)
    if given_after is not None:
        at_chair = at_chair.filter(given_at__gte=given_after)
        at_home = at_home.filter(dose_taken_at__gte=given_after)
    if given_before is not None:
        at_chair = at_chair.filter(given_at__lt=given_before)
        at_home = at_home.filter(dose_taken_at__lt=given_before)
    keys = (
        at_chair.order_by()
        .annotate(
            source=Value("chair", output_field=CharField()), at=Cast("given_at", DateTimeField())
        )
        .values_list("source", "pk", "at")
        .union(
            at_home.order_by()
            .annotate(
                source=Value("home", output_field=CharField()),
                at=Cast("dose_taken_at", DateTimeField()),
            )
            .values_list("source", "pk", "at"),
            all=True,
        )
        .order_by("-at", "-source", "-pk")
    )
    page = Paginator(keys, page_size).get_page(page_number)
    rows = list(page.object_list)
    chair = _administrations().in_bulk([pk for kind, pk, _ in rows if kind == "chair"])
    home = _home_doses().in_bulk([pk for kind, pk, _ in rows if kind == "home"])
    doses: list[Dose] = [chair[pk] if kind == "chair" else home[pk] for kind, pk, _ in rows]
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="dose",
        patient=patient,
        summary=f"{len(doses)} of {page.paginator.count} doses ({purpose})",
    )
    return Page(doses, page.number, page.paginator)


def dose_in_reach(*, actor: User, dose_uuid: object, purpose: str) -> Dose:
    """One dose by its UUID, chair-side or at home, for a clinician who may see the patient's
    clinical record; otherwise not found, audited as a denial. A role that never sees clinical
    records is refused outright."""
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
    return record_in_reach(
        actor=actor,
        queryset=_administrations(),
        record_uuid=key,
        object_type="dose",
        patient_of=lambda dose: dose.session.patient,
        not_found_message=NOT_FOUND,
        in_reach=lambda dose: can_view_clinical(actor=actor, patient=dose.session.patient),
        view_summary=purpose,
    )
