"""The at-home program's clinic policy: the blood pressure above which a patient must not take
the at-home sublingual dose.

Read from `settings.CLINIC_POLICY["home_program"]` (a dict with any of the fields of
HomeProgramPolicy); anything not set keeps the default below.

Sources (keys of docs/clinical/clinical-reference.md):
- At-home programs have the patient report their blood pressure before each session [B9]; a
  specific at-home cut-off is UNCONFIRMED (clinical-reference §2.4).
- The default is the clinic's pre-dose limit that needs a prescriber's confirmation to dose in
  clinic: systolic > 140 or diastolic > 90 mmHg (Spravato label "general guide" [C2], [C7];
  IV clinic practice "do not treat that day" [E1]; policy-defaults.md, "Vital signs"). At home
  no prescriber is there to confirm, so above either limit the patient does not dose that day.
  This reading needs a clinician's confirmation (docs/clinical/session-rules.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from clinic.core.policy import plausible_range, policy_with_overrides

SECTION = "home_program"


@dataclass(frozen=True)
class HomeProgramPolicy:
    # Above either value (strictly greater), no dose at home today: 140/90 [C2], [E1].
    dose_blocked_systolic_above_mmhg: int = 140
    dose_blocked_diastolic_above_mmhg: int = 90

    def blocks(self, *, systolic_mmhg: int, diastolic_mmhg: int) -> bool:
        return (
            systolic_mmhg > self.dose_blocked_systolic_above_mmhg
            or diastolic_mmhg > self.dose_blocked_diastolic_above_mmhg
        )

    def limit_text(self) -> str:
        return (
            f"{self.dose_blocked_systolic_above_mmhg}/{self.dose_blocked_diastolic_above_mmhg} mmHg"
        )


DEFAULT_POLICY = HomeProgramPolicy()

_RANGE_OF = {
    "dose_blocked_systolic_above_mmhg": "systolic_mmhg",
    "dose_blocked_diastolic_above_mmhg": "diastolic_mmhg",
}


def _convert(name: str, value: Any) -> int:
    problem = f"CLINIC_POLICY[{SECTION!r}][{name!r}] is not valid: {value!r}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise ImproperlyConfigured(f"{problem} (a whole number of mmHg is expected).")
    allowed = plausible_range(_RANGE_OF[name])
    if not allowed.contains(value):
        raise ImproperlyConfigured(f"{problem} ({allowed.message()})")
    return value


def home_program_policy() -> HomeProgramPolicy:
    """The HomeProgramPolicy for this clinic: settings over defaults, checked."""
    return policy_with_overrides(SECTION, DEFAULT_POLICY, _convert)
