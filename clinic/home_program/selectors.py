"""Reads of the at-home program. Each takes the actor and writes the audit trail.

Two kinds of reader: the patient (a portal principal) reads only their own record, and a
prescriber or nurse on the patient's care team (`home_program.review`) reads the logs and
alerts of their patients. Anyone else gets the same answer as for a record that does not exist.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.paginator import Page
from django.db.models import Prefetch, QuerySet

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.api_pages import Keyset, KeysetPage, keyset_page
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.clinic_phone import call_the_clinic
from clinic.core.exceptions import NotFound, PermissionDenied
from clinic.core.pages import Bounded, bounded_in_two_steps, page_of
from clinic.home_program.choices import HomeBpAlertStatus, HomeSessionStatus
from clinic.home_program.models import HomeBpAlert, HomeSessionLog, HomeSideEffect
from clinic.patients.models import CareTeamMember, Patient
from clinic.patients.selectors import can_act_clinically, record_in_reach
from clinic.protocols.choices import PlanStatus
from clinic.protocols.models import PlannedSession, TreatmentPlan
from clinic.screening.choices import Route

LOG_NOT_FOUND = "No such at-home session."
ALERT_NOT_FOUND = "No such alert, or the patient is not on your care team."
# The chart lists the latest logs; older ones stay in the record.
CHART_LOGS = 20


# --------------------------------------------------------------------------- who may read


def is_own_record(*, actor: User | None, patient: Patient) -> bool:
    """The signed-in patient principal whose record this is (and both are active)."""
    return bool(
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and actor.is_patient_principal
        and actor.is_active
        and patient.is_active
        and patient.user_id == actor.pk
    )


def can_review(*, actor: User | None, patient: Patient) -> bool:
    """A prescriber or nurse on the patient's care team."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return can_act_clinically(
        actor=actor, patient=patient, capability=Capability.HOME_PROGRAM_REVIEW
    )


# --------------------------------------------------------------------------- the program


@dataclass(frozen=True)
class HomeProgram:
    """The patient's at-home program now: the active sublingual plan, the next planned session
    not yet dosed and its prescribed dose, and, when a session cannot start, why (in words)."""

    plan: TreatmentPlan | None
    next_session: PlannedSession | None
    prescribed_dose_mg: Decimal | None
    sessions_planned: int
    sessions_dosed: int
    blocked_reason: str

    @property
    def can_start(self) -> bool:
        return self.plan is not None and not self.blocked_reason


def no_plan_text() -> str:
    """What a patient without an active at-home plan is told (with the clinic's number)."""
    return (
        "You do not have an active at-home program. At-home sessions are for patients whose "
        "prescriber has started an at-home sublingual treatment plan. If you think this is "
        f"wrong, please {call_the_clinic()}."
    )


def active_home_plan(patient: Patient, *, for_update: bool = False) -> TreatmentPlan | None:
    plans = TreatmentPlan.objects.filter(
        patient=patient, route=Route.SUBLINGUAL, status=PlanStatus.ACTIVE
    )
    if for_update:
        plans = plans.select_for_update()
    return plans.order_by("-activated_at", "-id").first()


def home_program_state(patient: Patient, *, plan: TreatmentPlan | None = None) -> HomeProgram:
    """What the patient may do now (no audit: callers audit their own read or write)."""
    plan = plan or active_home_plan(patient)
    if plan is None:
        return HomeProgram(None, None, None, 0, 0, no_plan_text())
    sessions = list(plan.sessions.filter(cancelled=False).order_by("number"))
    dosed = set(
        HomeSessionLog.objects.dosed()
        .filter(plan=plan, planned_session__isnull=False)
        .values_list("planned_session_id", flat=True)
    )
    next_session = next((s for s in sessions if s.pk not in dosed), None)
    reason = ""
    if sessions and next_session is None:
        reason = (
            f"All {len(sessions)} planned sessions of your at-home plan are logged. Please "
            f"{call_the_clinic()} before taking another dose."
        )
    # The planned session's dose (titration changes it there), else the plan's fixed mg dose
    # (protocols.services.session_dose for sublingual).
    dose = None
    if next_session is not None and next_session.dose_mg is not None:
        dose = Decimal(next_session.dose_mg)
    elif (next_session is not None or not sessions) and plan.esketamine_dose_mg is not None:
        dose = Decimal(plan.esketamine_dose_mg)
    if dose is None and not reason:
        reason = (
            "Your at-home plan has no prescribed dose for the next session. Please contact the "
            "clinic before taking a dose."
        )
    return HomeProgram(
        plan=plan,
        next_session=next_session,
        prescribed_dose_mg=dose,
        sessions_planned=len(sessions),
        sessions_dosed=len(dosed),
        blocked_reason=reason,
    )


def home_program_get(*, actor: User, patient: Patient) -> HomeProgram:
    """The patient's own program, for the portal."""
    if not is_own_record(actor=actor, patient=patient):
        raise PermissionDenied("These pages are for the patient.")
    state = home_program_state(patient)
    audit_record(
        actor=actor,
        action=AuditAction.VIEW,
        object_type="home_program",
        object_id=state.plan.uuid if state.plan else "",
        patient=patient,
        summary="At-home program viewed (portal)"
        + ("" if state.plan else ": no active at-home plan"),
    )
    return state


# --------------------------------------------------------------------------- logs


def _logs(patient: Patient) -> QuerySet[HomeSessionLog]:
    return (
        HomeSessionLog.objects.filter(patient=patient)
        .select_related("planned_session", "bp_alert__acknowledged_by")
        .prefetch_related(
            Prefetch("side_effects", queryset=HomeSideEffect.objects.order_by("noticed_at", "id"))
        )
    )


def home_session_list(
    *, actor: User, patient: Patient, limit: int | None = None
) -> list[HomeSessionLog]:
    """The patient's logs, newest first: for the patient, or a reviewer on the care team."""
    own = is_own_record(actor=actor, patient=patient)
    if not own and not can_review(actor=actor, patient=patient):
        raise PermissionDenied("At-home session logs are for the patient and their care team.")
    logs = _logs(patient)
    result = list(logs[:limit] if limit else logs)
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="home_session_log",
        patient=patient,
        summary=f"At-home session logs ({'portal' if own else 'chart'}): {len(result)}",
    )
    return result


def home_session_get(*, actor: User, patient: Patient, log_uuid: uuid.UUID | str) -> HomeSessionLog:
    """One of the patient's own logs. Another patient's log and no log look the same."""
    if not is_own_record(actor=actor, patient=patient):
        raise NotFound(LOG_NOT_FOUND)
    return record_in_reach(
        actor=actor,
        queryset=_logs(patient),
        record_uuid=log_uuid,
        object_type="home_session_log",
        patient_of=lambda log: patient,
        patient=patient,
        not_found_message=LOG_NOT_FOUND,
        denied_summary="At-home session not found among the patient's own",
        view_summary=lambda log: f"At-home session viewed (portal): {log.get_status_display()}",
    )


# The API's list: newest first, as the portal's list.
LOG_KEYSET = Keyset(("-started_at",))


def own_home_session_page(
    *, actor: User, patient: Patient, after: Sequence[Any] | None, limit: int
) -> KeysetPage[HomeSessionLog]:
    """A page of the patient's own logs (the API): two queries (the logs, their side effects),
    audited once."""
    if not is_own_record(actor=actor, patient=patient):
        raise PermissionDenied("These are the patient's own logs.")
    page = keyset_page(_logs(patient), keyset=LOG_KEYSET, after=after, limit=limit)
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="home_session_log",
        patient=patient,
        summary=f"At-home session logs (API): {len(page.items)}",
    )
    return page


def open_waiting_logs(patient: Patient) -> QuerySet[HomeSessionLog]:
    return HomeSessionLog.objects.filter(patient=patient, status=HomeSessionStatus.WAITING)


# --------------------------------------------------------------------------- staff


def home_chart(*, actor: User, patient: Patient) -> dict[str, Any] | None:
    """The chart section: None unless the actor reviews this patient's at-home program."""
    if not can_review(actor=actor, patient=patient):
        return None
    plan = active_home_plan(patient)
    logs = home_session_list(actor=actor, patient=patient, limit=CHART_LOGS + 1)
    if plan is None and not logs:
        return None
    open_alerts = [log.bp_alert for log in logs if _open_alert(log)]
    # An open alert older than the logs shown still belongs on the chart.
    shown = {alert.pk for alert in open_alerts}
    open_alerts += list(
        HomeBpAlert.objects.open()
        .filter(patient=patient)
        .exclude(pk__in=shown)
        .select_related("log")
    )
    return {
        "patient": patient,
        "plan": plan,
        "logs": logs[:CHART_LOGS],
        "more": len(logs) > CHART_LOGS,
        "open_alerts": open_alerts,
    }


def _open_alert(log: HomeSessionLog) -> bool:
    alert = getattr(log, "bp_alert", None)  # None when the log raised no alert
    return alert is not None and alert.status == HomeBpAlertStatus.OPEN


def _reviewable_alerts(actor: User) -> QuerySet[HomeBpAlert]:
    """Alerts of patients on whose care team the actor is, for `home_program.review` holders."""
    return HomeBpAlert.objects.filter(patient__care_team_members__staff=actor).distinct()


def home_bp_alert_open_list(
    *, actor: User, audit: bool = True, size: int | None = None
) -> Bounded[HomeBpAlert]:
    """Open at-home blood pressure alerts of the actor's patients, oldest first: the first
    `size` (SECTION_SIZE; the alerts page passes its page size) and how many in all."""
    require(actor, Capability.HOME_PROGRAM_REVIEW)
    alerts = bounded_in_two_steps(
        _reviewable_alerts(actor)
        .filter(status=HomeBpAlertStatus.OPEN)
        .order_by("created_at", "id"),
        rows=lambda rows: rows.select_related("patient", "log"),
        size=size,
    )
    if audit:
        audit_record(
            actor=actor,
            action=AuditAction.LIST,
            object_type="home_bp_alert",
            summary=f"At-home blood pressure alerts: {alerts.total} open",
        )
    return alerts


def home_bp_alert_open_page(*, actor: User, page_number: Any = 1) -> Page:
    """One page (PAGE_SIZE) of the open at-home blood pressure alerts of the actor's patients,
    oldest first: the alerts page."""
    require(actor, Capability.HOME_PROGRAM_REVIEW)
    page = page_of(
        _reviewable_alerts(actor)
        .filter(status=HomeBpAlertStatus.OPEN)
        .select_related("patient", "log")
        .order_by("created_at", "id"),
        page_number,
    )
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="home_bp_alert",
        summary=(
            f"At-home blood pressure alerts page {page.number}: "
            f"{len(page.object_list)} of {page.paginator.count} open"
        ),
    )
    return page


# The API's open list (keyset pages): oldest first, as the alerts page.
OPEN_ALERT_ORDER = Keyset(("created_at",))


def home_bp_alert_open_keyset_page(
    *, actor: User, after: list | None, limit: int
) -> KeysetPage[HomeBpAlert]:
    """The alerts page's list through the API: open alerts of the actor's patients, oldest
    first, a cursor page at a time; audited as the page."""
    require(actor, Capability.HOME_PROGRAM_REVIEW)
    page = keyset_page(
        _reviewable_alerts(actor)
        .filter(status=HomeBpAlertStatus.OPEN)
        .select_related("patient", "log", "acknowledged_by"),
        keyset=OPEN_ALERT_ORDER,
        after=after,
        limit=limit,
    )
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="home_bp_alert",
        summary=f"At-home blood pressure alerts (API page): {len(page.items)} open",
    )
    return page


def home_bp_alert_get(*, actor: User, alert_uuid: uuid.UUID | str) -> HomeBpAlert:
    """An alert of a patient on the actor's care team; otherwise the same NotFound."""
    require(actor, Capability.HOME_PROGRAM_REVIEW)
    return record_in_reach(
        actor=actor,
        queryset=HomeBpAlert.objects.select_related(
            "patient", "log", "acknowledged_by"
        ).prefetch_related(
            Prefetch("patient__care_team_members", queryset=CareTeamMember.objects.all())
        ),
        record_uuid=alert_uuid,
        object_type="home_bp_alert",
        patient_of=lambda alert: alert.patient,
        in_reach=lambda alert: can_review(actor=actor, patient=alert.patient),
        denial_names_patient=True,
        not_found_message=ALERT_NOT_FOUND,
        denied_summary="At-home blood pressure alert not found or not on the care team",
        view_summary=lambda alert: (
            f"At-home blood pressure alert viewed ({alert.get_status_display()})"
        ),
    )
