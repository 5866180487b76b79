"""Writes of the at-home program, each atomic and audited.

The patient writes their own logs (the actor is their portal user): blood pressure and the
treatment monitor first; over the clinic's limit the log says "do not dose" and a HomeBpAlert
is raised for the care team in the same transaction, with its e-mails in the outbox, so an
alert can never be lost between the reading and the team. A prescriber or nurse on the care
team acknowledges the alert with a note.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.clinic_phone import call_the_clinic
from clinic.core.exceptions import Conflict, InvalidInput, PermissionDenied
from clinic.core.parsing import event_moment
from clinic.core.policy import plausible_range
from clinic.core.records import required_text
from clinic.core.text import CONTROL_CHARACTER_MESSAGE, has_control_characters
from clinic.home_program.choices import (
    HomeBpAlertStatus,
    HomeSessionStatus,
    Severity,
    SideEffectKind,
)
from clinic.home_program.models import HomeBpAlert, HomeSessionLog, HomeSideEffect
from clinic.home_program.policy import home_program_policy
from clinic.home_program.selectors import (
    active_home_plan,
    can_review,
    home_program_state,
    is_own_record,
    no_plan_text,
)
from clinic.notifications.services import notification_queue
from clinic.patients.choices import CareTeamRole
from clinic.patients.models import Patient

MONITOR_REQUIRED = (
    "Enter the name of the adult who is with you for the whole session. An at-home session "
    "needs a treatment monitor physically present."
)


def _now(now: datetime.datetime | None) -> datetime.datetime:
    return now or timezone.now()


def _require_own(actor: User, patient: Patient) -> None:
    if not is_own_record(actor=actor, patient=patient):
        raise PermissionDenied("Only the patient writes their at-home session log.")


def _audit(
    actor: User,
    log: HomeSessionLog,
    action: AuditAction,
    summary: str,
    changes: dict[str, dict[str, object]] | None = None,
) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="home_session_log",
        object_id=log.uuid,
        patient=log.patient,
        summary=summary,
        changes=changes or {},
    )


def _whole_mmhg(field: str, value: object, errors: dict[str, list[str]]) -> int | None:
    allowed = plausible_range(field)
    if value in (None, ""):
        errors[field] = [f"Enter your {allowed.label.lower()} ({allowed.unit})."]
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        number = None
    if number is None or number != number.to_integral_value():
        errors[field] = [f"{allowed.label} is a whole number of {allowed.unit}."]
        return None
    if not allowed.contains(number):
        errors[field] = [allowed.message()]
        return None
    return int(number)


# --------------------------------------------------------------------------- start


@transaction.atomic
def home_session_start(
    *,
    actor: User,
    patient: Patient,
    systolic_mmhg: object,
    diastolic_mmhg: object,
    monitor_name: str,
    now: datetime.datetime | None = None,
) -> HomeSessionLog:
    """A new at-home session: the blood pressure just taken and the treatment monitor present.

    Over the clinic's limit (HomeProgramPolicy) the log is "do not dose" and the care team is
    alerted; otherwise it waits for the dose. An earlier log still waiting for its dose is
    closed as "not taken": a dose always follows the latest reading."""
    now = _now(now)
    _require_own(actor, patient)
    # Lock the plan: two starts at once must not both take the same planned session.
    plan = active_home_plan(patient, for_update=True)
    if plan is None:
        raise Conflict(no_plan_text(), code="no_home_program")
    state = home_program_state(patient, plan=plan)
    # A plan without a dose for the next session cannot start (its `blocked_reason` says so).
    dose = state.prescribed_dose_mg
    if not state.can_start or dose is None:
        raise Conflict(state.blocked_reason, code="home_session_blocked")

    errors: dict[str, list[str]] = {}
    systolic = _whole_mmhg("systolic_mmhg", systolic_mmhg, errors)
    diastolic = _whole_mmhg("diastolic_mmhg", diastolic_mmhg, errors)
    if systolic is not None and diastolic is not None and diastolic >= systolic:
        errors["diastolic_mmhg"] = [
            "The diastolic (lower) number must be below the systolic (upper) number."
        ]
    monitor = (monitor_name or "").strip()
    if not monitor:
        errors["monitor_name"] = [MONITOR_REQUIRED]
    elif has_control_characters(monitor):
        errors["monitor_name"] = [CONTROL_CHARACTER_MESSAGE]
    elif len(monitor) > 200:
        errors["monitor_name"] = ["Keep the name under 200 characters."]
    # A number is None only with its error written: the check is for the type checker.
    if errors or systolic is None or diastolic is None:
        raise InvalidInput(errors)

    for earlier in HomeSessionLog.objects.select_for_update().filter(
        patient=patient, status=HomeSessionStatus.WAITING
    ):
        earlier.status = HomeSessionStatus.NOT_TAKEN
        earlier.not_taken_at = now
        earlier.save(update_fields=["status", "not_taken_at", "updated_at"])
        _audit(
            actor,
            earlier,
            AuditAction.UPDATE,
            "At-home session closed without a dose: a new session was started",
            {"status": {"before": "waiting", "after": "not_taken"}},
        )

    policy = home_program_policy()
    over = policy.blocks(systolic_mmhg=systolic, diastolic_mmhg=diastolic)
    log = HomeSessionLog.objects.create(
        patient=patient,
        plan=plan,
        planned_session=state.next_session,
        status=HomeSessionStatus.DO_NOT_DOSE if over else HomeSessionStatus.WAITING,
        started_at=now,
        systolic_mmhg=systolic,
        diastolic_mmhg=diastolic,
        limit_systolic_mmhg=policy.dose_blocked_systolic_above_mmhg,
        limit_diastolic_mmhg=policy.dose_blocked_diastolic_above_mmhg,
        monitor_name=monitor,
        prescribed_dose_mg=dose,
        recorded_by=actor,
    )
    _audit(
        actor,
        log,
        AuditAction.CREATE,
        f"At-home session started (portal): BP {log.bp_text}, "
        + (f"over the {policy.limit_text()} limit: do not dose" if over else "may dose"),
        {
            "bp": {"before": None, "after": log.bp_text},
            "limit": {"before": None, "after": log.limit_text},
            "status": {"before": None, "after": log.status},
        },
    )
    if over:
        _bp_alert_raise(actor=actor, log=log)
    return log


def _alert_recipients(patient: Patient) -> list[User]:
    """The primary prescriber (else every prescriber on the team) and the team's nurses."""
    members = list(patient.care_team_members.select_related("staff"))
    primary = [m.staff for m in members if m.team_role == CareTeamRole.PRIMARY_PRESCRIBER]
    prescribers = primary or [m.staff for m in members if m.team_role == CareTeamRole.PRESCRIBER]
    nurses = [m.staff for m in members if m.team_role == CareTeamRole.NURSE]
    seen: set[int] = set()
    recipients = []
    for staff in prescribers + nurses:
        if staff.is_active and staff.pk not in seen:
            seen.add(staff.pk)
            recipients.append(staff)
    return recipients


def _bp_alert_raise(*, actor: User, log: HomeSessionLog) -> HomeBpAlert:
    alert = HomeBpAlert.objects.create(patient=log.patient, log=log)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="home_bp_alert",
        object_id=alert.uuid,
        patient=log.patient,
        summary=f"At-home BP {log.bp_text} over the {log.limit_text} limit: told not to dose",
    )
    url = f"{settings.SITE_URL}{reverse('home_program:alert_acknowledge', args=[alert.uuid])}"
    for recipient in _alert_recipients(log.patient):
        notification_queue(
            recipient=recipient,
            # No PHI in e-mail: the message says where to look, KetaCare says who.
            subject=f"{settings.CLINIC_NAME}: an at-home session needs your review",
            body=(
                "A patient on your care team entered a blood pressure over the clinic's "
                "at-home limit before a sublingual dose and was told not to dose today.\n\n"
                f"Open KetaCare to review and acknowledge the alert: {url}\n"
            ),
        )
    return alert


# --------------------------------------------------------------------------- the dose


# The API's If-Match: checked on the log under its row lock, after the owner check.
Precondition = Callable[[HomeSessionLog], None] | None


def _locked_log(
    actor: User, log: HomeSessionLog, precondition: Precondition = None
) -> HomeSessionLog:
    locked = (
        HomeSessionLog.objects.select_for_update(of=("self",))
        .select_related("patient", "plan", "planned_session")
        .get(pk=log.pk)
    )
    _require_own(actor, locked.patient)
    if precondition is not None:
        precondition(locked)
    return locked


DO_NOT_DOSE_TEXT = (
    "Your blood pressure was over the clinic's limit for an at-home dose: do not take the dose "
    "today. Your care team has been told."
)


@transaction.atomic
def home_session_dose_record(
    *,
    actor: User,
    log: HomeSessionLog,
    dose_mg: object,
    taken_at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
    precondition: Precondition = None,
) -> HomeSessionLog:
    """The dose taken: only after an allowed blood pressure, and exactly the prescribed dose."""
    now = _now(now)
    locked = _locked_log(actor, log, precondition)
    if locked.status == HomeSessionStatus.DO_NOT_DOSE:
        raise Conflict(DO_NOT_DOSE_TEXT, code="do_not_dose")
    if locked.status != HomeSessionStatus.WAITING:
        raise Conflict(
            "This session is not waiting for a dose any more. Start a new session with a new "
            "blood pressure reading.",
            code="not_waiting",
        )
    plan = active_home_plan(locked.patient, for_update=True)
    if plan is None or plan.pk != locked.plan_id:
        raise Conflict(
            "Your at-home plan is no longer active: do not take a dose. "
            f"Please {call_the_clinic()}.",
            code="plan_not_active",
        )
    try:
        dose = Decimal(str(dose_mg)) if dose_mg not in (None, "") else None
    except InvalidOperation:
        dose = None
    if dose is None:
        raise InvalidInput({"dose_mg": ["Enter the dose you took, in mg."]})
    if dose != locked.prescribed_dose_mg:
        raise InvalidInput(
            {
                "dose_mg": [
                    f"Your prescribed dose is {locked.prescribed_dose_mg.normalize():f} mg. Take "
                    "only the prescribed dose. If you took a different amount, "
                    f"{call_the_clinic()}."
                ]
            }
        )
    taken_at = event_moment(
        "taken_at",
        taken_at,
        now=now,
        not_before=locked.started_at,
        not_before_message="The dose comes after the blood pressure reading of this session.",
    )
    locked.status = HomeSessionStatus.DOSED
    locked.dose_taken_mg = dose
    locked.dose_taken_at = taken_at
    try:
        with transaction.atomic():
            locked.save(update_fields=["status", "dose_taken_mg", "dose_taken_at", "updated_at"])
    except IntegrityError as error:  # the planned session was dosed in another log
        raise Conflict(
            f"This planned session already has a dose logged. Please {call_the_clinic()}.",
            code="session_already_dosed",
        ) from error
    _audit(
        actor,
        locked,
        AuditAction.UPDATE,
        f"At-home dose taken: {dose.normalize():f} mg at {timezone.localtime(taken_at):%H:%M}",
        {
            "status": {"before": "waiting", "after": "dosed"},
            "dose_taken_mg": {"before": None, "after": str(dose)},
        },
    )
    return locked


@transaction.atomic
def home_session_not_taken(
    *,
    actor: User,
    log: HomeSessionLog,
    now: datetime.datetime | None = None,
    precondition: Precondition = None,
) -> HomeSessionLog:
    """The patient decides not to take the dose of a session waiting for it."""
    now = _now(now)
    locked = _locked_log(actor, log, precondition)
    if locked.status != HomeSessionStatus.WAITING:
        raise Conflict("This session is not waiting for a dose.", code="not_waiting")
    locked.status = HomeSessionStatus.NOT_TAKEN
    locked.not_taken_at = now
    locked.save(update_fields=["status", "not_taken_at", "updated_at"])
    _audit(
        actor,
        locked,
        AuditAction.UPDATE,
        "At-home session closed without a dose (the patient's choice)",
        {"status": {"before": "waiting", "after": "not_taken"}},
    )
    return locked


# --------------------------------------------------------------------------- after the dose


@transaction.atomic
def home_side_effect_record(
    *,
    actor: User,
    log: HomeSessionLog,
    kind: str,
    severity: str,
    other_text: str = "",
    noticed_at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
) -> HomeSideEffect:
    now = _now(now)
    locked = _locked_log(actor, log)
    if locked.status != HomeSessionStatus.DOSED:
        raise Conflict(
            "Side effects are recorded after the dose and before the check-in.",
            code="not_dosed",
        )
    errors: dict[str, list[str]] = {}
    if kind not in SideEffectKind.values:
        errors["kind"] = ["Choose the side effect."]
    if severity not in Severity.values:
        errors["severity"] = ["Choose how strong it is."]
    other_text = (other_text or "").strip()
    if kind == SideEffectKind.OTHER and not other_text:
        errors["other_text"] = ["Describe the side effect."]
    elif has_control_characters(other_text):
        errors["other_text"] = [CONTROL_CHARACTER_MESSAGE]
    elif len(other_text) > 200:
        errors["other_text"] = ["Keep the description under 200 characters."]
    if errors:
        raise InvalidInput(errors)
    noticed_at = event_moment(
        "noticed_at",
        noticed_at,
        now=now,
        not_before=locked.dose_taken_at,
        not_before_message="A side effect of the dose is noticed after the dose was taken.",
    )
    effect = HomeSideEffect.objects.create(
        log=locked,
        kind=kind,
        other_text=other_text if kind == SideEffectKind.OTHER else "",
        severity=severity,
        noticed_at=noticed_at,
    )
    _audit(
        actor,
        locked,
        AuditAction.UPDATE,
        f"At-home side effect: {effect.label} ({effect.get_severity_display().lower()})",
    )
    return effect


@transaction.atomic
def home_session_check_in(
    *,
    actor: User,
    log: HomeSessionLog,
    feeling: str,
    mood_after: int | str | None = None,
    checked_in_at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
    precondition: Precondition = None,
) -> HomeSessionLog:
    """The check-in after the dose: how the patient feels now, and an optional mood 1–10."""
    now = _now(now)
    locked = _locked_log(actor, log, precondition)
    if locked.status != HomeSessionStatus.DOSED:
        raise Conflict("The check-in comes after the dose is logged.", code="not_dosed")
    feeling = required_text("feeling", feeling, "Tell us in a few words how you feel now.")
    if mood_after in ("", None):
        mood = None
    else:
        try:
            mood = int(mood_after)
        except (TypeError, ValueError):
            mood = None
        if mood is None or not 1 <= mood <= 10 or str(mood_after).strip() != str(mood):
            raise InvalidInput({"mood_after": ["Choose a mood from 1 to 10, or leave it empty."]})
    checked_in_at = event_moment(
        "checked_in_at",
        checked_in_at,
        now=now,
        not_before=locked.dose_taken_at,
        not_before_message="The check-in comes after the dose was taken.",
    )
    locked.status = HomeSessionStatus.CHECKED_IN
    locked.feeling_text = feeling
    locked.mood_after = mood
    locked.checked_in_at = checked_in_at
    locked.save(
        update_fields=["status", "feeling_text", "mood_after", "checked_in_at", "updated_at"]
    )
    _audit(
        actor,
        locked,
        AuditAction.UPDATE,
        "At-home check-in after the dose" + (f" (mood {mood}/10)" if mood is not None else ""),
        {"status": {"before": "dosed", "after": "checked_in"}},
    )
    return locked


# --------------------------------------------------------------------------- staff


@transaction.atomic
def home_bp_alert_acknowledge(
    *,
    actor: User,
    alert: HomeBpAlert,
    note: str,
    precondition: Callable[[HomeBpAlert], None] | None = None,
) -> HomeBpAlert:
    """A prescriber or nurse on the care team acknowledges the alert, with a note. The API's
    If-Match (`precondition`) is compared on the locked row; the page sends none."""
    locked = HomeBpAlert.objects.select_for_update().get(pk=alert.pk)
    patient = Patient.objects.prefetch_related("care_team_members").get(pk=locked.patient_id)
    if not actor.can(Capability.HOME_PROGRAM_REVIEW) or not can_review(
        actor=actor, patient=patient
    ):
        raise PermissionDenied("Only prescribers and nurses on the care team acknowledge this.")
    if precondition is not None:
        precondition(locked)
    note = required_text("note", note, "Write a short note: what you did or decided.")
    if locked.status != HomeBpAlertStatus.OPEN:
        raise Conflict("This alert was already acknowledged.", code="alert_not_open")
    locked.status = HomeBpAlertStatus.ACKNOWLEDGED
    locked.acknowledged_at = timezone.now()
    locked.acknowledged_by = actor
    locked.acknowledgement_note = note
    locked.save()
    locked.patient = patient
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="home_bp_alert",
        object_id=locked.uuid,
        patient=patient,
        summary="At-home blood pressure alert acknowledged",
        changes={
            "status": {"before": "open", "after": "acknowledged"},
            "note": {"before": "", "after": note},
        },
    )
    return locked
