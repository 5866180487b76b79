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
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.assessments.alerts import WRITE_A_NOTE, suicidality_record
from clinic.assessments.choices import ResponseSource, Timepoint
from clinic.assessments.instruments import get_instrument
from clinic.assessments.instruments.base import AnswerError, Instrument
from clinic.assessments.models import AssessmentResponse, QuestionnaireLink
from clinic.assessments.policy import scoring_policy
from clinic.assessments.selectors import SessionBoundsAnnotator, due_for_patients
from clinic.assessments.suicidality import CSSRS_CODE, suicidality_triggers
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from clinic.core.parsing import event_moment
from clinic.core.records import mark_entered_in_error, required_text
from clinic.notifications.services import notification_queue
from clinic.patients.models import CareTeamMember, Patient
from clinic.patients.selectors import can_act_clinically
from clinic.patients.services import patient_row_lock

LINK_TOKEN_BYTES = 32


def instrument_or_error(code: str) -> Instrument:
    try:
        return get_instrument(code)
    except KeyError as error:
        raise InvalidInput({"instrument": [f"Unknown instrument {code!r}."]}) from error


@transaction.atomic
def response_record(
    *,
    actor: User | None,
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
        if actor is None or not can_act_clinically(
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
    # Not in the future beyond clock skew, not before 2000 nor before the patient was born.
    taken_at = event_moment(
        "taken_at",
        taken_at,
        now=timezone.now(),
        born_on=patient.date_of_birth,
        future_message="An assessment cannot be dated in the future.",
    )
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


# A questionnaire with no answer at all is not a record of anything: refused on every path.
BLANK_RESPONSE_MESSAGE = (
    "No question was answered, so nothing was saved. Answer at least one question."
)


def _response_store(
    *,
    audit_actor: User | None,
    patient: Patient,
    instrument: Instrument,
    answers: Sequence[int | None],
    timepoint: str,
    taken_at: datetime.datetime,
    source: str,
    recorded_by: User | None,
    link: QuestionnaireLink | None,
) -> AssessmentResponse:
    """Score on the server, store the response, audit it and raise (or add to) a suicidality
    alert: the one path for staff entry, links, the kiosk, the portal, the API and the session
    scores.

    A blank form (no item answered) is refused; a partly answered one is stored, unscored,
    with its flags (calculators.md §1: a suicidality answer is never ignored). For the
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
        suicidality_record(
            patient=patient, response=response, instrument=instrument, triggers=triggers
        )
    return response


@transaction.atomic
def response_mark_entered_in_error(
    *, actor: User, response: AssessmentResponse, reason: str
) -> AssessmentResponse:
    """The response stays in the record, struck through; alerts it raised stay too."""
    reason = required_text("reason", reason, WRITE_A_NOTE)
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
    actor: User,
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
    *,
    patient: Patient,
    codes: Sequence[str],
    timepoint: str,
    kiosk: bool,
    created_by: User | None,
    hours: int,
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
    *, patient: Patient, instrument_codes: Sequence[str], timepoint: str
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
    *, session_bounds: SessionBoundsAnnotator, now: datetime.datetime | None = None
) -> int:
    """E-mail each patient a questionnaire link for what is due (from the clinic's schedule),
    unless a usable link for that timepoint is already out. Returns how many were queued.
    Run daily (`manage.py send_assessment_reminders`); the worker delivers the e-mail."""
    now = now or timezone.now()
    # Each patient once (an EXISTS, not a join that repeats them per care-team member).
    patients = (
        Patient.objects.active()
        .exclude(email="")
        .filter(Exists(CareTeamMember.objects.filter(patient_id=OuterRef("pk"))))
    )
    queued = 0
    for patient, items in due_for_patients(
        patients=patients, now=now, session_bounds=session_bounds
    ).items():
        for item in items:
            codes = [c for c in item.missing if get_instrument(c).patient_facing]
            if not codes:
                continue
            with transaction.atomic():
                # Two runs at once (cron on two hosts, or cron beside the worker's task) queue
                # one link: the patient's row lock makes the second wait, then see the first's.
                patient_row_lock(patient_id=patient.pk)
                if QuestionnaireLink.objects.filter(
                    patient=patient,
                    timepoint=item.timepoint,
                    used_at__isnull=True,
                    revoked_at__isnull=True,
                    expires_at__gt=now,
                ).exists():
                    continue
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
    patient_user: User | None,
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
    (`alerts.suicidality_record`).
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
