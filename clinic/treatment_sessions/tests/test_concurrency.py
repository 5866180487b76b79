"""Two nurses at one chair at the same moment, through the services, on PostgreSQL (SQLite
serialises all writers, so it cannot race): the appointment's and the session's row locks queue
them, and the second sees what the first wrote. PostgreSQL only."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clinic.controlled_substances.models import Container, LedgerEntry
from clinic.core.exceptions import Conflict, InvalidInput
from clinic.patients.services import care_team_set
from clinic.treatment_sessions import services
from clinic.treatment_sessions.models import DoseAdministration, PrescriberRequest, TreatmentSession
from clinic.treatment_sessions.tests.conftest import MONDAY, at, fresh, identity_of
from tests.concurrency import in_threads

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def nurses(make_staff, front_desk, prescriber, nurse, patient):
    """Two nurses on `patient`'s care team."""
    team = [nurse, make_staff("nurse", username="nurse_b")]
    care_team_set(actor=front_desk, patient=patient, primary_prescriber=prescriber, nurses=team)
    return team


def test_two_nurses_checking_in_one_appointment_make_one_session(iv_appointment, nurses, clock):
    clock.move_to(at(MONDAY, 8, 50))

    def work(i):
        return services.session_check_in(
            actor=nurses[i], appointment=iv_appointment, identity=identity_of(iv_appointment)
        )

    results = in_threads(2, work)

    made = [r for r in results if isinstance(r, TreatmentSession)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(made) == 1 and len(refused) == 1, results
    assert refused[0].code == "already_checked_in"
    assert TreatmentSession.objects.filter(appointment=iv_appointment).count() == 1


def test_two_devices_at_the_same_moment_give_one(esketamine_cleared, nurses, devices, clock):
    clock.move_to(at(MONDAY, 9))

    def work(i):
        return services.esketamine_device_record(
            actor=nurses[i], session=esketamine_cleared, container=devices[i]
        )

    results = in_threads(2, work)

    given = [r for r in results if isinstance(r, DoseAdministration)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(given) == 1 and len(refused) == 1, results
    # The second waited for the session's lock, then saw device 1 given at 09:00.
    assert refused[0].code == "device_too_soon"
    assert refused[0].message == "Wait 5 min 00 s more: devices are 5 minutes apart (label)."
    assert given[0].device_number == 1
    balances = sorted(
        Container.objects.filter(pk__in=[d.pk for d in devices[:2]]).values_list(
            "balance_mg", flat=True
        )
    )
    assert balances == [Decimal("0.000"), Decimal("28.000")]
    assert LedgerEntry.objects.filter(kind="administration").count() == 1
    session = fresh(esketamine_cleared)
    assert (session.phase, session.dose_started_at) == ("dosing", at(MONDAY, 9))


def test_two_last_devices_at_the_same_moment_complete_the_dose_once(
    esketamine_cleared, nurses, devices, clock
):
    clock.move_to(at(MONDAY, 9))
    services.esketamine_device_record(
        actor=nurses[0], session=esketamine_cleared, container=devices[0]
    )
    clock.move_to(at(MONDAY, 9, 5))

    def work(i):
        return services.esketamine_device_record(
            actor=nurses[i], session=esketamine_cleared, container=devices[i + 1]
        )

    results = in_threads(2, work)

    given = [r for r in results if isinstance(r, DoseAdministration)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(given) == 1 and len(refused) == 1, results
    assert given[0].device_number == 2
    session = fresh(esketamine_cleared)
    assert (session.phase, session.dose_completed_at) == ("monitoring", at(MONDAY, 9, 5))
    assert LedgerEntry.objects.filter(kind="administration").count() == 2
    # 3 devices × 28 mg received, 2 used whole.
    total = sum(
        Container.objects.filter(pk__in=[d.pk for d in devices]).values_list(
            "balance_mg", flat=True
        )
    )
    assert total == Decimal("28.000")


def test_two_infusions_drawing_from_one_vial_at_once_take_only_what_is_there(
    iv_cleared, second_iv_cleared, nurse, vials, clock
):
    clock.move_to(at(MONDAY, 9))
    sessions = [iv_cleared, second_iv_cleared]

    def work(i):
        return services.infusion_start(
            actor=nurse, session=sessions[i], container=vials[0], drawn_mg="60"
        )

    results = in_threads(2, work)

    started = [r for r in results if isinstance(r, TreatmentSession)]
    refused = [r for r in results if isinstance(r, InvalidInput)]
    assert len(started) == 1 and len(refused) == 1, results
    # The vial's lock queued the second start behind the first's 60 mg draw.
    assert refused[0].errors == {
        "drawn_mg": ["L100-001 holds 100 mg, 60 mg of it drawn for another infusion in progress."]
    }
    assert TreatmentSession.objects.filter(phase="dosing").count() == 1


def test_two_high_pre_dose_readings_at_once_ask_the_prescriber_once(iv_checked_in, nurses, clock):
    clock.move_to(at(MONDAY, 8, 52))

    def work(i):
        return services.vitals_record(
            actor=nurses[i],
            session=iv_checked_in,
            systolic_mmhg=190 + i,
            diastolic_mmhg=120,
            heart_rate_bpm=80,
        )

    results = in_threads(2, work)

    assert all(isinstance(r, tuple) for r in results), results
    # The session's row lock queued the second reading behind the first, which had opened the
    # request: the second found it waiting.
    assert PrescriberRequest.objects.filter(session=iv_checked_in, status="open").count() == 1
