"""Notes, the prescriber's signature (locked and hashed, later words as addenda), the therapist's
integration note, the esketamine REMS monitoring form, and the audit trail of every write."""

from __future__ import annotations

import datetime
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


def test_a_signed_esketamine_record_refuses_the_rems_form(esketamine_signed, nurse):
    with pytest.raises(Conflict) as error:
        services.rems_form_save(actor=nurse, session=esketamine_signed, values={"dose": "84 mg"})

    assert error.value.code == "session_signed"
    assert fresh(esketamine_signed).rems_form["dose"] == "56 mg"


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


# --------------------------------------------------------------------------- REMS form

COMPLETE_REMS = {
    "patient_id": "P-000123",
    "setting_id": "HCS-0042",
    "session_date": "2031-06-02",
    "dose": "56 mg",
    "lot_number": "ESK1",
    "concomitant_medications": [],
    "total_monitoring_minutes": 125,
    "vitals_acceptable_pre_dose": True,
    "vitals_acceptable_at_completion": True,
    "bp_pre_dose": "130/80 mmHg",
    "bp_about_40_min": "142/88 mmHg",
    "bp_pre_discharge": "128/80 mmHg",
    "sedation_occurred": False,
    "dissociation_occurred": True,
    "respiratory_depression_occurred": False,
    "serious_adverse_events": [],
    "ready_to_leave": "Yes",
}


@pytest.fixture
def esketamine_discharged(esketamine_dosed, nurse, clock):
    """Vitals at 09:44 (before the ~40-min recheck at 09:45), 09:45, 11:04 and 11:05 (the end
    of the 2-h observation after the last device at 09:05); discharged at 11:05."""
    session = esketamine_dosed
    for (hour, minute), (systolic, diastolic) in [
        ((9, 44), (150, 90)),
        ((9, 45), (142, 88)),
        ((11, 4), (135, 85)),
        ((11, 5), (128, 80)),
    ]:
        clock.move_to(at(MONDAY, hour, minute))
        services.vitals_record(
            actor=nurse, session=session, systolic_mmhg=systolic, diastolic_mmhg=diastolic
        )
    services.session_score_record(actor=nurse, session=session, kind="moaas", answers=[4])
    services.session_score_record(
        actor=nurse, session=session, kind="modified-aldrete", answers=[2, 2, 2, 2, 2]
    )
    services.session_discharge(
        actor=nurse, session=session, escort_present=True, instructions_given=True
    )
    return fresh(session)


@pytest.fixture
def esketamine_signed(esketamine_discharged, nurse, prescriber):
    services.rems_form_save(actor=nurse, session=esketamine_discharged, values=COMPLETE_REMS)
    services.nurse_note_save(actor=nurse, session=esketamine_discharged, text="Two devices.")
    services.session_sign(actor=prescriber, session=esketamine_discharged)
    return fresh(esketamine_discharged)


def test_the_rems_form_prefill_comes_from_the_session_record(esketamine_discharged, settings):
    settings.SPRAVATO_REMS_SETTING_ID = "HCS-0042"

    values = state.rems_form_prefill(esketamine_discharged)

    assert values == {
        "setting_id": "HCS-0042",
        "session_date": "2031-06-02",
        "dose": "56 mg",
        # The intake lists sertraline only ("other"): none of the form's classes.
        "concomitant_medications": [],
        "lot_number": "ESK1",
        # Pre-dose 130/80 (pre-checks); the first BP at or after 09:45 (40 min after the last
        # device); the last BP at or after 11:05 (120 min after it).
        "bp_pre_dose": "130/80 mmHg",
        "bp_about_40_min": "142/88 mmHg",
        "bp_pre_discharge": "128/80 mmHg",
        # From the first device at 09:00 to discharge at 11:05.
        "total_monitoring_minutes": 125,
        "sedation_occurred": True,  # MOAA/S 4 < 5
        "serious_adverse_events": [],
    }


def test_the_rems_patient_id_comes_from_the_enrolment(esketamine_discharged, prescriber):
    from clinic.screening.models import RemsEnrollment

    assert "patient_id" not in state.rems_form_prefill(esketamine_discharged)
    RemsEnrollment.objects.create(
        patient=esketamine_discharged.patient,
        enrolled_on=datetime.date(2031, 5, 1),
        rems_patient_id="PT-0042",
        signed_by_patient=True,
        signed_by_prescriber=prescriber,
        recorded_by=prescriber,
    )
    assert state.rems_form_prefill(fresh(esketamine_discharged))["patient_id"] == "PT-0042"


def test_the_form_names_the_intakes_sedatives_and_stimulants(esketamine_discharged, nurse):
    """Classes of the latest submitted intake, as the form names them, in the form's order."""
    from clinic.screening import intake as intake_services
    from clinic.screening.tests.test_eligibility import TRD_HISTORY

    history = {
        **TRD_HISTORY,
        "medications": [
            {"name": "Methylphenidate", "medication_class": "psychostimulant", "dose": "10 mg"},
            {"name": "Lorazepam", "medication_class": "benzodiazepine", "dose": "0.5 mg"},
            {"name": "Sertraline", "medication_class": "other", "dose": "100 mg"},
        ],
    }
    intake = intake_services.intake_start(actor=nurse, patient=esketamine_discharged.patient)
    intake_services.intake_save(actor=nurse, intake=intake, submit=True, **history)

    values = state.rems_form_prefill(fresh(esketamine_discharged))

    assert values["concomitant_medications"] == ["benzodiazepines", "psychostimulants"]


def test_the_rems_form_refuses_unknown_fields_and_bad_answers(esketamine_dosed, nurse):
    with pytest.raises(InvalidInput) as error:
        services.rems_form_save(
            actor=nurse,
            session=esketamine_dosed,
            values={
                "colour": "blue",
                "dose": "28 mg",
                "concomitant_medications": ["alcohol"],
                "sedation_occurred": "maybe",
                "dissociation_occurred": 1,
                "total_monitoring_minutes": "two hours",
                "serious_adverse_events": 5,
            },
        )

    assert error.value.errors == {
        "colour": ["Not a field of the monitoring form."],
        "dose": ["Choose one of the form's answers."],
        "concomitant_medications": ["Choose from the form's list."],
        "sedation_occurred": ["Answer yes or no."],
        "dissociation_occurred": ["Answer yes or no."],
        "total_monitoring_minutes": ["Enter whole minutes."],
        "serious_adverse_events": ["List the serious adverse events, one a line."],
    }
    assert fresh(esketamine_dosed).rems_form == {}


def test_serious_adverse_events_are_entered_one_a_line(esketamine_dosed, nurse):
    services.rems_form_save(
        actor=nurse,
        session=esketamine_dosed,
        values={"serious_adverse_events": "Syncope\n\n  Seizure  \n"},
    )

    assert fresh(esketamine_dosed).rems_form == {"serious_adverse_events": ["Syncope", "Seizure"]}


def test_the_rems_form_saves_in_parts(esketamine_dosed, nurse, patient):
    services.rems_form_save(actor=nurse, session=esketamine_dosed, values={"dose": "56 mg"})
    services.rems_form_save(
        actor=nurse,
        session=esketamine_dosed,
        values={"concomitant_medications": ["benzodiazepines", "opioids"]},
    )

    assert fresh(esketamine_dosed).rems_form == {
        "dose": "56 mg",
        "concomitant_medications": ["benzodiazepines", "opioids"],
    }
    assert (
        AuditEvent.objects.filter(summary="REMS monitoring form saved", patient=patient).count()
        == 2
    )


def test_the_rems_form_is_for_esketamine_only(iv_stopped, nurse, prescriber):
    with pytest.raises(Conflict) as error:
        services.rems_form_save(actor=nurse, session=iv_stopped, values={"dose": "56 mg"})
    assert error.value.code == "route"

    with pytest.raises(Conflict) as error:
        services.rems_form_mark_submitted(actor=prescriber, session=iv_stopped)
    assert error.value.code == "route"


def test_an_incomplete_rems_form_blocks_signing(esketamine_discharged, nurse, prescriber):
    services.nurse_note_save(actor=nurse, session=esketamine_discharged, text="Two devices.")
    partial = {k: v for k, v in COMPLETE_REMS.items() if k not in ("patient_id", "ready_to_leave")}
    services.rems_form_save(actor=nurse, session=esketamine_discharged, values=partial)

    with pytest.raises(Conflict) as error:
        services.session_sign(actor=prescriber, session=esketamine_discharged)

    assert error.value.message == (
        "The REMS monitoring form is incomplete: Patient ID, Patient's readiness to leave."
    )
    services.rems_form_save(
        actor=nurse,
        session=esketamine_discharged,
        values={"patient_id": "P-000123", "ready_to_leave": "Yes"},
    )
    assert services.session_sign(actor=prescriber, session=esketamine_discharged).is_signed


def test_the_rems_form_is_marked_submitted_only_when_complete_and_once(
    esketamine_discharged, nurse, clinic_admin, clock
):
    with pytest.raises(Conflict) as error:
        services.rems_form_mark_submitted(actor=clinic_admin, session=esketamine_discharged)
    assert error.value.code == "rems_incomplete"

    services.rems_form_save(actor=nurse, session=esketamine_discharged, values=COMPLETE_REMS)
    clock.move_to(at(MONDAY + datetime.timedelta(days=2), 12))
    services.rems_form_mark_submitted(actor=clinic_admin, session=esketamine_discharged)

    session = fresh(esketamine_discharged)
    assert session.rems_submitted_at == at(MONDAY + datetime.timedelta(days=2), 12)
    assert session.rems_submitted_by == clinic_admin
    with pytest.raises(Conflict) as error:
        services.rems_form_mark_submitted(actor=nurse, session=esketamine_discharged)
    assert error.value.code == "already_submitted"


def test_the_rems_form_may_be_marked_submitted_after_signing(esketamine_signed, nurse):
    services.rems_form_mark_submitted(actor=nurse, session=esketamine_signed)

    assert fresh(esketamine_signed).rems_submitted_by == nurse


def test_front_desk_cannot_mark_the_rems_form_submitted(esketamine_signed, front_desk):
    with pytest.raises(PermissionDenied):
        services.rems_form_mark_submitted(actor=front_desk, session=esketamine_signed)


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
