"""The session tests' clinic day, for the in-basket's tests (fixtures used by name)."""

from clinic.controlled_substances.tests.conftest import (  # noqa: F401
    device_product,
    vial_product,
)
from clinic.treatment_sessions.tests.conftest import (  # noqa: F401
    chair,
    clock,
    esketamine_appointment,
    iv_appointment,
    iv_checked_in,
    iv_cleared,
    iv_running,
    iv_stopped,
    vials,
    weighed_patient,
)
