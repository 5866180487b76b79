"""Reads of treatment sessions, each checked against the actor (role and care team) and
audited. A session the actor may not see answers like one that does not exist."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Case, Exists, OuterRef, Prefetch, QuerySet, Value, When
from django.utils import timezone

from clinic.accounts.choices import Role
from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.assessments.models import AssessmentResponse
from clinic.core.access import require
from clinic.core.api_pages import Keyset, KeysetPage, keyset_page
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import InvalidInput
from clinic.core.pages import Bounded, bounded, bounded_in_two_steps
from clinic.locations.models import Location
from clinic.patients.models import CareTeamMember, Patient
from clinic.patients.selectors import record_in_reach
from clinic.treatment_sessions.choices import FINISHED_PHASES, AlertSeverity, SessionScoreKind
from clinic.treatment_sessions.models import (
    DoseAdministration,
    PrescriberRequest,
    SessionAlert,
    SessionScore,
    TreatmentSession,
    TreatmentSessionQuerySet,
)


def session_queryset() -> QuerySet[TreatmentSession]:
    """A session with everything its page and rules read, in a fixed number of queries."""
    return TreatmentSession.objects.select_related(
        "patient",
        "appointment__chair__room__location",
        "appointment__nurse",
        "planned_session__plan",
        "checked_in_by",
        "discharged_by",
        "stopped_by",
        "nurse_note_by",
        "signed_by",
        "rems_submitted_by",
        "infusion_container__lot__product",
    ).prefetch_related(
        "vitals__recorded_by",
        "vitals__entered_in_error_by",
        "alerts__acknowledged_by",
        "overrides__prescriber",
        "infusion_events__recorded_by",
        Prefetch(
            "administrations",
            queryset=DoseAdministration.objects.select_related(
                "container__lot__product", "ledger_entry", "recorded_by"
            ),
        ),
        Prefetch(
            "scores",
            queryset=SessionScore.objects.select_related("response__recorded_by"),
        ),
        "side_effects__recorded_by",
        "side_effects__entered_in_error_by",
        "adverse_events__recorded_by",
        "adverse_events__entered_in_error_by",
        "addenda__author",
        "integration_notes__author",
        Prefetch(
            "prescriber_requests",
            queryset=PrescriberRequest.objects.select_related("requested_by", "closed_by"),
        ),
    )


def session_get(
    *, actor: User, session_uuid: uuid.UUID | str, audit: bool = True
) -> TreatmentSession:
    """A session of a patient on the actor's care team (clinical roles and the clinic
    administrator); otherwise NotFound, audited as denied. Reading follows the care team, which
    is the network's (a prescriber signs and answers for sessions at any location); charting on
    it is for staff who work at its location (services/_common.py `_locked`, and the page's
    `can_run`)."""
    require(actor, Capability.PATIENT_VIEW_CLINICAL)
    return record_in_reach(
        actor=actor,
        queryset=session_queryset(),
        record_uuid=session_uuid,
        object_type="treatment_session",
        patient_of=lambda found: found.patient,
        not_found_message="No such session, or the patient is not on your care team.",
        view_summary="Treatment session" if audit else None,
        denied_summary="Session not found or patient not visible",
    )


# --------------------------------------------------------------------------- what waits on whom
# The chair side's part of a clinician's in-basket (clinic/dashboard/inbasket.py). Each takes
# the actor, reaches only the care team's patients, and writes one LIST audit event; `audit`
# is off only for counts, which carry no patient information.


def _reachable_sessions(actor: User) -> TreatmentSessionQuerySet:
    return TreatmentSession.objects.filter(patient_id__in=Patient.objects.ids_visible_to(actor))


def _waiting_for(actor: User) -> QuerySet[PrescriberRequest]:
    """The open requests that wait on `actor`: those of the care team's patients; for a clinic
    administrator, those no prescriber can answer (no active prescriber on the care team)."""
    requests = PrescriberRequest.objects.waiting()
    if actor.role == Role.CLINIC_ADMIN:
        has_prescriber = CareTeamMember.objects.filter(
            patient=OuterRef("session__patient"),
            staff__role=Role.PRESCRIBER,
            staff__is_active=True,
        )
        return requests.filter(~Exists(has_prescriber))
    return requests.filter(session__in=_reachable_sessions(actor))


def prescriber_requests_waiting(
    *, actor: User, audit: bool = True, size: int | None = None, ids_only: bool = False
) -> Bounded[PrescriberRequest]:
    """Open requests on sessions of the actor's patients, oldest first: the first `size`
    (SECTION_SIZE) and how many in all. A clinic administrator sees those no prescriber can
    answer: the patient's care team has no active prescriber. `ids_only` (the top bar's count)
    reads each request's id alone, without joins."""
    require(actor, Capability.PATIENT_VIEW_CLINICAL)
    requests = _waiting_for(actor)
    if ids_only:
        requests = requests.only("id")
    requests = requests.order_by("created_at", "id")
    if ids_only:
        found = bounded(requests, size=size)
    else:
        found = bounded_in_two_steps(
            requests,
            rows=lambda rows: rows.select_related(
                "session__patient",
                "session__appointment__chair__room",
                "session__assigned_nurse",
                "requested_by",
            ),
            size=size,
        )
    if audit:
        audit_record(
            actor=actor,
            action=AuditAction.LIST,
            object_type="prescriber_request",
            summary=f"In-basket: {found.total} request(s) waiting for a prescriber",
        )
    return found


def session_alerts_open(
    *, actor: User, audit: bool = True, size: int | None = None, ids_only: bool = False
) -> Bounded[SessionAlert]:
    """Unacknowledged vitals alerts of the actor's patients' open sessions, critical first,
    then oldest first: the first `size` (SECTION_SIZE) and how many in all. `ids_only` (the top
    bar's count) reads each alert's id alone, without joins."""
    require(actor, Capability.SESSION_RUN)
    critical_first = Case(When(severity=AlertSeverity.CRITICAL, then=Value(0)), default=Value(1))
    alerts = SessionAlert.objects.unacknowledged().filter(
        session__in=_reachable_sessions(actor).open()
    )
    alerts = alerts.order_by(critical_first, "created_at", "id")
    if ids_only:
        found = bounded(alerts.only("id"), size=size)
    else:
        found = bounded_in_two_steps(
            alerts,
            rows=lambda rows: rows.select_related(
                "session__patient", "session__appointment__chair__room", "vitals"
            ),
            size=size,
        )
    if audit:
        audit_record(
            actor=actor,
            action=AuditAction.LIST,
            object_type="session_alert",
            summary=f"In-basket: {found.total} open chair-side alert(s)",
        )
    return found


def sessions_awaiting_signature(
    *, actor: User, audit: bool = True, size: int | None = None
) -> Bounded[TreatmentSession]:
    """Sessions of the actor's patients that have ended and wait for a prescriber's signature,
    oldest first: the first `size` (SECTION_SIZE) and how many in all."""
    require(actor, Capability.SESSION_SIGN)
    found = bounded_in_two_steps(
        _reachable_sessions(actor)
        .filter(phase__in=FINISHED_PHASES, signed_at__isnull=True)
        .order_by("checked_in_at", "id"),
        rows=lambda rows: rows.select_related("patient", "appointment__chair__room"),
        size=size,
    )
    if audit:
        audit_record(
            actor=actor,
            action=AuditAction.LIST,
            object_type="treatment_session",
            summary=f"In-basket: {found.total} session(s) awaiting signature",
        )
    return found


def sessions_of_scores(*, responses: Sequence[AssessmentResponse]) -> dict[int, uuid.UUID]:
    """The session each in-session scale among these responses (MOAA/S, CADSS, modified
    Aldrete) was rated in, by response id: one query, none when there is no such scale. The
    responses were read, checked and audited by their own selector (the FHIR Observations)."""
    rated = [r.pk for r in responses if r.instrument_code in SessionScoreKind.values]
    if not rated:
        return {}
    return dict(
        SessionScore.objects.filter(response_id__in=rated).values_list(
            "response_id", "session__uuid"
        )
    )


# --------------------------------------------------------------------------- the API's lists
# Cursor-paged (core/api_pages.py): a fixed order ending in the record's UUID.

SESSION_ORDER = Keyset(("checked_in_at",))
# Critical first ("critical" sorts after "alert"), then oldest first, as the in-basket.
SESSION_ALERT_ORDER = Keyset(("-severity", "created_at"))


@dataclass(frozen=True)
class SessionDayPage:
    """One page of a day's sessions, and which of their patients the actor may open (the
    others are shown without who they are, as the day list shows "Booked")."""

    page: KeysetPage[TreatmentSession]
    visible_patient_ids: set[int]


def session_day_page(
    *,
    actor: User,
    day: datetime.date,
    location: Location | None,
    after: list | None,
    limit: int,
    open_only: bool = False,
) -> SessionDayPage:
    """The sessions checked in on `day` (the clinic's time zone, or the one in effect) at
    `location` (every location when None: the caller checked the actor sees the network), in
    check-in order, a page at a time. For those who run the floor (session.board), as the
    day list; audited as it is."""
    require(actor, Capability.SESSION_BOARD)
    try:
        start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
        end = timezone.make_aware(
            datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
        )
    except (OverflowError, ValueError) as error:
        raise InvalidInput({"date": ["Enter a day of the clinic's calendar."]}) from error
    sessions = TreatmentSession.objects.filter(
        checked_in_at__gte=start, checked_in_at__lt=end
    ).select_related("patient", "appointment__chair__room__location", "assigned_nurse")
    if location is not None:
        sessions = sessions.filter(appointment__chair__room__location=location)
    if open_only:
        sessions = sessions.open()
    page = keyset_page(sessions, keyset=SESSION_ORDER, after=after, limit=limit)
    patient_ids = {s.patient_id for s in page.items}
    visible = (
        set(
            Patient.objects.visible_to(actor)
            .filter(pk__in=patient_ids)
            .values_list("pk", flat=True)
        )
        if patient_ids
        else set()
    )
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="treatment_session",
        summary=(
            f"Session day of {day:%Y-%m-%d} (API): {len(page.items)} session(s)"
            + (f" at {location.code}" if location else " at every location")
        ),
    )
    return SessionDayPage(page=page, visible_patient_ids=visible)


def session_alert_page(*, actor: User, after: list | None, limit: int) -> KeysetPage[SessionAlert]:
    """The open chair-side alerts of the in-basket (`session_alerts_open`: unacknowledged, of
    the actor's patients' open sessions), critical first then oldest, a page at a time;
    audited as the in-basket is."""
    require(actor, Capability.SESSION_RUN)
    alerts = (
        SessionAlert.objects.unacknowledged()
        .filter(session__in=_reachable_sessions(actor).open())
        .select_related("session__patient", "session__appointment__chair__room__location", "vitals")
    )
    page = keyset_page(alerts, keyset=SESSION_ALERT_ORDER, after=after, limit=limit)
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="session_alert",
        summary=f"Open chair-side alerts (API): {len(page.items)} on this page",
    )
    return page


REQUEST_ORDER = Keyset(("created_at",))


def prescriber_request_page(
    *, actor: User, after: list | None, limit: int
) -> KeysetPage[PrescriberRequest]:
    """The in-basket's requests (`prescriber_requests_waiting`: open, of the actor's patients;
    for a clinic administrator those no prescriber can answer), oldest first, a page at a
    time; audited as the in-basket is."""
    require(actor, Capability.PATIENT_VIEW_CLINICAL)
    requests = _waiting_for(actor).select_related(
        "session__patient",
        "session__appointment__chair__room__location",
        "requested_by",
        "closed_by",
    )
    page = keyset_page(requests, keyset=REQUEST_ORDER, after=after, limit=limit)
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="prescriber_request",
        summary=f"Requests waiting for a prescriber (API): {len(page.items)} on this page",
    )
    return page


def prescriber_request_get(
    *, actor: User, request_uuid: uuid.UUID | str, audit: bool = True
) -> PrescriberRequest:
    """One request on a session of a patient the actor reaches (open or closed); otherwise
    NotFound, audited as denied, as the session itself (the read is audited unless `audit` is
    off: a write's answer, the write being audited)."""
    require(actor, Capability.PATIENT_VIEW_CLINICAL)
    return record_in_reach(
        actor=actor,
        queryset=PrescriberRequest.objects.select_related(
            "session__patient",
            "session__appointment__chair__room__location",
            "requested_by",
            "closed_by",
        ),
        record_uuid=request_uuid,
        object_type="prescriber_request",
        patient_of=lambda found: found.session.patient,
        not_found_message="No such request, or the patient is not on your care team.",
        view_summary="Prescriber request" if audit else None,
        denied_summary="Prescriber request not found or patient not visible",
    )
