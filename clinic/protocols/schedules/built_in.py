"""The built-in protocols (label and trial schedules) as template data, read once at import."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from clinic.protocols.schedules.definition import (
    ScheduleDefinition,
)
from clinic.protocols.schedules.reading import validate_definition

# --------------------------------------------------------------------------- built-in templates

_IV_DOSE = {
    "route": "iv",
    "dose_mg_per_kg": 0.5,
    "infusion_minutes": 40,
}  # 0.5 mg/kg/40 min [A9], [A10]

_BUILT_IN_DATA: dict[str, dict[str, Any]] = {
    "iv-induction-3x-weekly": {
        "name": "IV induction, 3 a week (6 infusions over 12 days)",
        "route": "iv",
        "source": "[A9]",
        "description": (
            "Murrough 2013: up to 6 infusions of 0.5 mg/kg over 40 min, 3 a week over 12 days."
        ),
        "options": {},
        "phases": [
            {
                "phase": "induction",
                "sessions": 6,  # [A9]
                "sessions_per_week": 3,  # [A9]
                "dose": _IV_DOSE,
                "review_points": [
                    {
                        "after": "end",
                        "reason": "End of the induction series (6 infusions [A9]): review the "
                        "response before any further sessions.",
                    }
                ],
            }
        ],
    },
    "iv-induction-2x-weekly": {
        "name": "IV induction, 2 a week (6 infusions over 3 weeks)",
        "route": "iv",
        "source": "[A10]",
        "description": "ELEKT-D: 0.5 mg/kg over 40 min twice weekly for 3 weeks (6 infusions).",
        "options": {},
        "phases": [
            {
                "phase": "induction",
                "sessions": 6,  # [A10]
                "sessions_per_week": 2,  # [A10]
                "dose": _IV_DOSE,
                "review_points": [
                    {
                        "after": "end",
                        "reason": "End of the induction series (6 infusions [A10]): review the "
                        "response before any further sessions.",
                    }
                ],
            }
        ],
    },
    "esketamine-trd": {
        "name": "Esketamine, treatment-resistant depression (label schedule)",
        "route": "esketamine",
        "source": "[C2], [C4]",
        "description": (
            "Weeks 1–4 twice weekly (day 1 56 mg, then 56 or 84 mg); evaluate at the end of "
            "week 4; weeks 5–8 once weekly; from week 9 every 2 weeks or once weekly, 56 or 84 mg."
        ),
        "options": {
            "dose_mg": {
                "type": "integer",
                "choices": [56, 84],  # subsequent doses 56 or 84 mg [C2]
                "default": 56,
                "description": "Dose of session 2 onwards, 56 or 84 mg [C2].",
            },
            "maintenance_interval_weeks": {
                "type": "integer",
                "choices": [1, 2],  # week 9+: every 2 weeks or once weekly [C2]
                "default": 2,  # calculators.md §5
                "description": "From week 9: a session every 2 weeks or every week [C2].",
            },
            "maintenance_sessions": {
                "type": "integer",
                "minimum": 1,
                "default": 4,  # calculators.md §5
                "description": "Maintenance sessions planned from week 9.",
            },
        },
        "phases": [
            {
                "phase": "induction",
                "sessions": 8,  # weeks 1–4, twice weekly [C2]
                "sessions_per_week": 2,
                "dose": {"route": "esketamine", "dose_mg": 56},  # day 1: 56 mg [C2]
                "dose_changes": [
                    {
                        "from_session": 2,
                        "dose": {"route": "esketamine", "dose_mg": {"option": "dose_mg"}},
                    }
                ],
                "review_points": [
                    {
                        "after": "end",
                        "reason": "End of week 4: evaluate the therapeutic benefit before "
                        "continuing [C2].",
                    }
                ],
            },
            {
                "phase": "optimization",
                "sessions": 4,  # weeks 5–8, once weekly [C2]
                "interval_weeks": 1,
                "dose": {"route": "esketamine", "dose_mg": {"option": "dose_mg"}},
            },
            {
                "phase": "maintenance",
                "sessions": {"option": "maintenance_sessions"},
                "interval_weeks": {"option": "maintenance_interval_weeks"},
                "dose": {"route": "esketamine", "dose_mg": {"option": "dose_mg"}},
            },
        ],
    },
    "esketamine-mdsi": {
        "name": "Esketamine, depression with acute suicidal ideation or behaviour (label schedule)",
        "route": "esketamine",
        "source": "[C6]",
        "description": (
            "84 mg twice weekly for 4 weeks (may be reduced to 56 mg for tolerability); use "
            "beyond 4 weeks not systematically evaluated; with an oral antidepressant."
        ),
        "options": {},
        "phases": [
            {
                "phase": "induction",
                "sessions": 8,  # twice weekly for 4 weeks [C6]
                "sessions_per_week": 2,
                "dose": {"route": "esketamine", "dose_mg": 84},  # [C6]
                "review_points": [
                    {
                        "after": "end",
                        "reason": "End of 4 weeks: use beyond 4 weeks has not been "
                        "systematically evaluated [C6].",
                    }
                ],
            }
        ],
    },
    "maintenance": {
        "name": "Maintenance, one session every 2–8 weeks",
        "route": None,
        "source": "founding documents (seed-facts.md)",
        "description": "One session every interval; the dose is the treatment plan's.",
        "options": {
            "interval_weeks": {
                "type": "integer",
                "required": True,
                "minimum": 2,  # every 2–8 weeks (founding documents)
                "maximum": 8,
                "description": "Weeks between sessions, 2 to 8.",
            },
            "count": {
                "type": "integer",
                "minimum": 1,
                "default": 6,  # calculators.md §5
                "description": "Sessions to plan.",
            },
        },
        "phases": [
            {
                "phase": "maintenance",
                "sessions": {"option": "count"},
                "interval_weeks": {"option": "interval_weeks"},
                "dose": {},
            }
        ],
    },
    # No reference gives an exact IM series: the references give the dose (0.5 mg/kg [B1]) and
    # "one or two treatments per week during a series" (seed-facts.md). The series length and the
    # frequency are required options, chosen by the prescriber or the clinic's own template.
    "im-induction": {
        "name": "IM series (clinic-tailored)",
        "route": "im",
        "source": "[B1]; seed-facts.md (one or two treatments a week during a series)",
        "description": (
            "IM racemic ketamine, 0.5 mg/kg by default [B1], once or twice a week. No published "
            "IM series length: the number of sessions is required."
        ),
        "options": {
            "sessions": {
                "type": "integer",
                "required": True,
                "minimum": 1,
                "description": "Sessions in the series (no reference gives an IM series length).",
            },
            "sessions_per_week": {
                "type": "integer",
                "required": True,
                "choices": [1, 2],  # one or two treatments a week (seed-facts.md)
                "description": "1 or 2 sessions a week.",
            },
            "dose_mg_per_kg": {
                "type": "number",
                "default": 0.5,  # [B1]; allowed range: clinic policy (0.25–1.0 mg/kg [B1])
                "description": "mg/kg per session, within the clinic's IM range.",
            },
        },
        "phases": [
            {
                "phase": "induction",
                "sessions": {"option": "sessions"},
                "sessions_per_week": {"option": "sessions_per_week"},
                "dose": {"route": "im", "dose_mg_per_kg": {"option": "dose_mg_per_kg"}},
                "review_points": [
                    {
                        "after": "end",
                        "reason": "End of the series: review the response before any further "
                        "sessions (a defined course with periodic reassessment [A16]).",
                    }
                ],
            }
        ],
    },
    # At-home sublingual: a prescriber-set fixed mg dose [B9], [A21]. Programs differ (4 sessions
    # over 4 weeks [B9]; every 3 days [B8]): the dose, the count and the interval are required.
    "sublingual-home": {
        "name": "Sublingual at home (prescriber-set dose)",
        "route": "sublingual",
        "source": "[B9], [A21]",
        "description": (
            "At-home sublingual ketamine at a fixed mg dose set by the prescriber; at-home "
            "programs titrate (change the dose on the plan). Used for maintenance between "
            "infusions (founding documents) or as a course."
        ),
        "options": {
            "dose_mg": {
                "type": "number",
                "required": True,
                "description": "Fixed mg dose per session, set by the prescriber [B9], [A21].",
            },
            "sessions": {
                "type": "integer",
                "required": True,
                "minimum": 1,
                "description": "Sessions to plan.",
            },
            "interval_days": {
                "type": "integer",
                "required": True,
                "minimum": 1,
                "description": "Days between sessions (at most one a day).",
            },
            "phase": {
                "type": "string",
                "choices": ["induction", "maintenance"],
                "default": "maintenance",  # maintenance between infusions (seed-facts.md)
                "description": "induction (a course) or maintenance (between infusions).",
            },
        },
        "phases": [
            {
                "phase": {"option": "phase"},
                "sessions": {"option": "sessions"},
                "interval_days": {"option": "interval_days"},
                "dose": {
                    "route": "sublingual",
                    "dose_mg": {"option": "dose_mg"},
                    "setting": "home",
                },
                "review_points": [
                    {
                        "after": "end",
                        "reason": "End of the planned sessions: review the response and safety "
                        "face to face before renewing (periodic reassessment [A16]).",
                    }
                ],
            }
        ],
    },
}

BUILT_IN: Mapping[str, ScheduleDefinition] = MappingProxyType(
    {code: validate_definition(data) for code, data in _BUILT_IN_DATA.items()}
)
BUILT_IN_CODES: tuple[str, ...] = tuple(BUILT_IN)
