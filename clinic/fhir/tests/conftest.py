# The chair-side tests' session fixtures, used by name in the vital-signs tests.
from clinic.treatment_sessions.tests.conftest import (  # noqa: F401
    chair,
    clock,
    iv_appointment,
    iv_checked_in,
    weighed_patient,
)
