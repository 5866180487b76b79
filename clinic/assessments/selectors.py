"""Reads for measurement-based care: actor-checked and audited like every patient read."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.assessments.choices import AlertStatus, ResponseSource, Timepoint
from clinic.assessments.instruments import REGISTRY
from clinic.assessments.instruments.base import Answer, Instrument, Item
from clinic.assessments.models import (
    AlertFollowUp,
    AssessmentResponse,
    SuicidalityAlert,
)
from clinic.assessments.policy import schedule_policy
from clinic.assessments.schedule import (
    DueAssessment,
    SessionBounds,
    Witnesses,
    due_assessments,
    facts_from_witnesses,
    witnesses_wanted,
)
from clinic.core.access import require
from clinic.core.api_pages import Keyset, KeysetPage, keyset_page
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.dates import CLOCK_SKEW, EARLIEST_EVENT_AT
from clinic.core.exceptions import NotFound
from clinic.core.pages import Bounded, bounded, bounded_in_two_steps
from clinic.patients.models import CareTeamMember, Patient
from clinic.patients.selectors import can_view_clinical, record_in_reach, require_clinical_view


def response_list(
    *, actor: User, patient: Patient, purpose: str = "assessments"
) -> list[AssessmentResponse]:
    require_clinical_view(actor=actor, patient=patient, purpose=purpose)
    responses = list(
        AssessmentResponse.objects.filter(patient=patient).select_related(
            "recorded_by", "entered_in_error_by"
        )
    )
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="assessment_response",
        patient=patient,
        summary=f"{len(responses)} assessment responses ({purpose})",
    )
    return responses


def response_page(
    *,
    actor: User,
    patient: Patient,
    instruments: Sequence[str],
    taken_after: datetime.datetime | None = None,
    taken_before: datetime.datetime | None = None,
    updated_after: datetime.datetime | None = None,
    updated_before: datetime.datetime | None = None,
    page_number: int | str = 1,
    page_size: int = 20,
    purpose: str = "assessments",
    answered_only: bool = False,
) -> Page:
    """One page of the patient's valid responses to these instruments, newest first, taken in
    [taken_after, taken_before) when given: the FHIR Observation search. Responses marked
    entered in error are left out, so a withdrawn score is never read as a score. With
    `updated_after`/`updated_before`, only responses last changed in that window."""
    require_clinical_view(actor=actor, patient=patient, purpose=purpose)
    responses = AssessmentResponse.objects.valid().filter(
        patient=patient, instrument_code__in=list(instruments)
    )
    if taken_after is not None:
        responses = responses.filter(taken_at__gte=taken_after)
    if taken_before is not None:
        responses = responses.filter(taken_at__lt=taken_before)
    if updated_after is not None:
        responses = responses.filter(updated_at__gte=updated_after)
    if updated_before is not None:
        responses = responses.filter(updated_at__lt=updated_before)
    if answered_only:
        # Item answers were given here: not a total imported from a previous system.
        responses = responses.exclude(source=ResponseSource.IMPORTED)
    page = Paginator(responses.order_by("-taken_at", "-id"), page_size).get_page(page_number)
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="assessment_response",
        patient=patient,
        summary=(
            f"{len(page.object_list)} of {page.paginator.count} assessment responses ({purpose})"
        )[:300],
    )
    return page


def response_get(
    *, actor: User, patient: Patient, response_uuid: uuid.UUID | str
) -> AssessmentResponse:
    require_clinical_view(actor=actor, patient=patient, purpose="assessment")
    response = (
        AssessmentResponse.objects.filter(patient=patient, uuid=response_uuid)
        .select_related("recorded_by", "entered_in_error_by")
        .first()
    )
    if response is None:
        raise NotFound()
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type="assessment_response",
        object_id=response.uuid,
        patient=patient,
    )
    return response


def response_in_reach(*, actor: User, response_uuid: object, purpose: str) -> AssessmentResponse:
    """Any patient's response by its UUID, for a clinician who may see that patient's clinical
    record (the FHIR Observation read); otherwise not found, audited as a denial."""
    return record_in_reach(
        actor=actor,
        queryset=AssessmentResponse.objects.select_related("patient"),
        record_uuid=response_uuid,
        object_type="assessment_response",
        patient_of=lambda response: response.patient,
        not_found_message="No such assessment response, or the patient is not in your reach.",
        # The care team's clinicians (or an emergency grant) and the clinic administrator.
        in_reach=lambda response: can_view_clinical(actor=actor, patient=response.patient),
        view_summary=purpose,
    )


def alerts_by_response(*, responses: list[AssessmentResponse]) -> dict[int, list[SuicidalityAlert]]:
    """The alerts of many responses in one query."""
    grouped: dict[int, list[SuicidalityAlert]] = {}
    for alert in SuicidalityAlert.objects.filter(response__in=[r.pk for r in responses]):
        grouped.setdefault(alert.response_id, []).append(alert)
    return grouped


def follow_ups_by_response(
    *, responses: list[AssessmentResponse]
) -> dict[int, list[AlertFollowUp]]:
    """The follow-ups (with their alerts) of many responses, in one query."""
    grouped: dict[int, list[AlertFollowUp]] = {}
    for follow_up in AlertFollowUp.objects.filter(
        response__in=[r.pk for r in responses]
    ).select_related("alert"):
        grouped.setdefault(follow_up.response_id, []).append(follow_up)
    return grouped


def result_words(response: AssessmentResponse) -> str:
    """A response's result in a few words: the total with its band, or the C-SSRS risk."""
    instrument = REGISTRY.get(response.instrument_code)
    if instrument is None:
        return ""
    if not response.complete:
        return "incomplete: not scored (some questions not answered)"
    if instrument.total_range is None:
        return f"risk: {response.severity}" if response.severity else ""
    band = instrument.band_for(response.total)
    words = f"total {response.total} of {instrument.total_range[1]}"
    return f"{words}, {band.label.lower()}" if band else words


@dataclass(frozen=True)
class AlertAnswers:
    """One response behind an alert: the one that raised it, or a follow-up, in order."""

    response: AssessmentResponse
    instrument_name: str
    result: str
    trigger: str  # what was positive, in words
    # Every answer, for a screener read question by question (the C-SSRS); "" for a scale
    # with a total, whose answers are one link away.
    answers_text: str
    follow_up: bool
    escalated: bool  # these answers raised the alert's level


def answer_words(instrument: Instrument, answers: Sequence[Answer], item: Item) -> str:
    """One answer in words: the option chosen, "skipped" for a question the screener's
    branching did not ask (never "no"), or "not answered"."""
    value = answers[item.number - 1] if item.number <= len(answers) else None
    if value is not None:
        return next((o.label for o in item.options if o.value == value), str(value))
    if item.asked_when is not None:
        gate, asked_on = item.asked_when
        gate_value = answers[gate - 1] if gate <= len(answers) else None
        if gate_value is not None and gate_value != asked_on:
            gate_item = instrument.items[gate - 1]
            word = next((o.label for o in gate_item.options if o.value == asked_on), asked_on)
            return f"skipped (asked only after a {word} to question {gate})"
    return "not answered"


def _answers_text(instrument: Instrument | None, answers: Sequence[Answer]) -> str:
    if instrument is None or instrument.total_range is not None:
        return ""
    return " · ".join(
        f"{item.short_label or f'Item {item.number}'}: {answer_words(instrument, answers, item)}"
        for item in instrument.items
    )


def alert_answers(alert: SuicidalityAlert) -> list[AlertAnswers]:
    """Every response behind the alert, oldest first: the one that raised it, then each
    follow-up. One query (the raising response comes with the alert)."""

    def row(response: AssessmentResponse, trigger: str, follow_up: bool) -> AlertAnswers:
        instrument = REGISTRY.get(response.instrument_code)
        return AlertAnswers(
            response=response,
            instrument_name=instrument.name if instrument else response.instrument_code,
            result=result_words(response),
            trigger=trigger,
            answers_text=_answers_text(instrument, response.answers),
            follow_up=follow_up,
            escalated=response.pk == alert.escalated_by_response_id,
        )

    rows = [row(alert.response, alert.trigger, False)]
    prefetched = "follow_ups" in getattr(alert, "_prefetched_objects_cache", {})
    follow_ups = (
        alert.follow_ups.all() if prefetched else alert.follow_ups.select_related("response")
    )
    for follow_up in follow_ups:
        rows.append(row(follow_up.response, follow_up.trigger, True))
    return rows


# Annotates patients with `first_session_at` and `next_session_at` (their first in-clinic
# session, and the next one after `now`). The sessions are scheduling's, which sits above this
# app: a caller from above passes its annotator in (scheduling.selectors.in_clinic_session_bounds).
SessionBoundsAnnotator = Callable[[QuerySet[Patient], datetime.datetime], QuerySet[Patient]]


def _witness(responses: QuerySet, *, last: bool = False) -> Subquery:
    order = "-taken_at" if last else "taken_at"
    return Subquery(responses.order_by(order).values("taken_at")[:1])


def _due_by_patient_id(
    *,
    patients: QuerySet[Patient],
    now: datetime.datetime,
    session_bounds: SessionBoundsAnnotator,
) -> dict[int, list[DueAssessment]]:
    """What each patient owes now (patients who owe nothing left out), by patient id, from the
    clinic's schedule and their in-clinic sessions, in one query: per patient its two session
    bounds and, per instrument the schedule asks for, the three responses that witness its
    windows (schedule.py, "the history that counts"), not years of history. The query returns
    those dates alone, not patient rows: most of a care team owes nothing on a given day, and
    building a row per patient cost more than the query. Responses dated outside the
    plausible era count for no window."""
    policy = schedule_policy()
    wanted = witnesses_wanted(policy)
    opens_after = datetime.timedelta(hours=policy.after_first_session_window_hours[0])
    witnesses: dict[str, Subquery] = {}
    for index, code in enumerate(wanted.instruments):
        responses = AssessmentResponse.objects.valid().filter(
            patient_id=OuterRef("pk"),
            instrument_code=code,
            taken_at__gte=EARLIEST_EVENT_AT,
            taken_at__lte=now + CLOCK_SKEW,
        )
        if code in wanted.first:
            witnesses[f"w{index}_first"] = _witness(responses)
        if code in wanted.first_after_next_day_opens:
            witnesses[f"w{index}_after_opens"] = _witness(
                responses.filter(taken_at__gte=OuterRef("first_session_at") + opens_after)
            )
        if code in wanted.last_before_next_session:
            witnesses[f"w{index}_before_next"] = _witness(
                responses.filter(taken_at__lte=OuterRef("next_session_at")), last=True
            )
    rows = (
        session_bounds(patients.order_by(), now)
        .annotate(**witnesses)
        .values("pk", "first_session_at", "next_session_at", *witnesses)
    )
    result = {}
    for row in rows:
        bounds = SessionBounds(first=row["first_session_at"], next_after_now=row["next_session_at"])
        found = {
            code: Witnesses(
                first=row.get(f"w{index}_first"),
                first_after_next_day_opens=row.get(f"w{index}_after_opens"),
                last_before_next_session=row.get(f"w{index}_before_next"),
            )
            for index, code in enumerate(wanted.instruments)
        }
        items = due_assessments(facts_from_witnesses(found, bounds), now, policy)
        if items:
            result[row["pk"]] = items
    return result


def due_for_patients(
    *,
    patients: QuerySet[Patient],
    now: datetime.datetime,
    session_bounds: SessionBoundsAnnotator,
) -> dict[Patient, list[DueAssessment]]:
    """What each patient owes now, for the patients who owe something (by name): two queries,
    the schedule's dates for all of `patients` and the rows of those who owe."""
    due = _due_by_patient_id(patients=patients, now=now, session_bounds=session_bounds)
    if not due:
        return {}
    return {patient: due[patient.pk] for patient in Patient.objects.filter(pk__in=list(due))}


def due_list(
    *, actor: User, now: datetime.datetime, session_bounds: SessionBoundsAnnotator
) -> list[tuple[Patient, DueAssessment, str]]:
    """Assessments due or overdue for the patients on this clinician's care team, overdue
    first, then by last name."""
    patients = Patient.objects.active().filter(care_team_members__staff=actor)
    rows = [
        (patient, item, Timepoint(item.timepoint).label)
        for patient, items in due_for_patients(
            patients=patients, now=now, session_bounds=session_bounds
        ).items()
        for item in items
    ]
    rows.sort(key=lambda row: (not row[1].overdue, row[0].legal_family_name))
    return rows


def unresolved_alerts_for_patient(*, patient: Patient) -> list[SuicidalityAlert]:
    return list(
        SuicidalityAlert.objects.filter(patient=patient).unresolved().select_related("response")
    )


def _waiting_for(actor: User, alerts: QuerySet[SuicidalityAlert]) -> QuerySet | None:
    """Of `alerts`, those waiting for this clinician (`alert_inbox`); None for a role that has
    no alert inbox."""
    if actor.role == "clinic_admin":
        return alerts
    if not actor.is_clinical:
        return None
    # Only patients whose chart the clinician still reaches: an alert assigned to a
    # prescriber who has since left the care team would open on "no such alert". Such an
    # alert goes to the team's prescribers, as one raised with no primary prescriber.
    assignee_on_team = Exists(
        CareTeamMember.objects.filter(
            patient_id=OuterRef("patient_id"), staff_id=OuterRef("assigned_to_id")
        )
    )
    return (
        alerts.annotate(assignee_on_team=assignee_on_team)
        .filter(
            Q(assigned_to=actor)
            | Q(
                assignee_on_team=False,
                patient__care_team_members__team_role__in=["primary_prescriber", "prescriber"],
            ),
            patient__care_team_members__staff=actor,
        )
        .distinct()
    )


def alert_inbox(
    *, actor: User, audit: bool = True, size: int | None = None, ids_only: bool = False
) -> Bounded[SuicidalityAlert]:
    """Alerts waiting for this clinician: assigned to them, or (with no primary prescriber, or
    one who has left the care team) for the prescribers on the care team; each with its
    follow-up answers. Clinic admins see every unresolved alert. The oldest `size`
    (SECTION_SIZE) and how many in all; five queries. `audit` is off only for the top bar's
    count, which shows no patient information; with `ids_only` (the same count) each alert
    carries only its id, status and kind, read without joins."""
    alerts = SuicidalityAlert.objects.unresolved()
    if ids_only:
        alerts = alerts.only("id", "status", "kind")
    mine = _waiting_for(actor, alerts)
    if mine is None:
        return Bounded(items=[], total=0)
    if ids_only:
        return bounded(mine.order_by("created_at", "id"), size=size)
    result = bounded_in_two_steps(
        mine.order_by("created_at", "id"),
        rows=lambda rows: rows.select_related(
            "patient", "response", "assigned_to", "escalated_by_response"
        ).prefetch_related(
            Prefetch("follow_ups", queryset=AlertFollowUp.objects.select_related("response"))
        ),
        size=size,
    )
    for alert in result:
        # For the inbox row (assessments/_alert_inbox_item.html): every answer, in order.
        alert.answer_rows = alert_answers(alert)
    if audit:
        audit_record(
            actor=actor,
            action=AuditAction.LIST,
            object_type="suicidality_alert",
            summary=f"Alert inbox: {result.total} unresolved",
        )
    return result


# The API's alert list: the inbox's order, ending in the alert's UUID (core/api_pages.py).
ALERT_ORDER = Keyset(("created_at",))


def alert_inbox_page(
    *, actor: User, after: list | None, limit: int
) -> KeysetPage[SuicidalityAlert]:
    """`alert_inbox` a page at a time (the API), oldest first, each alert with its patient and
    how many follow-up answers joined it; audited as the inbox is. For clinical roles and the
    clinic administrator (patient.view_clinical)."""
    require(actor, Capability.PATIENT_VIEW_CLINICAL)
    mine = _waiting_for(actor, SuicidalityAlert.objects.unresolved())
    assert mine is not None  # every role with patient.view_clinical has an inbox
    page = keyset_page(
        mine.select_related("patient", "assigned_to").annotate(
            follow_up_count=Count("follow_ups", distinct=True)
        ),
        keyset=ALERT_ORDER,
        after=after,
        limit=limit,
    )
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="suicidality_alert",
        summary=f"Alert inbox (API): {len(page.items)} unresolved on this page",
    )
    return page


# One message for "no such alert" and "not yours to see": the two must look the same.
ALERT_NOT_FOUND = "No such alert, or the patient is not on your care team."


def alert_get(*, actor: User, alert_uuid: object) -> SuicidalityAlert:
    """An alert of a patient whose clinical record the actor may see; otherwise not found."""
    return record_in_reach(
        actor=actor,
        queryset=SuicidalityAlert.objects.select_related(
            "patient",
            "response",
            "assigned_to",
            "acknowledged_by",
            "resolved_by",
            "escalated_by_response",
        ).prefetch_related("patient__care_team_members"),
        record_uuid=alert_uuid,
        object_type="suicidality_alert",
        patient_of=lambda alert: alert.patient,
        in_reach=lambda alert: (
            Patient.objects.visible_to(actor).filter(pk=alert.patient_id).exists()
            and can_view_clinical(actor=actor, patient=alert.patient)
        ),
        not_found_message=ALERT_NOT_FOUND,
        denied_summary="Alert not found or not visible",
        view_summary="",
    )


def open_alert_count() -> int:
    return SuicidalityAlert.objects.filter(status=AlertStatus.OPEN).count()
