"""The esketamine REMS monitoring form through the services: its suggestions from the session
record, answers saved in parts and checked against the form's choices, the form recorded as
submitted once complete, and signing waiting on it.
"""

from __future__ import annotations

import datetime

import pytest

from clinic.core.exceptions import Conflict, InvalidInput, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.screening import services as screening_services
from clinic.treatment_sessions import services, state
from clinic.treatment_sessions.tests.conftest import (
    COMPLETE_REMS,
    MONDAY,
    at,
    fresh,
)

pytestmark = pytest.mark.django_db

# --------------------------------------------------------------------------- REMS form


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
    from clinic.screening.tests.test_eligibility import TRD_HISTORY

    history = {
        **TRD_HISTORY,
        "medications": [
            {"name": "Methylphenidate", "medication_class": "psychostimulant", "dose": "10 mg"},
            {"name": "Lorazepam", "medication_class": "benzodiazepine", "dose": "0.5 mg"},
            {"name": "Sertraline", "medication_class": "other", "dose": "100 mg"},
        ],
    }
    intake = screening_services.intake_start(actor=nurse, patient=esketamine_discharged.patient)
    screening_services.intake_save(actor=nurse, intake=intake, submit=True, **history)

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


def test_a_signed_esketamine_record_refuses_the_rems_form(esketamine_signed, nurse):
    with pytest.raises(Conflict) as error:
        services.rems_form_save(actor=nurse, session=esketamine_signed, values={"dose": "84 mg"})

    assert error.value.code == "session_signed"
    assert fresh(esketamine_signed).rems_form["dose"] == "56 mg"
