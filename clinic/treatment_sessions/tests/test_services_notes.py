"""Notes, the prescriber's signature (locked and hashed, later words as addenda), the therapist's
integration note, and the audit trail of every write. The REMS monitoring form is in
test_services_rems.py."""

from __future__ import annotations

import hashlib
import json
from contextlib import contextmanager

import pytest
from django.db.models import Max

from clinic.core.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.treatment_sessions import services, state
from clinic.treatment_sessions.models import IntegrationNote, SessionAddendum
from clinic.treatment_sessions.tests.conftest import (
    COMPLETE_REMS,
    MONDAY,
    at,
    fresh,
    identity_of,
    passing_prechecks,
)

pytestmark = pytest.mark.django_db

NOTE = "Uneventful infusion. Mild nausea at 09:20, settled without treatment."


def _sha256_of(content) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _discharge_iv(nurse, session, clock):
    clock.move_to(at(MONDAY, 10, 10))
    services.session_score_record(
        actor=nurse, session=session, kind="modified-aldrete", answers=[2, 2, 2, 2, 2]
    )
    return services.session_discharge(
        actor=nurse, session=session, escort_present=True, instructions_given=True
    )


@pytest.fixture
def iv_discharged(iv_stopped, nurse, clock):
    return fresh(_discharge_iv(nurse, iv_stopped, clock))


@pytest.fixture
def iv_signed(iv_discharged, nurse, prescriber, clock):
    services.nurse_note_save(actor=nurse, session=iv_discharged, text=NOTE)
    clock.move_to(at(MONDAY, 10, 30))
    services.session_sign(actor=prescriber, session=iv_discharged)
    return fresh(iv_discharged)


# --------------------------------------------------------------------------- sign blockers


def test_an_open_session_without_a_note_cannot_be_signed(iv_stopped, prescriber):
    assert state.sign_blockers(iv_stopped) == [
        "The session is still open: discharge or stop it first.",
        "The nurse's session note is not written.",
    ]

    with pytest.raises(Conflict) as error:
        services.session_sign(actor=prescriber, session=iv_stopped)

    assert error.value.code == "cannot_sign"
    assert error.value.message == (
        "The session is still open: discharge or stop it first. "
        "The nurse's session note is not written."
    )
    assert not fresh(iv_stopped).is_signed


def test_a_discharged_session_needs_the_nurses_note(iv_discharged, nurse, prescriber):
    assert state.sign_blockers(iv_discharged) == ["The nurse's session note is not written."]
    with pytest.raises(InvalidInput):
        services.nurse_note_save(actor=nurse, session=iv_discharged, text="  ")

    services.nurse_note_save(actor=nurse, session=iv_discharged, text=NOTE)

    session = fresh(iv_discharged)
    assert (session.nurse_note, session.nurse_note_by) == (NOTE, nurse)
    assert state.sign_blockers(session) == []


def test_an_unacknowledged_alert_blocks_signing(iv_checked_in, nurse, prescriber):
    services.vitals_record(actor=nurse, session=iv_checked_in, spo2_percent=89)
    services.session_stop(actor=nurse, session=iv_checked_in, reason="Hypoxic before dosing")
    services.nurse_note_save(actor=nurse, session=iv_checked_in, text="Sent to the ED.")

    with pytest.raises(Conflict) as error:
        services.session_sign(actor=prescriber, session=iv_checked_in)

    assert error.value.message == "A vitals alert is not acknowledged."


def test_a_residual_awaiting_waste_blocks_signing(iv_running, nurse, prescriber, clock):
    clock.move_to(at(MONDAY, 9, 40))
    administration = services.infusion_stop(actor=nurse, session=iv_running, given_mg="40")
    session = _discharge_iv(nurse, iv_running, clock)
    services.nurse_note_save(actor=nurse, session=session, text=NOTE)

    with pytest.raises(Conflict) as error:
        services.session_sign(actor=prescriber, session=session)
    assert error.value.message == "10 mg left in L100-001 awaits witnessed waste."

    services.residual_waste(
        actor=nurse, session=session, administration=administration, witness=prescriber
    )
    assert services.session_sign(actor=prescriber, session=session).is_signed


def test_only_a_prescriber_signs(iv_discharged, nurse, therapist):
    services.nurse_note_save(actor=nurse, session=iv_discharged, text=NOTE)

    for actor in (nurse, therapist):
        with pytest.raises(PermissionDenied):
            services.session_sign(actor=actor, session=iv_discharged)

    assert not fresh(iv_discharged).is_signed


def test_a_prescriber_off_the_care_team_cannot_sign(iv_discharged, nurse, make_staff):
    services.nurse_note_save(actor=nurse, session=iv_discharged, text=NOTE)
    stranger = make_staff("prescriber", username="prescriber_elsewhere")

    with pytest.raises(NotFound):
        services.session_sign(actor=stranger, session=iv_discharged)


# --------------------------------------------------------------------------- signed record


def test_the_signed_record_is_hashed_canonically(iv_signed, prescriber, nurse):
    session = iv_signed

    assert (session.signed_by, session.signed_at) == (prescriber, at(MONDAY, 10, 30))
    assert len(session.signed_sha256) == 64
    assert session.signed_sha256 == _sha256_of(session.signed_content)
    # The record as it reads now is the record that was signed.
    assert session.signed_sha256 == _sha256_of(state.session_content(session))
    content = session.signed_content
    assert content["session"] == str(session.uuid)
    assert content["nurse_note"] == NOTE
    assert content["phase"] == "discharged"
    assert [
        (a["kind"], a["drawn_mg"], a["given_mg"], a["lot"]) for a in content["administrations"]
    ] == [("iv_infusion", "50.000", "40.000", "L100")]
    assert [e["kind"] for e in content["infusion_events"]] == ["start", "stop"]
    assert [s["total"] for s in content["scores"]] == [10]
    event = AuditEvent.objects.get(summary="Session record signed")
    assert event.changes["sha256"] == session.signed_sha256


def _write_attempts(nurse, session):
    return {
        "vitals": lambda: services.vitals_record(actor=nurse, session=session, heart_rate_bpm=70),
        "note": lambda: services.nurse_note_save(actor=nurse, session=session, text="Changed"),
        "side effect": lambda: services.side_effect_record(
            actor=nurse, session=session, kind="headache", severity="mild"
        ),
        "adverse event": lambda: services.adverse_event_record(
            actor=nurse,
            session=session,
            description="Late headache",
            seriousness="non_serious",
            outcome="ongoing",
        ),
        "vitals in error": lambda: services.vitals_mark_entered_in_error(
            actor=nurse, vitals=session.vitals.first(), reason="Wrong"
        ),
        "stop": lambda: services.session_stop(actor=nurse, session=session, reason="x"),
    }


@pytest.mark.parametrize(
    "write", ["vitals", "note", "side effect", "adverse event", "vitals in error", "stop"]
)
def test_a_signed_record_refuses_every_write(iv_signed, nurse, write):
    with pytest.raises(Conflict) as error:
        _write_attempts(nurse, iv_signed)[write]()

    assert error.value.code == "session_signed"
    session = fresh(iv_signed)
    assert session.nurse_note == NOTE
    assert session.signed_sha256 == _sha256_of(state.session_content(session))


def test_a_signed_record_cannot_be_signed_again(iv_signed, prescriber):
    with pytest.raises(Conflict) as error:
        services.session_sign(actor=prescriber, session=iv_signed)

    assert error.value.code == "session_signed"


def test_addenda_follow_a_signed_record(iv_signed, nurse, prescriber, therapist):
    text = "Patient phoned at 18:00: slept well, no headache."

    addendum = services.session_addendum_add(actor=nurse, session=iv_signed, text=text)

    assert (addendum.author, addendum.text) == (nurse, text)
    assert addendum.sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()
    services.session_addendum_add(actor=prescriber, session=iv_signed, text="Reviewed.")
    assert SessionAddendum.objects.filter(session=iv_signed).count() == 2
    with pytest.raises(PermissionDenied):
        services.session_addendum_add(actor=therapist, session=iv_signed, text="Integration")
    with pytest.raises(InvalidInput):
        services.session_addendum_add(actor=nurse, session=iv_signed, text=" ")
    # The signed record itself is unchanged.
    session = fresh(iv_signed)
    assert session.signed_sha256 == _sha256_of(state.session_content(session))


def test_an_addendum_before_signing_is_refused(iv_discharged, nurse):
    with pytest.raises(Conflict) as error:
        services.session_addendum_add(actor=nurse, session=iv_discharged, text="Too early")

    assert error.value.code == "not_signed"
    assert not SessionAddendum.objects.exists()


def test_the_therapist_adds_integration_notes_before_and_after_signing(
    iv_discharged, nurse, prescriber, therapist, make_staff
):
    first = services.integration_note_add(
        actor=therapist, session=iv_discharged, text="Explored the image of the open door."
    )
    services.nurse_note_save(actor=nurse, session=iv_discharged, text=NOTE)
    services.session_sign(actor=prescriber, session=iv_discharged)

    second = services.integration_note_add(
        actor=therapist, session=iv_discharged, text="Follow-up: journaling daily."
    )

    assert [n.pk for n in IntegrationNote.objects.filter(session=iv_discharged)] == [
        first.pk,
        second.pk,
    ]
    assert second.sha256 == hashlib.sha256(b"Follow-up: journaling daily.").hexdigest()
    with pytest.raises(PermissionDenied):
        services.integration_note_add(actor=nurse, session=iv_discharged, text="Not mine")
    with pytest.raises(NotFound):
        services.integration_note_add(
            actor=make_staff("therapist", username="therapist_elsewhere"),
            session=iv_discharged,
            text="Not my patient",
        )


# --------------------------------------------------------------------------- audit


@contextmanager
def _audited(patient):
    """The block writes at least one audit event, and every event it writes names the
    patient."""
    last = AuditEvent.objects.aggregate(last=Max("id"))["last"] or 0
    yield
    new = list(AuditEvent.objects.filter(id__gt=last))
    assert new, "no audit event written"
    assert all(event.patient_id == patient.pk for event in new), [
        (event.object_type, event.summary, event.patient_id) for event in new
    ]


def test_every_write_of_an_iv_session_is_audited_with_the_patient(
    iv_appointment, nurse, prescriber, therapist, patient, vials, clock
):
    s = services
    clock.move_to(at(MONDAY, 8, 50))
    with _audited(patient):
        session = s.session_check_in(
            actor=nurse, appointment=iv_appointment, identity=identity_of(iv_appointment)
        )
    with _audited(patient):
        s.precheck_record(
            actor=nurse,
            session=session,
            data={**passing_prechecks(), "last_food_at": at(MONDAY, 6), "weight_today_kg": "80"},
        )
    with _audited(patient):
        s.vitals_record(actor=nurse, session=session, systolic_mmhg=150, diastolic_mmhg=85)
    with _audited(patient):
        s.pre_dose_bp_confirm(actor=prescriber, session=session, reason="Usual for her")
    with _audited(patient):
        s.precheck_override(actor=prescriber, session=session, reason="Dry toast only")
    clock.move_to(at(MONDAY, 9))
    with _audited(patient):
        s.infusion_start(actor=nurse, session=session, container=vials[0], drawn_mg="50")
    clock.move_to(at(MONDAY, 9, 10))
    with _audited(patient):
        entry, alerts = s.vitals_record(actor=nurse, session=session, spo2_percent=89)
    with _audited(patient):
        s.session_alert_acknowledge(actor=nurse, alert=alerts[0], action="pause")
    with _audited(patient):
        s.vitals_mark_entered_in_error(actor=nurse, vitals=entry, reason="Probe slipped")
    with _audited(patient):
        s.infusion_resume(actor=nurse, session=session)
    with _audited(patient):
        s.infusion_rate_change(actor=nurse, session=session, rate_ml_per_h="120")
    with _audited(patient):
        s.infusion_pause(actor=nurse, session=session, reason="Nausea")
    with _audited(patient):
        effect = s.side_effect_record(actor=nurse, session=session, kind="nausea", severity="mild")
    with _audited(patient):
        s.session_record_mark_entered_in_error(actor=nurse, record=effect, reason="Duplicate")
    with _audited(patient):
        s.adverse_event_record(
            actor=nurse,
            session=session,
            description="Brief hypotension",
            seriousness="non_serious",
            outcome="resolved",
        )
    clock.move_to(at(MONDAY, 9, 40))
    # The pump ran 09:00–09:10 only (paused since): 10 of the 40 minutes, so 10 mg at most.
    with _audited(patient):
        administration = s.infusion_stop(
            actor=nurse, session=session, given_mg="10", reason="Stopped for nausea"
        )
    with _audited(patient):
        s.residual_waste(
            actor=nurse, session=session, administration=administration, witness=prescriber
        )
    with _audited(patient):
        s.session_score_record(actor=nurse, session=session, kind="moaas", answers=[5])
    with _audited(patient):
        s.recovery_start(actor=nurse, session=session)
    clock.move_to(at(MONDAY, 10, 10))
    s.session_score_record(
        actor=nurse, session=session, kind="modified-aldrete", answers=[2, 2, 2, 2, 2]
    )
    with _audited(patient):
        s.session_discharge(
            actor=nurse, session=session, escort_present=True, instructions_given=True
        )
    with _audited(patient):
        s.nurse_note_save(actor=nurse, session=session, text=NOTE)
    with _audited(patient):
        s.integration_note_add(actor=therapist, session=session, text="Integration.")
    with _audited(patient):
        s.session_sign(actor=prescriber, session=session)
    with _audited(patient):
        s.session_addendum_add(actor=nurse, session=session, text="Phoned: well.")


def test_every_write_of_an_esketamine_session_is_audited_with_the_patient(
    esketamine_cleared, nurse, prescriber, patient, devices, clock
):
    s = services
    session = esketamine_cleared
    clock.move_to(at(MONDAY, 9))
    with _audited(patient):
        s.esketamine_device_record(actor=nurse, session=session, container=devices[0])
    with _audited(patient):
        s.rems_form_save(actor=nurse, session=session, values={"dose": "56 mg"})
    clock.move_to(at(MONDAY, 9, 3))
    with _audited(patient):
        s.session_stop(actor=prescriber, session=session, reason="Severe dissociation")
    with _audited(patient):
        s.rems_form_save(actor=nurse, session=session, values=COMPLETE_REMS)
    with _audited(patient):
        s.rems_form_mark_submitted(actor=nurse, session=session)
