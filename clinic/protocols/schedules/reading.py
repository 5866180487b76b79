"""Reading a template's JSON into its ScheduleDefinition (`validate_definition`), refusing any
fault with a ScheduleError that names the field."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any

from clinic.protocols.dosing import DEFAULT_POLICY, DosingPolicy
from clinic.protocols.schedules.definition import (
    DOSE_FIELDS,
    DOSE_SETTINGS,
    MAX_SESSIONS_PER_SCHEDULE,
    OPTION_TYPES,
    RESERVED_OPTION_NAMES,
    ROUTES,
    SLOTS,
    SPACINGS,
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
    check_option_limits,
    json_value,
    typed_value,
)

_OPTION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_TEXT_LIMIT = 2000


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
            self.used.add(option.name)
            return OptionRef(option.name)
        value = typed_value(raw, slot.kind, path)
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
                typed_value(value, kind, f"{path}.choices[{index}]")
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
                limits[limit] = typed_value(raw[limit], kind, f"{path}.{limit}")  # type: ignore[assignment]
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
            value = typed_value(default, kind, f"{path}.default")
            check_option_limits(spec, value, f"{path}.default")
            spec = dataclasses.replace(spec, default=value)
        for index, choice in enumerate(choices):
            check_option_limits(
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
            after: int | str
            raw_after = review.get("after")
            if raw_after == "end":
                after = "end"
            elif isinstance(raw_after, int) and not isinstance(raw_after, bool) and raw_after >= 1:
                after = raw_after
            else:
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
