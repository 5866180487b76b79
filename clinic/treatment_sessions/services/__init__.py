"""Writes of the chair-side session, one module per phase: check-in and pre-checks
(`check_in`), the IV infusion (`infusion`), the IM injection, esketamine devices and waste
(`dosing`), the flowsheet and its alerts (`flowsheet`), recovery, discharge and stopping
(`discharge`), notes and signature (`signature`) and the esketamine REMS monitoring form
(`rems`); the conversation between the chair and the prescriber is `prescriber`. The session
page's reads are in `state.py`.

Every service is keyword-only with `actor` first, atomic, checks the role and the care team,
locks the session row, and writes an AuditEvent. The clinical rules are those of `rules.py`
(pure), under the policy the session recorded at check-in.

This package's public face is the names below: callers import `services` and use them.
"""

from clinic.treatment_sessions.services.check_in import (
    IdentityCheck,
    pre_dose_bp_confirm,
    precheck_override,
    precheck_record,
    session_check_in,
)
from clinic.treatment_sessions.services.discharge import (
    recovery_start,
    session_discharge,
    session_stop,
)
from clinic.treatment_sessions.services.dosing import (
    esketamine_device_record,
    esketamine_dosing_end,
    im_injection_record,
    residual_waste,
)
from clinic.treatment_sessions.services.flowsheet import (
    adverse_event_record,
    session_alert_acknowledge,
    session_record_mark_entered_in_error,
    session_score_record,
    side_effect_record,
    vitals_mark_entered_in_error,
    vitals_record,
)
from clinic.treatment_sessions.services.infusion import (
    infusion_pause,
    infusion_rate_change,
    infusion_resume,
    infusion_start,
    infusion_stop,
)
from clinic.treatment_sessions.services.rems import (
    rems_form_mark_submitted,
    rems_form_save,
)
from clinic.treatment_sessions.services.signature import (
    content_sha256,
    integration_note_add,
    nurse_note_save,
    session_addendum_add,
    session_sign,
)

__all__ = [
    "IdentityCheck",
    "adverse_event_record",
    "content_sha256",
    "esketamine_device_record",
    "esketamine_dosing_end",
    "im_injection_record",
    "infusion_pause",
    "infusion_rate_change",
    "infusion_resume",
    "infusion_start",
    "infusion_stop",
    "integration_note_add",
    "nurse_note_save",
    "pre_dose_bp_confirm",
    "precheck_override",
    "precheck_record",
    "recovery_start",
    "rems_form_mark_submitted",
    "rems_form_save",
    "residual_waste",
    "session_addendum_add",
    "session_alert_acknowledge",
    "session_check_in",
    "session_discharge",
    "session_record_mark_entered_in_error",
    "session_score_record",
    "session_sign",
    "session_stop",
    "side_effect_record",
    "vitals_mark_entered_in_error",
    "vitals_record",
]
