"""What every session operation shares: the session's entity tag, its record as the session
page reads it (page.session_page, the one read model of the chair side), and the glue of a
change (the role first, the session through its selector, If-Match under the row lock)."""

from __future__ import annotations

import datetime
import json
import uuid
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone

from clinic.accounts.permissions import Capability
from clinic.controlled_substances.models import Container
from clinic.controlled_substances.services import residual_outstanding_mg
from clinic.core.access import require
from clinic.core.api_versions import entity_tag, precondition
from clinic.core.exceptions import NotFound
from clinic.screening.choices import Route
from clinic.treatment_sessions import rems, rules, selectors
from clinic.treatment_sessions.choices import PrescriberRequestStatus
from clinic.treatment_sessions.models import (
    AdverseEvent,
    PrescriberRequest,
    SessionAlert,
    SessionScore,
    SideEffect,
    TreatmentSession,
)
from clinic.treatment_sessions.page import session_page
from clinic.treatment_sessions.state import policy_of


def session_etag(session: TreatmentSession) -> str:
    """The session and every row of its record: a reading, an alert acknowledged, a pump event,
    a dose or its waste, a score, an override each change it. Reads the prefetched rows of
    `selectors.session_queryset()`; on the row the services lock (nothing prefetched) the same
    values cost a query per kind."""
    parts: list[object] = ["treatment_session", session.uuid, session.updated_at, session.phase]
    parts.append(session.signed_at)
    # What closing the record changes on the session's own row (a moment may repeat within a
    # clock tick; the words themselves do not).
    parts.extend(
        (
            session.nurse_note,
            json.dumps(session.rems_form or {}, sort_keys=True, default=str),
            session.rems_submitted_at,
        )
    )
    for rows in (
        session.vitals.all(),
        session.alerts.all(),
        session.overrides.all(),
        session.infusion_events.all(),
        session.scores.all(),
        session.side_effects.all(),
        session.adverse_events.all(),
        session.addenda.all(),
        session.integration_notes.all(),
    ):
        parts.extend((row.uuid, row.updated_at) for row in rows)
    for administration in session.administrations.all():
        # A waste writes a ledger entry only: what is left to waste is part of the record.
        parts.append(
            (
                administration.uuid,
                administration.updated_at,
                residual_outstanding_mg(administration.ledger_entry),
            )
        )
    return entity_tag(*parts)


def matches(if_match: str | None):
    """The services' precondition: the session's tag, compared under its row lock."""
    return precondition(if_match, session_etag)


def for_change(request, session_uuid: uuid.UUID) -> TreatmentSession:
    """The session a change is for, as the page's posts read it: the role first (a refusal
    reads nothing), then the care team (404 otherwise); the location and phase are the
    service's, under its lock."""
    require(request.auth, Capability.SESSION_RUN)
    return selectors.session_get(actor=request.auth, session_uuid=session_uuid, audit=False)


def named(user) -> dict | None:
    return {"uuid": user.uuid, "name": user.display_name} if user is not None else None


def chair_of(session: TreatmentSession) -> dict:
    chair = session.appointment.chair
    return {
        "uuid": chair.uuid,
        "name": chair.name,
        "room": {"uuid": chair.room.uuid, "name": chair.room.name},
        "location": {"uuid": chair.room.location.uuid, "name": chair.room.location.name},
    }


def patient_ref(patient) -> dict:
    return {"uuid": patient.uuid, "mrn": patient.mrn, "name": patient.display_name}


def alert_read(alert: SessionAlert) -> dict:
    return {
        "uuid": alert.uuid,
        "vitals_uuid": alert.vitals.uuid,
        "code": alert.code,
        "severity": alert.severity,
        "message": alert.message,
        "recommendation": alert.recommendation or None,
        "source": alert.source,
        "created_at": alert.created_at,
        "acknowledged_at": alert.acknowledged_at,
        "acknowledged_by": named(alert.acknowledged_by),
        "action": alert.action or None,
        "action_note": alert.action_note,
    }


def vitals_read(entry, alert_uuids: list) -> dict:
    return {
        "uuid": entry.uuid,
        "taken_at": entry.taken_at,
        "phase": entry.phase,
        "systolic_mmhg": entry.systolic_mmhg,
        "diastolic_mmhg": entry.diastolic_mmhg,
        "heart_rate_bpm": entry.heart_rate_bpm,
        "spo2_percent": entry.spo2_percent,
        "respiratory_rate_per_min": entry.respiratory_rate_per_min,
        "temperature_c": entry.temperature_c,
        "recorded_by": named(entry.recorded_by),
        **in_error(entry),
        "alerts": alert_uuids,
    }


def in_error(row) -> dict:
    """A correction's state: the row stays in the record, with why, when and by whom."""
    return {
        "entered_in_error": row.entered_in_error_at is not None,
        "entered_in_error_reason": row.entered_in_error_reason,
        "entered_in_error_at": row.entered_in_error_at,
        "entered_in_error_by": named(row.entered_in_error_by),
    }


def score_read(score: SessionScore) -> dict:
    response = score.response
    return {
        "uuid": score.uuid,
        "kind": score.kind,
        "taken_at": response.taken_at,
        "answers": response.answers,
        "total": response.total,
        "complete": response.complete,
        "recorded_by": named(response.recorded_by),
    }


def side_effect_read(effect: SideEffect) -> dict:
    return {
        "uuid": effect.uuid,
        "kind": effect.kind,
        "label": effect.label,
        "other_text": effect.other_text,
        "severity": effect.severity,
        "noticed_at": effect.noticed_at,
        "intervention": effect.intervention,
        "recorded_by": named(effect.recorded_by),
        **in_error(effect),
    }


def adverse_event_read(event: AdverseEvent) -> dict:
    return {
        "uuid": event.uuid,
        "description": event.description,
        "seriousness": event.seriousness,
        "onset_at": event.onset_at,
        "outcome": event.outcome,
        "action_taken": event.action_taken,
        "recorded_by": named(event.recorded_by),
        **in_error(event),
    }


def _container(container: Container) -> dict:
    lot = container.lot
    return {
        "uuid": container.uuid,
        "label": container.label,
        "lot": {"product": lot.product.name, "lot_number": lot.lot_number, "expiry": lot.expiry},
    }


def summary(session: TreatmentSession, *, visible: bool) -> dict:
    return {
        "uuid": session.uuid,
        "phase": session.phase,
        "route": session.route,
        "checked_in_at": session.checked_in_at,
        "chair": chair_of(session),
        "assigned_nurse": named(session.assigned_nurse),
        "patient": patient_ref(session.patient) if visible else None,
        "updated_at": session.updated_at,
    }


def session_read(session: TreatmentSession, *, actor) -> dict:
    """The whole record, from the page's own view-model: the same pre-check verdicts, dose,
    alerts, residuals and discharge criteria the nurse sees."""
    page = session_page(session, actor=actor, now=timezone.now())
    alerts = page.alerts_open + page.alerts_closed
    alerts.sort(key=lambda a: (a.created_at, a.pk))
    raised: dict[int, list] = {}
    for alert in alerts:
        raised.setdefault(alert.vitals_id, []).append(alert.uuid)
    outstanding = {a.pk: mg for a, mg in page.residuals}
    precheck = page.precheck
    discharge = page.discharge
    events = page.infusion_events
    return {
        **summary(session, visible=True),
        "patient": {
            **patient_ref(session.patient),
            "age_years": page.age_years,
            "allergies": page.allergies,
        },
        "appointment_uuid": session.appointment.uuid,
        "planned_session_uuid": session.planned_session.uuid if session.planned_session else None,
        "checked_in_by": named(session.checked_in_by),
        "can_run": page.can_run,
        "next_vitals_due_at": page.next_vitals.at if page.next_vitals else None,
        "pre_checks": {
            "last_food_at": session.last_food_at,
            "last_liquid_at": session.last_liquid_at,
            "escort_name": session.escort_name,
            "escort_phone": session.escort_phone,
            "escort_confirmed": session.escort_confirmed,
            "pregnancy_test": session.pregnancy_test,
            "questionnaires": session.questionnaires,
            "questionnaires_skip_reason": session.questionnaires_skip_reason,
            "suicidality_follow_up": session.suicidality_follow_up,
            "intention": session.intention,
            "setting_eye_mask": session.setting_eye_mask,
            "setting_headphones_music": session.setting_headphones_music,
            "setting_music_choice": session.setting_music_choice,
            "setting_lighting": session.setting_lighting,
            "weight_today_kg": session.weight_today_kg,
            "status": {
                "items": [
                    {"key": i.key, "label": i.label, "ok": i.ok, "messages": list(i.messages)}
                    for i in precheck.items
                ],
                "passed": precheck.passed,
                "overridden": precheck.overridden,
                "bp_confirmed": precheck.bp_confirmed,
                "cleared": precheck.cleared,
            }
            if precheck is not None
            else None,
        },
        "dose": {
            "dose_mg": page.dose.dose_mg,
            "mg_per_kg": page.dose.mg_per_kg,
            "weight_used_kg": page.dose.weight_used_kg,
            "infusion_minutes": page.dose.infusion_minutes,
            "devices": page.dose.devices,
            "problem": page.dose.problem,
        },
        "dose_started_at": session.dose_started_at,
        "dose_completed_at": session.dose_completed_at,
        "vitals": [vitals_read(v, raised.get(v.pk, [])) for v in page.vitals],
        "alerts": [alert_read(a) for a in alerts],
        "overrides": [
            {
                "uuid": o.uuid,
                "kind": o.kind,
                "prescriber": named(o.prescriber),
                "reason": o.reason,
                "unmet": [
                    {"key": str(u.get("key", "")), "messages": list(u.get("messages", []))}
                    for u in o.unmet
                ],
                "created_at": o.created_at,
            }
            for o in page.overrides
        ],
        "infusion": {
            "container": _container(session.infusion_container)
            if session.infusion_container
            else None,
            "drawn_mg": session.infusion_drawn_mg,
            "rate_ml_per_h": session.infusion_rate_ml_per_h,
            "running": page.infusion_running,
            "paused": page.infusion_paused,
            "planned_end_at": page.infusion_planned_end,
            "events": [
                {
                    "uuid": e.uuid,
                    "kind": e.kind,
                    "occurred_at": e.occurred_at,
                    "rate_ml_per_h": e.rate_ml_per_h,
                    "reason": e.reason,
                    "recorded_by": named(e.recorded_by),
                }
                for e in events
            ],
        }
        if session.route == "iv"
        else None,
        "administrations": [
            {
                "uuid": a.uuid,
                "kind": a.kind,
                "given_at": a.given_at,
                "drawn_mg": a.drawn_mg,
                "given_mg": a.given_mg,
                "awaiting_waste_mg": outstanding.get(a.pk, Decimal(0)),
                "container": _container(a.container),
                "im_site": a.im_site or None,
                "device_number": a.device_number,
                "recorded_by": named(a.recorded_by),
            }
            for a in page.administrations
        ],
        # The page's rows (page.scores reads the same prefetched scores, without their ids).
        "scores": [score_read(s) for s in session.scores.all()],
        "side_effects": [side_effect_read(e) for e in page.side_effects],
        "adverse_events": [adverse_event_read(e) for e in page.adverse_events],
        "discharge": {
            "allowed": discharge.allowed if discharge else None,
            "blocking_reasons": [
                {"code": f.code, "message": f.message} for f in discharge.blocking_reasons
            ]
            if discharge
            else [],
            "observation_ends_at": discharge.observation_ends_at if discharge else None,
            "discharged_at": session.discharged_at,
            "discharged_by": named(session.discharged_by),
            "escort_present": session.escort_present_at_discharge,
            "instructions_given": session.instructions_given,
            "instructions_text": session.instructions_text,
            "stopped_at": session.stopped_at,
            "stopped_by": named(session.stopped_by),
            "stop_reason": session.stop_reason,
        },
        "signature": {
            "signed_at": session.signed_at,
            "signed_by": named(session.signed_by),
            "sha256": session.signed_sha256,
            "blockers": page.sign_blockers,
        },
        "note": {
            "text": session.nurse_note,
            "written_by": named(session.nurse_note_by),
            "written_at": session.nurse_note_at,
        },
        "addenda": [note_read(a) for a in session.addenda.all()],
        "integration_notes": [note_read(n) for n in session.integration_notes.all()],
        "rems": rems_status(session, missing=page.rems_missing),
        "prescriber_requests": [
            request_read(r, now=page.now, email_after_min=page.email_after_min)
            for r in page.requests
        ],
    }


def note_read(note) -> dict:
    """An addendum or an integration note: added, never changed."""
    return {
        "uuid": note.uuid,
        "text": note.text,
        "author": named(note.author),
        "created_at": note.created_at,
        "sha256": note.sha256,
    }


def rems_status(session: TreatmentSession, *, missing: list[str]) -> dict | None:
    """The monitoring form of a dosed esketamine session: what is unanswered, when it is due
    (rems.py, as the list of forms due says it) and whether it went to the REMS."""
    if session.route != Route.ESKETAMINE or session.dose_started_at is None:
        return None
    day = rems.session_date(session)
    policy = policy_of(session)
    return {
        "complete": not missing,
        "missing": missing,
        "session_date": day,
        "due_on": rules.rems_form_due(day, policy),
        "overdue": session.rems_submitted_at is None
        and rules.rems_form_overdue(day, timezone.localdate(), policy),
        "submitted_at": session.rems_submitted_at,
        "submitted_by": named(session.rems_submitted_by),
    }


def request_read(
    request: PrescriberRequest, *, now: datetime.datetime, email_after_min: int
) -> dict:
    """A decision asked of a prescriber, with how long it has waited and when it is (or was)
    e-mailed, as the in-basket and the chair board show it."""
    session = request.session
    delay = datetime.timedelta(minutes=email_after_min)
    waiting = request.status == PrescriberRequestStatus.OPEN
    until = request.closed_at or now
    return {
        "uuid": request.uuid,
        "kind": request.kind,
        "status": request.status,
        "session_uuid": session.uuid,
        "chair": chair_of(session),
        "patient": patient_ref(session.patient),
        "requested_by": named(request.requested_by),
        "asked_at": request.created_at,
        "note": request.note,
        "about": list(request.about),
        "waited_min": max(int((until - request.created_at).total_seconds() // 60), 0),
        "escalation": {
            "email_after_min": email_after_min,
            "email_due_at": request.created_at + delay,
            "overdue": waiting and now - request.created_at >= delay,
            "emailed_at": request.email_queued_at,
        },
        "closed_at": request.closed_at,
        "closed_by": named(request.closed_by),
        "closing_note": request.closing_note,
    }


def answer(response: HttpResponse, session_uuid, *, actor) -> dict:
    """The session as it is now (read again, prefetched), with its new ETag."""
    session = selectors.session_get(actor=actor, session_uuid=session_uuid, audit=False)
    response["ETag"] = session_etag(session)
    return session_read(session, actor=actor)


def alert_in(session: TreatmentSession, alert_uuid: uuid.UUID) -> SessionAlert:
    found = next((a for a in session.alerts.all() if a.uuid == alert_uuid), None)
    if found is None:
        raise NotFound("No such alert in this session.")
    return found
