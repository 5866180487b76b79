import pytest

# The chair-side tests' session fixtures, used by name in the vital-signs tests.
from clinic.treatment_sessions.tests.conftest import (  # noqa: F401
    chair,
    clock,
    device_product,
    devices,
    esketamine_appointment,
    esketamine_checked_in,
    esketamine_cleared,
    esketamine_dosed,
    iv_appointment,
    iv_checked_in,
    iv_cleared,
    iv_running,
    iv_stopped,
    vial_product,
    vials,
    weighed_patient,
)


@pytest.fixture
def scores(patient, nurse):
    """A PHQ-9 (the US Core example's answers, total 12) and a GAD-7 on two days, and a PHQ-9
    marked entered in error."""
    import datetime

    from clinic.assessments import services

    def record(code, answers, day):
        taken = datetime.datetime(2026, 11, day, 15, 0, tzinfo=datetime.UTC)
        return services.response_record(
            actor=nurse, patient=patient, instrument_code=code, answers=answers, taken_at=taken
        )

    phq9 = record("phq9", [2, 2, 2, 2, 1, 1, 2, 0, 0], 2)
    gad7 = record("gad7", [1, 1, 1, 1, 1, 1, 1], 9)
    withdrawn = record("phq9", [3] * 9, 5)
    services.response_mark_entered_in_error(
        actor=nurse, response=withdrawn, reason="Recorded for the wrong patient"
    )
    return {"phq9": phq9, "gad7": gad7, "withdrawn": withdrawn}
