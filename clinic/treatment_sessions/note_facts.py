"""The facts of a session's note, gathered from its record and page for the pure drafter
(note_draft.py): what was given from which container, the pump's events, the readings, alerts,
scores, side effects, decisions and how the session ended, in the clinic's time zone.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from clinic.treatment_sessions import note_draft
from clinic.treatment_sessions.models import (
    TreatmentSession,
)
from clinic.treatment_sessions.page import SessionPage


def _local(moment: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(moment)


def note_draft_of(session: TreatmentSession, page: SessionPage) -> str:
    """The nurse's note drafted from the record (note_draft.py), for her to edit and save."""
    dose_detail = ""
    if page.dose.devices:
        dose_detail = page.dose.devices_text
    elif page.dose.mg_per_kg and page.dose.weight_used_kg:
        dose_detail = f"{page.dose.mg_per_kg} mg/kg × {page.dose.weight_used_kg} kg"
        if page.dose.infusion_minutes:
            dose_detail += f", over {page.dose.infusion_minutes} min"
    given = [
        note_draft.Given(
            at=_local(a.given_at),
            what=(
                f"device {a.device_number}"
                if a.device_number
                else a.get_kind_display()
                + (f" ({a.get_im_site_display().lower()})" if a.im_site else "")
            ),
            given_mg=a.given_mg,
            drawn_mg=a.drawn_mg,
            container=f"{a.container.label}, lot {a.container.lot.lot_number}",
            above_expected_reason=a.given_above_expected_reason,
        )
        for a in session.administrations.all()
    ]
    pump = [
        note_draft.Event(
            at=_local(e.occurred_at),
            text=e.get_kind_display().lower()
            + (f" at {e.rate_ml_per_h} mL/h" if e.rate_ml_per_h else "")
            + (f" ({e.reason})" if e.reason else ""),
        )
        for e in session.infusion_events.all()
    ]
    readings = [
        note_draft.Reading(
            at=_local(v.taken_at),
            systolic_mmhg=v.systolic_mmhg,
            diastolic_mmhg=v.diastolic_mmhg,
            heart_rate_bpm=v.heart_rate_bpm,
            spo2_percent=v.spo2_percent,
            respiratory_rate_per_min=v.respiratory_rate_per_min,
            temperature_c=v.temperature_c,
        )
        for v in page.vitals
        if v.is_valid
    ]
    alerts = [
        note_draft.Event(
            at=_local(a.created_at),
            text=a.message
            + (
                f" Acknowledged {_local(a.acknowledged_at):%H:%M}: {a.get_action_display().lower()}"
                + (f" ({a.action_note})" if a.action_note else "")
                + "."
                if a.acknowledged_at
                else " Not yet acknowledged."
            ),
        )
        for a in [*page.alerts_closed, *page.alerts_open]
    ]
    scores = [
        note_draft.Event(
            at=_local(row.taken_at),
            text=f"{row.label} {row.total if row.complete else 'incomplete'}",
        )
        for row in page.scores
    ]
    side_effects = [
        note_draft.Event(
            at=_local(e.noticed_at),
            text=f"{e.label.lower()} ({e.get_severity_display().lower()})"
            + (f", {e.intervention}" if e.intervention else ""),
        )
        for e in page.side_effects
        if e.is_valid
    ]
    adverse_events = [
        note_draft.Event(
            at=_local(e.onset_at),
            text=f"{e.get_seriousness_display().lower()}: {e.description}"
            + (f"; action: {e.action_taken}" if e.action_taken else "")
            + f"; outcome: {e.get_outcome_display().lower()}",
        )
        for e in page.adverse_events
        if e.is_valid
    ]
    decisions = [
        note_draft.Event(
            at=_local(o.created_at),
            text=f"{o.get_kind_display().lower()} by {o.prescriber.display_name}: {o.reason}",
        )
        for o in page.overrides
    ]
    ending = ""
    if session.discharged_at:
        ending = (
            f"Discharged {_local(session.discharged_at):%H:%M}"
            + (" with the escort" if session.escort_present_at_discharge else "")
            + ("; post-session instructions given." if session.instructions_given else ".")
        )
    elif session.stopped_at:
        ending = f"Session stopped {_local(session.stopped_at):%H:%M}: {session.stop_reason}."
    return note_draft.session_note_draft(
        note_draft.DraftFacts(
            route=page.route_label,
            chair=session.appointment.chair.name,
            checked_in_at=_local(session.checked_in_at),
            identity_confirmed=bool(session.identity_confirmed_with),
            dose_mg=page.dose.dose_mg,
            dose_detail=dose_detail,
            given=given,
            pump=pump,
            readings=readings,
            alerts=alerts,
            scores=scores,
            side_effects=side_effects,
            adverse_events=adverse_events,
            decisions=decisions,
            ending=ending,
        )
    )
