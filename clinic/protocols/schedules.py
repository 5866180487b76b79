"""Treatment schedules: protocol templates as JSON data, and the dates they give from a start date.

Pure Python: no Django import (a test checks it). The contract is
../shared/domain/api-calculators.md §5; the built-in templates follow its table and
../shared/domain/clinical-reference.md §1.2, §2, §3.2–3.3 (source keys in square brackets refer to
its §11). Doses are checked against the clinic's `DosingPolicy` (clinic/protocols/dosing.py).

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

from __future__ import annotations

import dataclasses
import datetime
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from clinic.protocols.dosing import DEFAULT_POLICY, DosingPolicy

# --------------------------------------------------------------------------- vocabularies
# PHASES is a plain copy of clinic/protocols/choices.py Phase (a test asserts they are equal).
PHASES: tuple[str, ...] = ("induction", "optimization", "maintenance")
ROUTES: tuple[str, ...] = ("iv", "im", "esketamine", "sublingual")
DOSE_SETTINGS: tuple[str, ...] = ("clinic", "home")
OPTION_TYPES: tuple[str, ...] = ("integer", "number", "string")
SPACINGS: tuple[str, ...] = ("sessions_per_week", "interval_days", "interval_weeks")

DAYS_PER_WEEK = 7
# Software limit, not a clinical number: it bounds the size of one planned schedule (a request
# may not ask for thousands of sessions). Long courses are planned again when they run out.
MAX_SESSIONS_PER_SCHEDULE = 200
# Request keys that are not template options (api-calculators.md §5).
RESERVED_OPTION_NAMES: tuple[str, ...] = ("start_date",)

_OPTION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_TEXT_LIMIT = 2000


# --------------------------------------------------------------------------- errors


class ScheduleError(ValueError):
    """A definition, option or start date that cannot be planned. `field` names it: a path in
    the definition ("phases[0].sessions"), an option's name, or "start_date"."""

    def __init__(self, message: str, *, field: str):
        super().__init__(message)
        self.message = message
        self.field = field


# --------------------------------------------------------------------------- definition

Number = int | Decimal
Scalar = int | Decimal | str


@dataclass(frozen=True)
class OptionRef:
    """A value taken from the request's options: `{"option": "<name>"}` in JSON."""

    option: str


Value = int | Decimal | str | OptionRef


def json_value(value: Value | None) -> Any:
    if isinstance(value, OptionRef):
        return {"option": value.option}
    if isinstance(value, Decimal):
        return float(value)
    return value


@dataclass(frozen=True)
class OptionSpec:
    """An option a template takes from the request, with its default or `required`."""

    name: str
    type: str
    required: bool = False
    default: Scalar | None = None
    choices: tuple[Scalar, ...] = ()
    minimum: Number | None = None
    maximum: Number | None = None
    description: str = ""

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type}
        if self.required:
            body["required"] = True
        if self.default is not None:
            body["default"] = json_value(self.default)
        if self.choices:
            body["choices"] = [json_value(choice) for choice in self.choices]
        if self.minimum is not None:
            body["minimum"] = json_value(self.minimum)
        if self.maximum is not None:
            body["maximum"] = json_value(self.maximum)
        if self.description:
            body["description"] = self.description
        return body

    def resolve(self, raw: Any) -> Scalar:
        """The request's value (None = not given) checked against the option → its value."""
        if raw is None:
            if self.required:
                raise ScheduleError(f"{self.name} is required for this protocol.", field=self.name)
            assert self.default is not None  # validate_definition guarantees it
            return self.default
        value = _typed(raw, self.type, self.name)
        _check_own_limits(self, value, self.name)
        return value


@dataclass(frozen=True)
class DoseSpec:
    """The dose of each session of a phase (values may be option references)."""

    route: str | None = None
    dose_mg_per_kg: Number | OptionRef | None = None
    dose_mg: Number | OptionRef | None = None
    infusion_minutes: int | OptionRef | None = None
    setting: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            name: json_value(getattr(self, name))
            for name in ("route", "dose_mg_per_kg", "dose_mg", "infusion_minutes", "setting")
            if getattr(self, name) is not None
        }


@dataclass(frozen=True)
class DoseChange:
    """From session `from_session` of the phase (≥ 2) onwards, `dose` replaces the phase's dose."""

    from_session: int
    dose: DoseSpec

    def as_dict(self) -> dict[str, Any]:
        return {"from_session": self.from_session, "dose": self.dose.as_dict()}


@dataclass(frozen=True)
class ReviewSpec:
    """A review after session `after` of its phase (1-based), or after its last ("end")."""

    after: int | str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"after": self.after, "reason": self.reason}


@dataclass(frozen=True)
class PhaseSpec:
    phase: str | OptionRef
    sessions: int | OptionRef
    sessions_per_week: int | OptionRef | None = None
    interval_days: int | OptionRef | None = None
    interval_weeks: int | OptionRef | None = None
    dose: DoseSpec = field(default_factory=DoseSpec)
    dose_changes: tuple[DoseChange, ...] = ()
    review_points: tuple[ReviewSpec, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "phase": json_value(self.phase),
            "sessions": json_value(self.sessions),
        }
        for name in SPACINGS:
            if getattr(self, name) is not None:
                body[name] = json_value(getattr(self, name))
        body["dose"] = self.dose.as_dict()
        if self.dose_changes:
            body["dose_changes"] = [change.as_dict() for change in self.dose_changes]
        if self.review_points:
            body["review_points"] = [review.as_dict() for review in self.review_points]
        return body


@dataclass(frozen=True)
class ScheduleDefinition:
    """A protocol template: phases in order, and the options a request may set.

    `as_dict()` is its JSON form; `validate_definition(definition.as_dict())` gives it back."""

    phases: tuple[PhaseSpec, ...]
    options: tuple[OptionSpec, ...] = ()
    name: str = ""
    route: str | None = None
    source: str = ""
    description: str = ""

    def option(self, name: str) -> OptionSpec | None:
        return next((option for option in self.options if option.name == name), None)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.name:
            body["name"] = self.name
        body["route"] = self.route
        if self.source:
            body["source"] = self.source
        if self.description:
            body["description"] = self.description
        body["options"] = {option.name: option.as_dict() for option in self.options}
        body["phases"] = [phase.as_dict() for phase in self.phases]
        return body


# --------------------------------------------------------------------------- value checks


def _typed(raw: Any, kind: str, where: str) -> Scalar:
    """A JSON value of the given kind: integer (not a boolean), number (finite; a float becomes
    a Decimal through its shortest repr), or string."""
    if kind == "string":
        if not isinstance(raw, str):
            raise ScheduleError(f"{where} must be a string.", field=where)
        return raw
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
        noun = "a whole number" if kind == "integer" else "a number"
        raise ScheduleError(f"{where} must be {noun}.", field=where)
    if kind == "integer":
        if not isinstance(raw, int):
            raise ScheduleError(f"{where} must be a whole number.", field=where)
        return raw
    if isinstance(raw, int):
        return raw
    number = raw if isinstance(raw, Decimal) else Decimal(str(raw))
    if not number.is_finite():
        raise ScheduleError(f"{where} must be a finite number.", field=where)
    return number


def _listed(values: Iterable[Any]) -> str:
    return ", ".join(str(json_value(value)) for value in values)


def _check_own_limits(option: OptionSpec, value: Scalar, where: str) -> None:
    if option.choices and value not in option.choices:
        raise ScheduleError(
            f"{option.name} must be one of: {_listed(option.choices)}.", field=where
        )
    if isinstance(value, str):
        return
    low, high = option.minimum, option.maximum
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            limits = f"between {json_value(low)} and {json_value(high)}"
        elif low is not None:
            limits = f"at least {json_value(low)}"
        else:
            limits = f"at most {json_value(high)}"
        raise ScheduleError(f"{option.name} must be {limits}.", field=where)


# A slot is a place in a definition that takes a value: its kind and a check against the
# clinic's dosing policy, returning a message (without the subject) or None.
Check = Callable[[Any, DosingPolicy], str | None]


@dataclass(frozen=True)
class _Slot:
    label: str
    kind: str
    check: Check


def _phase_check(value: Any, policy: DosingPolicy) -> str | None:
    return None if value in PHASES else f"must be one of: {', '.join(PHASES)}"


def _at_least_one_session(value: Any, policy: DosingPolicy) -> str | None:
    return None if value >= 1 else "must be at least 1 (a phase with no sessions is not a phase)"


def _per_week_check(value: Any, policy: DosingPolicy) -> str | None:
    if value < 1:
        return "must be at least 1"
    if value > DAYS_PER_WEEK:
        return f"must be at most {DAYS_PER_WEEK}: at most one session a day"
    return None


def _interval_check(value: Any, policy: DosingPolicy) -> str | None:
    return None if value >= 1 else "must be at least 1: at most one session a day"


def _per_kg_check(route: str) -> Check:
    def check(value: Any, policy: DosingPolicy) -> str | None:
        low = getattr(policy, f"{route}_min_mg_per_kg")
        high = getattr(policy, f"{route}_max_mg_per_kg")
        if low <= value <= high:
            return None
        return f"must be between {low} and {high} mg/kg for route {route} (clinic policy)"

    return check


def _infusion_check(value: Any, policy: DosingPolicy) -> str | None:
    low, high = policy.iv_min_infusion_minutes, policy.iv_max_infusion_minutes
    if low <= value <= high:
        return None
    return f"must be between {low} and {high} minutes (clinic policy)"


def _esketamine_check(value: Any, policy: DosingPolicy) -> str | None:
    if value in policy.esketamine_doses_mg:
        return None
    return f"must be one of {_listed(policy.esketamine_doses_mg)} mg (label [C2]; clinic policy)"


def _positive_check(value: Any, policy: DosingPolicy) -> str | None:
    return None if value > 0 else "must be above 0 mg"


SLOTS: dict[str, _Slot] = {
    "phase": _Slot("phase", "string", _phase_check),
    "sessions": _Slot("sessions", "integer", _at_least_one_session),
    "sessions_per_week": _Slot("sessions_per_week", "integer", _per_week_check),
    "interval_days": _Slot("interval_days", "integer", _interval_check),
    "interval_weeks": _Slot("interval_weeks", "integer", _interval_check),
    "iv.dose_mg_per_kg": _Slot("dose_mg_per_kg", "number", _per_kg_check("iv")),
    "iv.infusion_minutes": _Slot("infusion_minutes", "integer", _infusion_check),
    "im.dose_mg_per_kg": _Slot("dose_mg_per_kg", "number", _per_kg_check("im")),
    "esketamine.dose_mg": _Slot("dose_mg", "integer", _esketamine_check),
    "sublingual.dose_mg": _Slot("dose_mg", "number", _positive_check),
}

# The dose keys each route takes, each with its slot; all are required.
DOSE_FIELDS: dict[str, dict[str, str]] = {
    "iv": {"dose_mg_per_kg": "iv.dose_mg_per_kg", "infusion_minutes": "iv.infusion_minutes"},
    "im": {"dose_mg_per_kg": "im.dose_mg_per_kg"},
    "esketamine": {"dose_mg": "esketamine.dose_mg"},
    "sublingual": {"dose_mg": "sublingual.dose_mg"},
}


# --------------------------------------------------------------------------- validation


class _Reader:
    """Reads a definition's JSON, collecting the option references it meets."""

    def __init__(self, policy: DosingPolicy):
        self.policy = policy
        self.options: dict[str, OptionSpec] = {}
        self.used: set[str] = set()

    # ---- helpers

    @staticmethod
    def mapping(raw: Any, path: str) -> Mapping[str, Any]:
        if not isinstance(raw, Mapping):
            raise ScheduleError(f"{path} must be an object.", field=path)
        return raw

    @staticmethod
    def only(raw: Mapping[str, Any], allowed: Iterable[str], path: str) -> None:
        allowed = tuple(allowed)
        for key in raw:
            if key not in allowed:
                raise ScheduleError(
                    f"Unknown key {key!r}. Known: {', '.join(allowed)}.",
                    field=f"{path}.{key}" if path else str(key),
                )

    @staticmethod
    def text(raw: Any, path: str, *, required: bool = False) -> str:
        if raw is None and not required:
            return ""
        if not isinstance(raw, str) or (required and not raw.strip()):
            raise ScheduleError(f"{path} must be a non-empty string.", field=path)
        if len(raw) > _TEXT_LIMIT:
            raise ScheduleError(f"{path} is longer than {_TEXT_LIMIT} characters.", field=path)
        return raw

    def slot_value(self, raw: Any, slot_name: str, path: str) -> Scalar | OptionRef:
        slot = SLOTS[slot_name]
        if isinstance(raw, Mapping):
            self.only(raw, ("option",), path)
            name = raw.get("option")
            option = self.options.get(name) if isinstance(name, str) else None
            if option is None:
                raise ScheduleError(
                    f"{path} refers to an option the template does not declare: {name!r}.",
                    field=path,
                )
            compatible = option.type == slot.kind or (
                slot.kind == "number" and option.type == "integer"
            )
            if not compatible:
                raise ScheduleError(
                    f"Option {name} is of type {option.type}; {slot.label} takes {slot.kind}.",
                    field=f"options.{name}.type",
                )
            for what, values in (("default", (option.default,)), ("choices", option.choices)):
                for value in values:
                    if value is not None and (message := slot.check(value, self.policy)):
                        raise ScheduleError(
                            f"Option {name}'s {what} {json_value(value)}: {slot.label} {message}.",
                            field=f"options.{name}.{what}",
                        )
            self.used.add(name)
            return OptionRef(name)
        value = _typed(raw, slot.kind, path)
        if message := slot.check(value, self.policy):
            raise ScheduleError(f"{slot.label} {message}.", field=path)
        return value

    # ---- parts

    def option(self, name: Any, raw: Any) -> OptionSpec:
        path = f"options.{name}"
        if not isinstance(name, str) or not _OPTION_NAME.match(name):
            raise ScheduleError(
                "An option name is lower-case letters, digits and _ (at most 40).", field=path
            )
        if name in RESERVED_OPTION_NAMES:
            raise ScheduleError(f"{name} is a request field, not an option name.", field=path)
        raw = self.mapping(raw, path)
        self.only(
            raw,
            ("type", "required", "default", "choices", "minimum", "maximum", "description"),
            path,
        )
        kind = raw.get("type")
        if kind not in OPTION_TYPES:
            raise ScheduleError(
                f"An option's type is one of: {', '.join(OPTION_TYPES)}.", field=f"{path}.type"
            )
        required = raw.get("required", False)
        if not isinstance(required, bool):
            raise ScheduleError("required is true or false.", field=f"{path}.required")
        choices: tuple[Scalar, ...] = ()
        if "choices" in raw:
            if not isinstance(raw["choices"], list) or not raw["choices"]:
                raise ScheduleError("choices is a non-empty list.", field=f"{path}.choices")
            choices = tuple(
                _typed(value, kind, f"{path}.choices[{index}]")
                for index, value in enumerate(raw["choices"])
            )
            if len(set(choices)) != len(choices):
                raise ScheduleError("choices are listed once each.", field=f"{path}.choices")
        limits: dict[str, Number | None] = {}
        for limit in ("minimum", "maximum"):
            if raw.get(limit) is None:
                limits[limit] = None
            elif kind == "string":
                raise ScheduleError(f"A string option has no {limit}.", field=f"{path}.{limit}")
            else:
                limits[limit] = _typed(raw[limit], kind, f"{path}.{limit}")  # type: ignore[assignment]
        low, high = limits["minimum"], limits["maximum"]
        if low is not None and high is not None and low > high:
            raise ScheduleError("minimum is above maximum.", field=f"{path}.minimum")
        default = raw.get("default")
        if required and default is not None:
            raise ScheduleError("A required option has no default.", field=f"{path}.default")
        if not required and default is None:
            raise ScheduleError(
                "An option needs a default unless it is required.", field=f"{path}.default"
            )
        spec = OptionSpec(
            name=name,
            type=kind,
            required=required,
            default=None,
            choices=choices,
            minimum=low,
            maximum=high,
            description=self.text(raw.get("description"), f"{path}.description"),
        )
        if default is not None:
            value = _typed(default, kind, f"{path}.default")
            _check_own_limits(spec, value, f"{path}.default")
            spec = dataclasses.replace(spec, default=value)
        for index, choice in enumerate(choices):
            _check_own_limits(
                OptionSpec(name, kind, minimum=low, maximum=high),
                choice,
                f"{path}.choices[{index}]",
            )
        return spec

    def dose(self, raw: Any, path: str, template_route: str | None) -> DoseSpec:
        raw = self.mapping(raw, path)
        route = raw.get("route")
        if route is None:
            self.only(raw, ("route",), path)
            return DoseSpec()
        if route not in ROUTES:
            raise ScheduleError(
                f"route must be one of: {', '.join(ROUTES)}.", field=f"{path}.route"
            )
        if template_route is not None and route != template_route:
            raise ScheduleError(
                f"The dose's route {route} is not the template's route {template_route}.",
                field=f"{path}.route",
            )
        fields = DOSE_FIELDS[route]
        extra = ("setting",) if route == "sublingual" else ()
        self.only(raw, ("route", *fields, *extra), path)
        values: dict[str, Any] = {"route": route}
        for key, slot_name in fields.items():
            if raw.get(key) is None:
                raise ScheduleError(f"{key} is required in a {route} dose.", field=f"{path}.{key}")
            values[key] = self.slot_value(raw[key], slot_name, f"{path}.{key}")
        if route == "sublingual":
            setting = raw.get("setting")
            if setting not in DOSE_SETTINGS:
                raise ScheduleError(
                    f"setting must be one of: {', '.join(DOSE_SETTINGS)}.",
                    field=f"{path}.setting",
                )
            values["setting"] = setting
        return DoseSpec(**values)

    def phase(self, raw: Any, path: str, template_route: str | None) -> PhaseSpec:
        raw = self.mapping(raw, path)
        self.only(
            raw,
            ("phase", "sessions", *SPACINGS, "dose", "dose_changes", "review_points"),
            path,
        )
        for key in ("phase", "sessions", "dose"):
            if raw.get(key) is None:
                raise ScheduleError(f"{key} is required.", field=f"{path}.{key}")
        phase = self.slot_value(raw["phase"], "phase", f"{path}.phase")
        sessions = self.slot_value(raw["sessions"], "sessions", f"{path}.sessions")
        given = [name for name in SPACINGS if raw.get(name) is not None]
        if len(given) != 1:
            raise ScheduleError(
                f"Give exactly one spacing: {', '.join(SPACINGS)}.",
                field=f"{path}.{given[1] if len(given) > 1 else SPACINGS[0]}",
            )
        spacing = {name: self.slot_value(raw[name], name, f"{path}.{name}") for name in given}
        dose = self.dose(raw["dose"], f"{path}.dose", template_route)
        changes: list[DoseChange] = []
        raw_changes = raw.get("dose_changes", [])
        if not isinstance(raw_changes, list):
            raise ScheduleError("dose_changes is a list.", field=f"{path}.dose_changes")
        previous = 1
        for index, change in enumerate(raw_changes):
            where = f"{path}.dose_changes[{index}]"
            change = self.mapping(change, where)
            self.only(change, ("from_session", "dose"), where)
            start = change.get("from_session")
            if isinstance(start, bool) or not isinstance(start, int) or start <= previous:
                raise ScheduleError(
                    "from_session is a whole number, at least 2 and above the previous change's.",
                    field=f"{where}.from_session",
                )
            if isinstance(sessions, int) and start > sessions:
                raise ScheduleError(
                    f"from_session {start} is past the phase's {sessions} sessions.",
                    field=f"{where}.from_session",
                )
            previous = start
            if change.get("dose") is None:
                raise ScheduleError("dose is required.", field=f"{where}.dose")
            changes.append(
                DoseChange(start, self.dose(change["dose"], f"{where}.dose", template_route))
            )
        reviews: list[ReviewSpec] = []
        raw_reviews = raw.get("review_points", [])
        if not isinstance(raw_reviews, list):
            raise ScheduleError("review_points is a list.", field=f"{path}.review_points")
        for index, review in enumerate(raw_reviews):
            where = f"{path}.review_points[{index}]"
            review = self.mapping(review, where)
            self.only(review, ("after", "reason"), where)
            after = review.get("after")
            valid = after == "end" or (
                isinstance(after, int) and not isinstance(after, bool) and after >= 1
            )
            if not valid:
                raise ScheduleError(
                    'after is a session of the phase (1 or more) or "end".', field=f"{where}.after"
                )
            if isinstance(after, int) and isinstance(sessions, int) and after > sessions:
                raise ScheduleError(
                    f"after {after} is past the phase's {sessions} sessions.",
                    field=f"{where}.after",
                )
            reason = self.text(review.get("reason"), f"{where}.reason", required=True)
            reviews.append(ReviewSpec(after, reason))
        return PhaseSpec(
            phase=phase,  # type: ignore[arg-type]
            sessions=sessions,  # type: ignore[arg-type]
            dose=dose,
            dose_changes=tuple(changes),
            review_points=tuple(reviews),
            **spacing,  # type: ignore[arg-type]
        )

    def definition(self, raw: Any) -> ScheduleDefinition:
        raw = self.mapping(raw, "definition")
        self.only(raw, ("name", "route", "source", "description", "options", "phases"), "")
        route = raw.get("route")
        if route is not None and route not in ROUTES:
            raise ScheduleError(
                f"route must be one of: {', '.join(ROUTES)}, or null.", field="route"
            )
        raw_options = raw.get("options", {})
        if not isinstance(raw_options, Mapping):
            raise ScheduleError("options is an object keyed by option name.", field="options")
        for name, spec in raw_options.items():
            self.options[name] = self.option(name, spec)
        raw_phases = raw.get("phases")
        if not isinstance(raw_phases, list) or not raw_phases:
            raise ScheduleError("phases is a non-empty list.", field="phases")
        phases = tuple(
            self.phase(phase, f"phases[{index}]", route) for index, phase in enumerate(raw_phases)
        )
        literal_total = sum(p.sessions for p in phases if isinstance(p.sessions, int))
        if literal_total > MAX_SESSIONS_PER_SCHEDULE:
            raise ScheduleError(
                f"A schedule holds at most {MAX_SESSIONS_PER_SCHEDULE} sessions (software limit).",
                field="phases",
            )
        for name in self.options:
            if name not in self.used:
                raise ScheduleError(
                    f"Option {name} is not used by any phase.", field=f"options.{name}"
                )
        return ScheduleDefinition(
            phases=phases,
            options=tuple(self.options.values()),
            name=self.text(raw.get("name"), "name"),
            route=route,
            source=self.text(raw.get("source"), "source"),
            description=self.text(raw.get("description"), "description"),
        )


def validate_definition(
    data: Mapping[str, Any], policy: DosingPolicy = DEFAULT_POLICY
) -> ScheduleDefinition:
    """A template's JSON → its ScheduleDefinition, or ScheduleError naming the first fault.

    Refused: unknown keys; an unknown phase or route; zero sessions; more than one session a day
    (sessions_per_week above 7, an interval of 0); no spacing or two; a dose outside the clinic's
    dosing policy or not in the esketamine label's doses; an option reference to an undeclared
    option, an option of the wrong type, a required option with a default, an unused option; a
    review point or dose change past a phase's sessions; more than 200 sessions."""
    return _Reader(policy).definition(data)


# --------------------------------------------------------------------------- schedule


@dataclass(frozen=True)
class SessionDose:
    """A planned session's dose as the template gives it (no weight: a plan computes mg)."""

    route: str | None = None
    dose_mg_per_kg: Number | None = None
    dose_mg: Number | None = None
    infusion_minutes: int | None = None
    setting: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            name: json_value(getattr(self, name))
            for name in ("route", "dose_mg_per_kg", "dose_mg", "infusion_minutes", "setting")
            if getattr(self, name) is not None
        }


@dataclass(frozen=True)
class ScheduledSession:
    number: int  # 1-based over the whole schedule
    date: datetime.date
    phase: str
    dose: SessionDose

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "date": self.date.isoformat(),
            "phase": self.phase,
            "dose": self.dose.as_dict(),
        }


@dataclass(frozen=True)
class ReviewPoint:
    after_session: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"after_session": self.after_session, "reason": self.reason}


@dataclass(frozen=True)
class Schedule:
    """A planned schedule. `as_dict()` is the contract's response (api-calculators.md §5);
    `options` holds every option's value used (defaults included) and `warnings` the frequency
    warnings (not part of the contract's response)."""

    protocol: str
    sessions: tuple[ScheduledSession, ...]
    review_points: tuple[ReviewPoint, ...]
    options: Mapping[str, Scalar] = field(default_factory=lambda: MappingProxyType({}))
    warnings: tuple[str, ...] = ()

    @property
    def dates(self) -> tuple[datetime.date, ...]:
        return tuple(session.date for session in self.sessions)

    def as_dict(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol,
            "sessions": [session.as_dict() for session in self.sessions],
            "review_points": [review.as_dict() for review in self.review_points],
        }


def _resolve_options(definition: ScheduleDefinition, given: Mapping[str, Any]) -> dict[str, Scalar]:
    known = {option.name for option in definition.options}
    for name in given:
        if name not in known:
            listed = ", ".join(sorted(known)) or "none"
            raise ScheduleError(
                f"Unknown option for this protocol. Options: {listed}.", field=str(name)
            )
    return {option.name: option.resolve(given.get(option.name)) for option in definition.options}


class _Filler:
    """Fills a definition's option references and re-checks every value against the policy."""

    def __init__(self, values: Mapping[str, Scalar], policy: DosingPolicy):
        self.values = values
        self.policy = policy

    def __call__(self, value: Any, slot_name: str, path: str) -> Any:
        slot = SLOTS[slot_name]
        if isinstance(value, OptionRef):
            where, value = value.option, self.values[value.option]
        else:
            where = path
        if message := slot.check(value, self.policy):
            raise ScheduleError(f"{slot.label} {message}.", field=where)
        return value

    def dose(self, spec: DoseSpec, path: str) -> SessionDose:
        if spec.route is None:
            return SessionDose()
        values: dict[str, Any] = {"route": spec.route, "setting": spec.setting}
        for key, slot_name in DOSE_FIELDS[spec.route].items():
            values[key] = self(getattr(spec, key), slot_name, f"{path}.{key}")
        return SessionDose(**values)


def _layout(count: int, spacing: str, every: int) -> tuple[list[int], int]:
    """Day offsets of a phase's sessions from its first day, and the days the phase spans."""
    if spacing == "sessions_per_week":
        pattern = [DAYS_PER_WEEK * k // every for k in range(every)]
        offsets = [(i // every) * DAYS_PER_WEEK + pattern[i % every] for i in range(count)]
        return offsets, math.ceil(count / every) * DAYS_PER_WEEK
    step = every * (DAYS_PER_WEEK if spacing == "interval_weeks" else 1)
    return [i * step for i in range(count)], count * step


def plan_schedule(
    definition: ScheduleDefinition,
    start_date: datetime.date,
    options: Mapping[str, Any] | None = None,
    *,
    protocol: str = "",
    policy: DosingPolicy = DEFAULT_POLICY,
) -> Schedule:
    """The sessions and review points of `definition` from `start_date` (session 1's date).

    `options` are the request's option values (None = not given → the option's default).
    Raises ScheduleError naming the option, "start_date" or the definition path at fault."""
    if not isinstance(start_date, datetime.date) or isinstance(start_date, datetime.datetime):
        raise ScheduleError("start_date must be a date.", field="start_date")
    values = _resolve_options(definition, options or {})
    fill = _Filler(values, policy)
    sessions: list[ScheduledSession] = []
    reviews: list[ReviewPoint] = []
    phase_start = 0  # days from start_date
    try:
        for index, phase in enumerate(definition.phases):
            path = f"phases[{index}]"
            name = fill(phase.phase, "phase", f"{path}.phase")
            count = fill(phase.sessions, "sessions", f"{path}.sessions")
            if len(sessions) + count > MAX_SESSIONS_PER_SCHEDULE:
                raise ScheduleError(
                    f"A schedule holds at most {MAX_SESSIONS_PER_SCHEDULE} sessions "
                    "(software limit).",
                    field=phase.sessions.option
                    if isinstance(phase.sessions, OptionRef)
                    else f"{path}.sessions",
                )
            spacing = next(key for key in SPACINGS if getattr(phase, key) is not None)
            every = fill(getattr(phase, spacing), spacing, f"{path}.{spacing}")
            offsets, span = _layout(count, spacing, every)
            doses = [fill.dose(phase.dose, f"{path}.dose")]
            starts = [1]
            for change_index, change in enumerate(phase.dose_changes):
                doses.append(fill.dose(change.dose, f"{path}.dose_changes[{change_index}].dose"))
                starts.append(change.from_session)
            first_number = len(sessions) + 1
            for within, offset in enumerate(offsets, start=1):
                dose = doses[max(i for i, s in enumerate(starts) if s <= within)]
                sessions.append(
                    ScheduledSession(
                        number=len(sessions) + 1,
                        date=start_date + datetime.timedelta(days=phase_start + offset),
                        phase=name,
                        dose=dose,
                    )
                )
            for review in phase.review_points:
                after = count if review.after == "end" else review.after
                if after > count:  # type: ignore[operator]
                    raise ScheduleError(
                        f"A review point after session {after} of {name} is past its "
                        f"{count} sessions.",
                        field=phase.sessions.option
                        if isinstance(phase.sessions, OptionRef)
                        else f"{path}.sessions",
                    )
                reviews.append(ReviewPoint(first_number + after - 1, review.reason))  # type: ignore[operator]
            phase_start += span
    except OverflowError as error:
        raise ScheduleError(
            "The schedule would run past the last date the calendar holds.", field="start_date"
        ) from error
    reviews.sort(key=lambda review: review.after_session)
    return Schedule(
        protocol=protocol,
        sessions=tuple(sessions),
        review_points=tuple(reviews),
        options=MappingProxyType(values),
        warnings=tuple(frequency_warnings([s.date for s in sessions], policy)),
    )


def frequency_warnings(
    dates: Iterable[datetime.date], policy: DosingPolicy = DEFAULT_POLICY
) -> list[str]:
    """Warnings (never errors) for more than `frequency_warning_sessions_per_week` (2) sessions
    in any week after the first `frequency_warning_after_weeks` (8) weeks of the course, weeks
    counted in 7-day blocks from the first date (policy-defaults.md, APA consensus via [A5]).
    One message per such week, in date order."""
    ordered = sorted(dates)
    if not ordered:
        return []
    first = ordered[0]
    weeks: dict[int, list[datetime.date]] = {}
    for day in ordered:
        weeks.setdefault((day - first).days // DAYS_PER_WEEK, []).append(day)
    limit = policy.frequency_warning_sessions_per_week
    after = policy.frequency_warning_after_weeks
    return [
        f"{len(days)} sessions in week {week + 1} of the course (from {days[0].isoformat()}): "
        f"more than {limit} a week beyond {after} weeks. The APA consensus urges caution "
        "(limited safety data) [A5]; clinic policy."
        for week, days in sorted(weeks.items())
        if week >= after and len(days) > limit
    ]


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
                "default": 2,  # api-calculators.md §5
                "description": "From week 9: a session every 2 weeks or every week [C2].",
            },
            "maintenance_sessions": {
                "type": "integer",
                "minimum": 1,
                "default": 4,  # api-calculators.md §5
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
                "default": 6,  # api-calculators.md §5
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
