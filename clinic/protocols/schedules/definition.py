"""A protocol template's parts as frozen dataclasses, the vocabularies they use, and the slots
where a template takes a value with each slot's check against the clinic's dosing policy. The
JSON form and the rules are in the package's docstring (clinic/protocols/schedules/__init__.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from clinic.protocols.dosing import DosingPolicy

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
# Request keys that are not template options (calculators.md §5).
RESERVED_OPTION_NAMES: tuple[str, ...] = ("start_date",)


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
        value = typed_value(raw, self.type, self.name)
        check_option_limits(self, value, self.name)
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


def typed_value(raw: Any, kind: str, where: str) -> Scalar:
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


def listed(values: Iterable[Any]) -> str:
    return ", ".join(str(json_value(value)) for value in values)


def check_option_limits(option: OptionSpec, value: Scalar, where: str) -> None:
    if option.choices and value not in option.choices:
        raise ScheduleError(f"{option.name} must be one of: {listed(option.choices)}.", field=where)
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
    return f"must be one of {listed(policy.esketamine_doses_mg)} mg (label [C2]; clinic policy)"


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
