"""Writes for measurement-based care. Scores are always computed here, on the server, from the
item answers; a positive suicidality answer raises an alert in the same transaction, so an
alert can never be lost between saving the answers and telling the clinician."""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.permissions import Capability
from clinic.assessments.choices import (
    AlertKind,
    AlertStatus,
    ResponseSource,
    Timepoint,
    alert_level,
)
from clinic.assessments.instruments import get_instrument
from clinic.assessments.instruments.base import AnswerError, Instrument
from clinic.assessments.models import (
    AlertFollowUp,
    AlertNotification,
    AssessmentResponse,
    QuestionnaireLink,
    SuicidalityAlert,
)
from clinic.assessments.policy import scoring_policy
from clinic.assessments.selectors import SessionStartsReader, due_for_patients
from clinic.assessments.suicidality import CSSRS_CODE, suicidality_triggers
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from clinic.core.records import mark_entered_in_error, required_text
from clinic.notifications.delivery import (  # re-export: remove after the renovation
    notification_deliver as notification_deliver,
)
from clinic.notifications.services import notification_queue
from clinic.patients.models import Patient
from clinic.patients.selectors import can_act_clinically

LINK_TOKEN_BYTES = 32


def instrument_or_error(code: str) -> Instrument:
    try:
        return get_instrument(code)
    except KeyError as error:
        raise InvalidInput({"instrument": [f"Unknown instrument {code!r}."]}) from error


def _note(field: str, text: str) -> str:
    return required_text(field, text, "Write a short note: what you did or decided.")


@transaction.atomic
def response_record(
    *,
    actor,
    patient: Patient,
    instrument_code: str,
    answers: Sequence[int | None],
    timepoint: str = Timepoint.UNSCHEDULED,
    taken_at: datetime.datetime | None = None,
    source: str = ResponseSource.STAFF,
    link: QuestionnaireLink | None = None,
) -> AssessmentResponse:
    """Store a response with its server-computed score, and raise any suicidality alert.

    Staff enter responses for patients on their care team (`actor` set, `link` None). A patient
    completing a questionnaire through a link or the kiosk has no staff actor: the usable,
    locked `link` is the authority, and only patient-facing instruments on it are accepted.
    """
    instrument = instrument_or_error(instrument_code)
    if link is None:
        if not can_act_clinically(
            actor=actor, patient=patient, capability=Capability.ASSESSMENT_RECORD
        ):
            raise PermissionDenied("Only clinicians on the care team enter assessments.")
    else:
        if link.patient_id != patient.pk or instrument.code not in link.instrument_codes:
            raise PermissionDenied("This link is not for that questionnaire.")
        if not instrument.patient_facing:
            raise PermissionDenied("Clinician-rated scales are entered by staff.")
    if timepoint not in Timepoint.values:
        raise InvalidInput({"timepoint": [f"Choose one of: {', '.join(Timepoint.values)}."]})
    taken_at = taken_at or timezone.now()
    if taken_at > timezone.now() + datetime.timedelta(minutes=5):
        raise InvalidInput({"taken_at": ["An assessment cannot be dated in the future."]})
    return _response_store(
        audit_actor=actor,
        patient=patient,
        instrument=instrument,
        answers=answers,
        timepoint=timepoint,
        taken_at=taken_at,
        source=source,
        recorded_by=actor if link is None else None,
        link=link,
    )


# Each kind in a sentence ("the alert is now ...").
KIND_WORDS = {
    AlertKind.SUICIDAL_IDEATION: "suicidal ideation",
    AlertKind.HIGH_SUICIDE_RISK: "a high suicide risk (C-SSRS)",
}

# A questionnaire with no answer at all is not a record of anything: refused on every path.
BLANK_RESPONSE_MESSAGE = (
    "No question was answered, so nothing was saved. Answer at least one question."
)


def _response_store(
    *,
    audit_actor,
    patient: Patient,
    instrument: Instrument,
    answers: Sequence[int | None],
    timepoint: str,
    taken_at: datetime.datetime,
    source: str,
    recorded_by,
    link: QuestionnaireLink | None,
) -> AssessmentResponse:
    """Score on the server, store the response, audit it and raise (or add to) a suicidality
    alert: the one path for staff entry, links, the kiosk, the portal, the API and the session
    scores.

    A blank form (no item answered) is refused; a partly answered one is stored, unscored,
    with its flags (api-calculators.md §1: a suicidality answer is never ignored). For the
    C-SSRS, questions skipped by design are null too, so blank means nothing answered at all.
    """
    try:
        result = instrument.score(list(answers), scoring_policy())
    except AnswerError as error:
        raise InvalidInput({"answers": [error.message]}) from error
    if all(answer is None for answer in answers):
        raise InvalidInput({"answers": [BLANK_RESPONSE_MESSAGE]})
    response = AssessmentResponse.objects.create(
        patient=patient,
        instrument_code=instrument.code,
        instrument_version=instrument.version,
        answers=list(answers),
        complete=result.complete,
        total=result.total,
        severity=result.severity or "",
        flags=list(result.flags),
        subscales=dict(result.subscales),
        taken_at=taken_at,
        timepoint=timepoint,
        source=source,
        recorded_by=recorded_by,
        link=link,
    )
    audit_record(
        actor=audit_actor,
        action=AuditAction.CREATE,
        object_type="assessment_response",
        object_id=response.uuid,
        patient=patient,
        summary=f"{instrument.name} recorded ({ResponseSource(source).label})",
        changes={
            "total": {"before": None, "after": result.total},
            "flags": {"before": None, "after": list(result.flags)},
        },
    )
    triggers = suicidality_triggers(instrument, list(answers), result)
    if triggers:
        _suicidality_record(
            patient=patient, response=response, instrument=instrument, triggers=triggers
        )
    return response


def _suicidality_record(
    *, patient: Patient, response: AssessmentResponse, instrument: Instrument, triggers
) -> None:
    """One alert per positive response, at the highest level its answers show; or, while the
    patient has an alert still waiting for a clinician (open, not acknowledged), the answers
    join that alert as a follow-up, escalating it when they show a higher risk (ADR 0004).

    Every decision for a patient is taken under a lock on the patient's row, so two responses
    saved at once queue here: the second sees the first's alert and joins it, and a patient
    never has two alerts waiting side by side from this path.
    """
    kind = max((t.kind for t in triggers), key=alert_level)
    text = "; ".join(t.text for t in sorted(triggers, key=lambda t: -alert_level(t.kind)))
    # The lock is on the patient, not on the alerts: with no alert waiting there is no alert
    # row to lock, and two first alerts must not be raised side by side. Existing alerts may
    # already include several open ones per patient (raised before follow-ups attached), so a
    # unique index on open alerts cannot be added without rewriting them.
    Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk").get()
    waiting = list(
        SuicidalityAlert.objects.select_for_update().filter(
            patient=patient, status=AlertStatus.OPEN
        )
    )
    if not waiting:
        _alert_raise(patient=patient, response=response, kind=kind, text=text)
        return
    # With several waiting (possible only among alerts raised before follow-ups attached), the
    # most serious, then the newest, gathers the follow-ups.
    alert = max(waiting, key=lambda a: (alert_level(a.kind), a.created_at, a.pk))
    follow_up = AlertFollowUp.objects.create(
        alert=alert, response=response, kind=kind, trigger=text[:200]
    )
    audit_record(
        actor=None,
        action=AuditAction.UPDATE,
        object_type="suicidality_alert",
        object_id=alert.uuid,
        patient=patient,
        summary=f"Follow-up answers added ({instrument.name}): {text}"[:300],
        changes={"follow_up": {"before": None, "after": str(follow_up.uuid)}},
    )
    if alert_level(kind) <= alert_level(alert.kind):
        # The clinician who opens the alert reads these answers there: no second e-mail.
        return
    before = alert.kind
    alert.escalated_from_kind = before
    alert.kind = kind
    alert.escalated_at = timezone.now()
    alert.escalated_by_response = response
    alert.save(
        update_fields=[
            "kind",
            "escalated_from_kind",
            "escalated_at",
            "escalated_by_response",
            "updated_at",
        ]
    )
    audit_record(
        actor=None,
        action=AuditAction.UPDATE,
        object_type="suicidality_alert",
        object_id=alert.uuid,
        patient=patient,
        summary=(
            f"Suicidality alert escalated to {KIND_WORDS[kind]} by the answers of the "
            f"{instrument.name}: {text}"
        )[:300],
        changes={
            "kind": {"before": before, "after": kind},
            "escalated_by_response": {"before": None, "after": str(response.uuid)},
        },
    )
    _alert_notify(
        alert=alert,
        patient=patient,
        subject=f"{settings.CLINIC_NAME}: a suicidality alert was escalated",
        what=(
            "A follow-up answer from a patient on your care team showed a higher risk, and "
            f"the suicidality alert waiting for you is now {KIND_WORDS[kind]}."
        ),
    )


def _alert_raise(*, patient: Patient, response: AssessmentResponse, kind: str, text: str) -> None:
    members = list(patient.care_team_members.select_related("staff"))
    primary = next((m.staff for m in members if m.team_role == "primary_prescriber"), None)
    alert = SuicidalityAlert.objects.create(
        patient=patient, response=response, kind=kind, trigger=text[:200], assigned_to=primary
    )
    audit_record(
        actor=None,
        action=AuditAction.CREATE,
        object_type="suicidality_alert",
        object_id=alert.uuid,
        patient=patient,
        summary=f"{AlertKind(kind).label}: {text}"[:300],
    )
    _alert_notify(
        alert=alert,
        patient=patient,
        subject=f"{settings.CLINIC_NAME}: a patient's answers need your attention",
        what=(
            "A patient on your care team gave an answer that raised a suicidality alert "
            f"({AlertKind(kind).label.lower()})."
        ),
    )


def _alert_notify(*, alert: SuicidalityAlert, patient: Patient, subject: str, what: str) -> None:
    """E-mail the alert's clinicians through the outbox: the prescriber it is assigned to, or,
    with none (or one no longer on the care team), every prescriber on the care team now."""
    members = list(patient.care_team_members.select_related("staff"))
    if any(m.staff_id == alert.assigned_to_id for m in members):
        recipients = [alert.assigned_to]
    else:
        recipients = [m.staff for m in members if m.staff.role == "prescriber"]
    for recipient in recipients:
        notification = notification_queue(
            recipient=recipient,
            subject=subject,
            # No PHI in e-mail: the message says where to look, the chart says who.
            body=(
                f"{what}\n\n"
                "Open KetaCare to review and acknowledge it: "
                f"{settings.SITE_URL}{reverse('assessments:alert_detail', args=[alert.uuid])}\n"
            ),
        )
        AlertNotification.objects.create(alert=alert, notification=notification)


def _alert_for_update(actor, alert: SuicidalityAlert, capability: str) -> SuicidalityAlert:
    locked = SuicidalityAlert.objects.select_for_update().select_related("patient").get(pk=alert.pk)
    patient = Patient.objects.prefetch_related("care_team_members").get(pk=locked.patient_id)
    if not can_act_clinically(actor=actor, patient=patient, capability=capability):
        raise PermissionDenied("Only clinicians on the patient's care team handle this alert.")
    return locked


def _unread_answers_refuse(locked: SuicidalityAlert, seen_follow_ups: int | None) -> None:
    """A clinician acts on the answers they read: follow-ups that arrived after they opened
    the alert (perhaps escalating it) must be read first."""
    if seen_follow_ups is not None and locked.follow_ups.count() != seen_follow_ups:
        raise Conflict(
            "New answers were added to this alert since you opened it"
            + (f" and it is now {KIND_WORDS[locked.kind]}" if locked.escalated_at else "")
            + ". Read them, then acknowledge.",
            code="alert_has_new_answers",
        )


@transaction.atomic
def alert_acknowledge(
    *, actor, alert: SuicidalityAlert, note: str, seen_follow_ups: int | None = None
) -> SuicidalityAlert:
    """`seen_follow_ups`: how many follow-ups the page showed (None from callers that show
    none, e.g. tests of the lifecycle alone)."""
    note = _note("note", note)
    locked = _alert_for_update(actor, alert, Capability.ALERT_ACKNOWLEDGE)
    if locked.status != AlertStatus.OPEN:
        raise Conflict("This alert was already acknowledged.", code="alert_not_open")
    _unread_answers_refuse(locked, seen_follow_ups)
    locked.status = AlertStatus.ACKNOWLEDGED
    locked.acknowledged_at = timezone.now()
    locked.acknowledged_by = actor
    locked.acknowledgement_note = note
    # An ideation alert is done once acknowledged; a high risk stays until it is resolved.
    if locked.kind == AlertKind.SUICIDAL_IDEATION:
        locked.status = AlertStatus.RESOLVED
        locked.resolved_at = locked.acknowledged_at
        locked.resolved_by = actor
        locked.resolution_note = note
    locked.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="suicidality_alert",
        object_id=locked.uuid,
        patient=locked.patient,
        summary="Suicidality alert acknowledged",
        changes={
            "status": {"before": "open", "after": locked.status},
            "note": {"before": "", "after": note},
        },
    )
    return locked


@transaction.atomic
def alert_resolve(
    *, actor, alert: SuicidalityAlert, note: str, seen_follow_ups: int | None = None
) -> SuicidalityAlert:
    note = _note("note", note)
    locked = _alert_for_update(actor, alert, Capability.ALERT_RESOLVE)
    if locked.kind != AlertKind.HIGH_SUICIDE_RISK:
        raise Conflict(
            "Only a high-risk alert is resolved; acknowledge this one.", code="not_high_risk"
        )
    if locked.status == AlertStatus.RESOLVED:
        raise Conflict("This alert is already resolved.", code="alert_resolved")
    _unread_answers_refuse(locked, seen_follow_ups)
    before = locked.status
    now = timezone.now()
    if locked.status == AlertStatus.OPEN:
        locked.acknowledged_at, locked.acknowledged_by = now, actor
        locked.acknowledgement_note = note
    locked.status = AlertStatus.RESOLVED
    locked.resolved_at, locked.resolved_by, locked.resolution_note = now, actor, note
    locked.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="suicidality_alert",
        object_id=locked.uuid,
        patient=locked.patient,
        summary="High suicide risk resolved",
        changes={
            "status": {"before": before, "after": "resolved"},
            "note": {"before": "", "after": note},
        },
    )
    return locked


@transaction.atomic
def response_mark_entered_in_error(
    *, actor, response: AssessmentResponse, reason: str
) -> AssessmentResponse:
    """The response stays in the record, struck through; alerts it raised stay too."""
    reason = _note("reason", reason)
    locked = AssessmentResponse.objects.select_for_update().get(pk=response.pk)
    patient = Patient.objects.prefetch_related("care_team_members").get(pk=locked.patient_id)
    if not can_act_clinically(
        actor=actor, patient=patient, capability=Capability.ASSESSMENT_RECORD
    ):
        raise PermissionDenied("Only clinicians on the care team correct assessments.")
    if not mark_entered_in_error(locked, actor=actor, reason=reason):
        return locked
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="assessment_response",
        object_id=locked.uuid,
        patient=patient,
        summary="Assessment marked entered in error",
        changes={
            "entered_in_error_reason": {"before": "", "after": locked.entered_in_error_reason}
        },
    )
    return locked


def link_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def questionnaire_link_create(
    *,
    actor,
    patient: Patient,
    instrument_codes: Sequence[str],
    timepoint: str = Timepoint.UNSCHEDULED,
    valid_hours: int | None = None,
    kiosk: bool = False,
) -> tuple[QuestionnaireLink, str]:
    """A single-use link for the patient's self-report questionnaires. Returns the plain token,
    which is shown (or sent) once and never stored."""
    if not actor.can(Capability.ASSESSMENT_SEND_LINK):
        raise PermissionDenied()
    if not Patient.objects.visible_to(actor).filter(pk=patient.pk).exists():
        raise NotFound("No such patient, or the patient is not on your care team.")
    codes = list(dict.fromkeys(instrument_codes))
    if not codes:
        raise InvalidInput({"instrument_codes": ["Choose at least one questionnaire."]})
    for code in codes:
        if not instrument_or_error(code).patient_facing:
            raise InvalidInput(
                {"instrument_codes": [f"{code} is rated by a clinician, not the patient."]}
            )
    hours = valid_hours or (
        settings.KIOSK_LINK_VALID_HOURS if kiosk else settings.QUESTIONNAIRE_LINK_VALID_HOURS
    )
    link, token = _link_new(
        patient=patient,
        codes=codes,
        timepoint=timepoint,
        kiosk=kiosk,
        created_by=actor,
        hours=hours,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="questionnaire_link",
        object_id=link.uuid,
        patient=patient,
        summary=f"{'Kiosk hand-over' if kiosk else 'Questionnaire link'}: {', '.join(codes)}",
    )
    return link, token


def _link_new(
    *, patient, codes, timepoint, kiosk, created_by, hours
) -> tuple[QuestionnaireLink, str]:
    token = secrets.token_urlsafe(LINK_TOKEN_BYTES)
    link = QuestionnaireLink.objects.create(
        patient=patient,
        instrument_codes=list(codes),
        timepoint=timepoint,
        token_digest=link_token_digest(token),
        kiosk=kiosk,
        created_by=created_by,
        expires_at=timezone.now() + datetime.timedelta(hours=hours),
    )
    return link, token


def questionnaire_link_issue(
    *, patient: Patient, instrument_codes, timepoint: str
) -> tuple[QuestionnaireLink, str]:
    """A link the system issues on the patient's own path (after the intake), with no staff
    actor: the caller has already established that this patient is filling in their forms."""
    codes = [c for c in dict.fromkeys(instrument_codes) if instrument_or_error(c).patient_facing]
    link, token = _link_new(
        patient=patient,
        codes=codes,
        timepoint=timepoint,
        kiosk=False,
        created_by=None,
        hours=settings.QUESTIONNAIRE_LINK_VALID_HOURS,
    )
    audit_record(
        actor=None,
        action=AuditAction.CREATE,
        object_type="questionnaire_link",
        object_id=link.uuid,
        patient=patient,
        summary=f"Questionnaire link after intake: {', '.join(codes)}",
    )
    return link, token


def assessment_reminders_send(
    *, session_starts: SessionStartsReader, now: datetime.datetime | None = None
) -> int:
    """E-mail each patient a questionnaire link for what is due (from the clinic's schedule),
    unless a usable link for that timepoint is already out. Returns how many were queued.
    Run daily (`manage.py send_assessment_reminders`); the worker delivers the e-mail."""
    now = now or timezone.now()
    patients = list(
        Patient.objects.active()
        .exclude(email="")
        .filter(care_team_members__isnull=False)
        .distinct()
    )
    queued = 0
    for patient, items in due_for_patients(
        patients=patients, now=now, session_starts=session_starts
    ).items():
        for item in items:
            codes = [c for c in item.missing if get_instrument(c).patient_facing]
            if (
                not codes
                or QuestionnaireLink.objects.filter(
                    patient=patient,
                    timepoint=item.timepoint,
                    used_at__isnull=True,
                    revoked_at__isnull=True,
                    expires_at__gt=now,
                ).exists()
            ):
                continue
            with transaction.atomic():
                link, token = _link_new(
                    patient=patient,
                    codes=codes,
                    timepoint=item.timepoint,
                    kiosk=False,
                    created_by=None,
                    hours=settings.QUESTIONNAIRE_LINK_VALID_HOURS,
                )
                url = settings.SITE_URL + reverse("assessments:questionnaire_start", args=[token])
                notification_queue(
                    to_email=patient.email,
                    patient_id=patient.pk,
                    subject=f"{settings.CLINIC_NAME}: a short questionnaire from your care team",
                    body=(
                        "Your care team asks you to answer a short questionnaire. It takes a few "
                        f"minutes:\n\n{url}\n\nThe link works once and expires on "
                        f"{timezone.localtime(link.expires_at):%m/%d/%Y at %H:%M}.\n"
                    ),
                )
                audit_record(
                    actor=None,
                    action=AuditAction.CREATE,
                    object_type="questionnaire_link",
                    object_id=link.uuid,
                    patient=patient,
                    summary=f"Reminder link ({item.timepoint}): {', '.join(codes)}",
                )
            queued += 1
    return queued


def link_remaining_codes(link: QuestionnaireLink) -> list[str]:
    done = set(link.responses.values_list("instrument_code", flat=True))
    return [code for code in link.instrument_codes if code not in done]


@transaction.atomic
def link_response_record(
    *, token_digest: str, instrument_code: str, answers: Sequence[int | None]
) -> tuple[AssessmentResponse, list[str]]:
    """A patient submits one questionnaire through a link. Returns the response and the codes
    still to do. A positive suicidality answer adds the C-SSRS screen to the link (the prompt)."""
    link = (
        QuestionnaireLink.objects.select_for_update()
        .select_related("patient")
        .filter(token_digest=token_digest)
        .first()
    )
    if link is None or not link.usable:
        raise NotFound("This link has expired or was already used. Ask the clinic for a new one.")
    if instrument_code not in link_remaining_codes(link):
        raise Conflict("That questionnaire is already done on this link.", code="already_done")
    source = ResponseSource.KIOSK if link.kiosk else ResponseSource.PATIENT_LINK
    response = response_record(
        actor=None,
        patient=link.patient,
        instrument_code=instrument_code,
        answers=answers,
        timepoint=link.timepoint,
        source=source,
        link=link,
    )
    if response.in_suicidality_alert() and CSSRS_CODE not in link.instrument_codes:
        link.instrument_codes = [*link.instrument_codes, CSSRS_CODE]
        link.save(update_fields=["instrument_codes", "updated_at"])
    remaining = link_remaining_codes(link)
    if not remaining:
        link.used_at = timezone.now()
        link.save(update_fields=["used_at", "updated_at"])
    return response, remaining


@transaction.atomic
def portal_response_record(
    *,
    patient_user,
    patient: Patient,
    instrument_code: str,
    answers: Sequence[int | None],
    timepoint: str = Timepoint.UNSCHEDULED,
) -> AssessmentResponse:
    """A patient answers a questionnaire in the portal, signed in as themselves.

    The authority is the patient's own sign-in: `patient_user` must be the active patient
    principal linked to this active patient record, and only patient-facing (self-report)
    instruments are accepted. The score is computed here as for every response; the audit
    event names the patient's user as the actor; a positive suicidality answer raises the
    same alert, assigned and notified exactly as for a questionnaire link
    (`_suicidality_record`).
    """
    if (
        patient_user is None
        or not getattr(patient_user, "is_authenticated", False)
        or not patient_user.is_active
        or not patient_user.is_patient_principal
        or patient.user_id != patient_user.pk
        or not patient.is_active
    ):
        raise PermissionDenied("Patients answer their own questionnaires only.")
    instrument = instrument_or_error(instrument_code)
    if not instrument.patient_facing:
        raise PermissionDenied("Clinician-rated scales are entered by staff.")
    if timepoint not in Timepoint.values:
        raise InvalidInput({"timepoint": [f"Choose one of: {', '.join(Timepoint.values)}."]})
    # As for links and the kiosk: `recorded_by` names staff; the audit event names the
    # patient's own user.
    return _response_store(
        audit_actor=patient_user,
        patient=patient,
        instrument=instrument,
        answers=answers,
        timepoint=timepoint,
        taken_at=timezone.now(),
        source=ResponseSource.PORTAL,
        recorded_by=None,
        link=None,
    )
