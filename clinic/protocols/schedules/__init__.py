"""Treatment schedules: protocol templates as JSON data, and the dates they give from a start date.

Pure Python: no Django import (a test checks it). The contract is
docs/clinical/calculators.md §5; the built-in templates follow its table and
docs/clinical/clinical-reference.md §1.2, §2, §3.2–3.3 (source keys in square brackets refer to
its §11). Doses are checked against the clinic's `DosingPolicy` (clinic/protocols/dosing.py).

The package: `definition` (a template's parts, vocabularies and value slots), `reading`
(`validate_definition`), `planning` (`plan_schedule`, `frequency_warnings`) and `built_in` (the
built-in templates); their public names are imported from here.

A template is a `ScheduleDefinition`, stored as JSON (ProtocolTemplate.definition) and read back
with `validate_definition`. Its JSON form::

    {"name": "...", "route": "iv" | "im" | "esketamine" | "sublingual" | null,
     "source": "[A9]", "description": "...",
     "options": {"<name>": {"type": "integer" | "number" | "string", "required": false,
                            "default": ..., "choices": [...], "minimum": ..., "maximum": ...,
                            "description": "..."}},
     "phases": [{"phase": "induction" | "optimization" | "maintenance",
                 "sessions": 6,
                 "sessions_per_week": 3,            # exactly one of these three spacings
                 "interval_days": 3, "interval_weeks": 2,
                 "dose": {"route": "iv", "dose_mg_per_kg": 0.5, "infusion_minutes": 40},
                 "dose_changes": [{"from_session": 2, "dose": {...}}],
                 "review_points": [{"after": 6 | "end", "reason": "..."}]}]}

Any number or the phase name may instead be `{"option": "<name>"}`, filled from the request's
options (or the option's default) when a schedule is planned. Unknown keys are refused everywhere
(a misspelt key is never ignored). Dose by route: `iv` dose_mg_per_kg + infusion_minutes; `im`
dose_mg_per_kg; `esketamine` dose_mg (28/56/84); `sublingual` dose_mg (a prescriber-set fixed mg
dose) + setting (`home` or `clinic`); an empty dose `{}` leaves the dose to the treatment plan.
`dose_changes` replace the phase's dose from the given session of the phase onwards (a change
past the phase's last session is simply not reached). A review point's `after` counts sessions
within its phase ("end" = the phase's last session); the schedule reports it as an absolute
session number.

Date layout, stated once (dates are planned calendar days counted from the start date; which
days the clinic opens is the appointment book's concern, not the template's):
- `sessions_per_week: n` repeats a 7-day pattern from the phase's first day, sessions on days
  floor(7·k / n) for k = 0 … n−1 of each week: n = 3 → days 0, 2, 4 (Mon/Wed/Fri from a Monday;
  gaps 2, 2, 3), n = 2 → days 0, 3 (Mon/Thu; gaps 3, 4), n = 1 → day 0. The phase spans
  ceil(sessions ÷ n) whole weeks. 6 sessions at 3 a week fall on days 0, 2, 4, 7, 9, 11: twelve
  days, as "3×/week over 12 days" [A9]; at 2 a week on days 0, 3, 7, 10, 14, 17 (three weeks [A10]).
- `interval_days: d` / `interval_weeks: w`: a session every d (or 7·w) days from the phase's
  first day; the phase spans sessions × d (or × 7·w) days.
- Each phase starts where the previous one's span ends, so weeks count as in the label: the
  esketamine TRD induction (8 sessions, 2 a week) spans weeks 1–4, the weekly phase weeks 5–8,
  and maintenance starts on the first day of week 9 (day 56) [C2].
- By construction dates strictly increase: at most one session a day (the contract's "dates
  never fall on the same day twice"; sessions_per_week above 7 or an interval of 0 is refused).

Frequency guard (policy-defaults.md "Frequency warning", APA consensus via [A5]): more than 2
sessions in any week of the course after its 8th week (weeks counted in 7-day blocks from the
first session) gives a warning, not an error — `frequency_warnings(dates)`.
"""

from clinic.protocols.schedules.built_in import (
    BUILT_IN,
    BUILT_IN_CODES,
)
from clinic.protocols.schedules.definition import (
    DAYS_PER_WEEK,
    DOSE_FIELDS,
    DOSE_SETTINGS,
    MAX_SESSIONS_PER_SCHEDULE,
    OPTION_TYPES,
    PHASES,
    RESERVED_OPTION_NAMES,
    ROUTES,
    SLOTS,
    SPACINGS,
    Check,
    DoseChange,
    DoseSpec,
    Number,
    OptionRef,
    OptionSpec,
    PhaseSpec,
    ReviewSpec,
    Scalar,
    ScheduleDefinition,
    ScheduleError,
    Value,
    json_value,
)
from clinic.protocols.schedules.planning import (
    ReviewPoint,
    Schedule,
    ScheduledSession,
    SessionDose,
    frequency_warnings,
    plan_schedule,
)
from clinic.protocols.schedules.reading import (
    validate_definition,
)

__all__ = [
    "BUILT_IN",
    "BUILT_IN_CODES",
    "Check",
    "DAYS_PER_WEEK",
    "DOSE_FIELDS",
    "DOSE_SETTINGS",
    "DoseChange",
    "DoseSpec",
    "MAX_SESSIONS_PER_SCHEDULE",
    "Number",
    "OPTION_TYPES",
    "OptionRef",
    "OptionSpec",
    "PHASES",
    "PhaseSpec",
    "RESERVED_OPTION_NAMES",
    "ROUTES",
    "ReviewPoint",
    "ReviewSpec",
    "SLOTS",
    "SPACINGS",
    "Scalar",
    "Schedule",
    "ScheduleDefinition",
    "ScheduleError",
    "ScheduledSession",
    "SessionDose",
    "Value",
    "frequency_warnings",
    "json_value",
    "plan_schedule",
    "validate_definition",
]
