"""Session safety rules: vital signs, pre-dose check, fasting, vitals schedule, observation,
discharge, esketamine devices and the esketamine REMS monitoring form.

Pure Python: no Django import anywhere below (a test checks it). Every clinical number is a field
of `SessionPolicy`, whose defaults come from docs/clinical/policy-defaults.md ("Vital signs",
"Preparation and discharge", "Controlled substances") and whose source keys in square brackets
refer to docs/clinical/clinical-reference.md §11. The logic compares against policy fields,
never against literals. Datetimes must be aware (a naive one is refused with ValueError).

Long because: it is the session's one table of pure safety rules under one `SessionPolicy`;
the rules share their readings of the sources (below) and helpers such as `_run_start`, and
splitting them would split the policy they are checked against.

Readings of the rules whose wording leaves a choice, stated once:

- Blood pressure limits are met by either component: "≥ 180/110" means systolic ≥ 180 or
  diastolic ≥ 110; "> 140/90" means systolic > 140 or diastolic > 90 (the label's wording [C2];
  the same reading as clinic/screening/rules.py). Policy-defaults says "≥ 180/110" where
  clinical-reference §5.2 quotes [E4] as "> 180/110"; the clinic policy (≥) is used.
- "Two readings 5 min apart" and "sustained 5 min" are judged on timestamped readings in one way
  (`_run_start`): the current reading meets the limit and so does an earlier reading taken at
  least 5 minutes before it, with no reading of that vital in between that is below the limit.
  Put differently: the unbroken run of readings meeting the limit that ends with the current
  reading spans ≥ 5 minutes. There is no upper bound on the gap (two high readings 15 minutes
  apart with none between still count: nothing showed the value came down). Readings that did
  not measure the vital (e.g. an SpO2-only reading) neither extend nor break a run. Readings at
  or after the current reading's time are ignored; an earlier reading below the limit at the same
  instant as one meeting it ends the run at that instant. Readings 4 minutes apart do not meet
  the rule; 5 minutes apart do.
- Severity: "critical" when the policy recommends pausing or stopping, or for SpO2 below the
  critical limit; otherwise "alert". Recommendation: "pause" (clinic policy
  `bp_action_recommendation` / `hr_sustained_recommendation`; the sources say "pause/stop" and
  "stop/hold" without choosing, so the default is the reversible step and the prescriber decides
  whether to stop); "continue" (recheck) for a first BP or HR reading over the limit, whose rule
  escalates on a confirming reading; None where the sources give no action (SpO2, respiratory
  rate: a ketamine-clinic stop threshold is UNCONFIRMED, clinical-reference §5.2, §12 item 2).
  One alert per vital at most: the most severe that applies.
- "Dosing complete" (`dose_completed_at`): the infusion end for IV, the injection for IM, and the
  last device for esketamine. Minimum observation, the discharge check and the esketamine ~40-min
  BP recheck count from it. For esketamine the label counts observation "after each session" and
  the recheck "after dosing" [C2], [C9]; the last device is the later (never shorter) anchor, and
  Tmax is 20–40 min after the last spray [C19].
- Routes are those of the dose calculator (iv, im, esketamine). Sublingual/oral has no in-clinic
  session rule in policy-defaults.md and is refused with ValueError.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import ROUND_CEILING, Decimal
from typing import Literal

from clinic.assessments.instruments.modified_aldrete import INSTRUMENT as MODIFIED_ALDRETE
from clinic.protocols.dosing import (
    LABEL_MINUTES_BETWEEN_DEVICES,
    LABEL_OBSERVATION_MINUTES,
    ROUTES,
)

Route = Literal["iv", "im", "esketamine"]
Phase = Literal["pre_dose", "dosing", "recovery", "discharged"]
Severity = Literal["alert", "critical"]
Recommendation = Literal["continue", "pause", "stop"]
Number = int | float | Decimal

# Session phases for the vitals schedule. The architecture's stages map onto them: check-in and
# pre-checks → pre_dose; dosing → dosing; monitoring and recovery → recovery; discharge →
# discharged.
PHASES: tuple[str, ...] = ("pre_dose", "dosing", "recovery", "discharged")
ACTION_RECOMMENDATIONS: tuple[str, ...] = ("pause", "stop")

# --------------------------------------------------------------------------- label facts
# Esketamine REMS: a Patient Monitoring Form after every outpatient session, within 7 days [C15].
LABEL_REMS_FORM_DAYS = 7
# Fasting before IV/IM: "no solid food 4 h (clinic may choose 4–8 h)" (policy-defaults.md,
# "Preparation and discharge"; founding documents 4–6 h; ASA [E12]).
FASTING_SOLIDS_HOURS_ALLOWED: tuple[int, int] = (4, 8)


# --------------------------------------------------------------------------- policy


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return False
    return Decimal(str(value)).is_finite()


@dataclass(frozen=True)
class SessionPolicy:
    """Clinic-policy session values (policy-defaults.md), each with its source.

    Construction checks the values are consistent and not laxer than the esketamine label or
    REMS (policy-defaults.md: "not editable below the label").
    """

    # Pre-dose BP needing prescriber confirmation: systolic > 140 or diastolic > 90
    # (label general guide [C2]; IV clinic practice [E1]).
    pre_dose_confirm_systolic_above_mmhg: int = 140
    pre_dose_confirm_diastolic_above_mmhg: int = 90
    # In-session BP alert: systolic ≥ 180 or diastolic ≥ 110 (clinic protocol [E4]).
    bp_alert_systolic_mmhg: int = 180
    bp_alert_diastolic_mmhg: int = 110
    # Pause/stop: ≥ 180/110 on two readings 5 min apart, or ≥ 200/120 once [E4].
    bp_repeat_minutes: int = 5
    bp_very_high_systolic_mmhg: int = 200
    bp_very_high_diastolic_mmhg: int = 120
    bp_action_recommendation: Recommendation = "pause"  # "pause/stop" [E4]: see module docstring
    # Heart-rate alert > 120 bpm; sustained 5 min → pause recommendation [E4].
    hr_alert_above_bpm: int = 120
    hr_sustained_minutes: int = 5
    hr_sustained_recommendation: Recommendation = "pause"
    # SpO2 alert < 92 %, critical < 90 % (modified Aldrete SpO2 item [E8]).
    spo2_alert_below_percent: int = 92
    spo2_critical_below_percent: int = 90
    # Respiratory-rate alert < 10 or > 30 per min (ED ketamine protocol [E3]).
    respiratory_rate_alert_below_per_min: int = 10
    respiratory_rate_alert_above_per_min: int = 30

    # Vitals schedule, IV: before dose; every 10 min during infusion; at end; every 15 min until
    # discharge ([E6], clinical-reference §5.3).
    iv_vitals_during_infusion_minutes: int = 10
    iv_vitals_after_infusion_minutes: int = 15
    # Vitals schedule, IM: policy-defaults.md gives none. UNCONFIRMED: the IV post-infusion
    # interval (every 15 min until discharge [E6]) is applied after the injection; clinic to
    # confirm.
    im_vitals_after_injection_minutes: int = 15
    # Vitals schedule, esketamine: before dose, ~40 min after dose, before discharge; continuous
    # pulse oximetry ([C2], [C16]; pulse oximeter required by the REMS [C10]).
    esketamine_bp_recheck_minutes: int = 40
    esketamine_continuous_pulse_oximetry: bool = True

    # Fasting before IV/IM: no solid food 4 h (clinic may choose 4–8 h); clear liquids until 2 h
    # (founding documents; ASA [E12]).
    fasting_solids_hours: int = 4
    fasting_clear_liquids_hours: int = 2
    # Before esketamine: no food 2 h, no liquids 30 min [C3].
    esketamine_no_food_hours: int = 2
    esketamine_no_liquids_minutes: int = 30

    # Escort home: required for every in-clinic session [C3], [E11].
    escort_required: bool = True
    # Minimum observation: esketamine 120 min after the dose (label/REMS [C9], [C10]); IV 30 min
    # after the infusion ends (clinic practice [E11]); IM 60 min after the injection (clinic
    # policy, no published standard).
    esketamine_observation_minutes: int = LABEL_OBSERVATION_MINUTES
    iv_observation_minutes: int = 30
    im_observation_minutes: int = 60
    # Discharge score: modified Aldrete ≥ 9 [E8].
    discharge_aldrete_minimum: int = 9
    # Minutes between esketamine devices: 5 (label [C2]).
    esketamine_minutes_between_devices: int = LABEL_MINUTES_BETWEEN_DEVICES
    # Esketamine monitoring form: submitted within 7 days of each session (REMS [C15]).
    rems_form_days: int = LABEL_REMS_FORM_DAYS

    # Plausibility (entry errors, not clinical limits): policy-defaults.md "Vital signs", the same
    # defaults as clinic/core/policy.py DEFAULT_PLAUSIBLE_RANGES (a test compares them).
    plausible_systolic_mmhg: tuple[int, int] = (50, 300)
    plausible_diastolic_mmhg: tuple[int, int] = (20, 200)
    plausible_heart_rate_bpm: tuple[int, int] = (20, 250)
    plausible_spo2_percent: tuple[int, int] = (50, 100)
    plausible_respiratory_rate_per_min: tuple[int, int] = (4, 60)
    plausible_temperature_c: tuple[Decimal, Decimal] = (Decimal(30), Decimal(43))

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if item.type == "int" and (
                isinstance(value, bool) or not isinstance(value, int) or value <= 0
            ):
                raise ValueError(f"{item.name} must be a positive whole number, not {value!r}.")
            if item.type == "bool" and not isinstance(value, bool):
                raise ValueError(f"{item.name} must be true or false, not {value!r}.")
            if item.name.startswith("plausible_") and (
                not isinstance(value, tuple)
                or len(value) != 2
                or not all(_is_number(bound) for bound in value)
                or not value[0] < value[1]
            ):
                raise ValueError(f"{item.name} must be a (low, high) pair with low < high.")
        for name in ("bp_action_recommendation", "hr_sustained_recommendation"):
            if getattr(self, name) not in ACTION_RECOMMENDATIONS:
                raise ValueError(f"{name} must be one of {ACTION_RECOMMENDATIONS}.")
        if not (
            self.bp_very_high_systolic_mmhg >= self.bp_alert_systolic_mmhg
            and self.bp_very_high_diastolic_mmhg >= self.bp_alert_diastolic_mmhg
        ):
            raise ValueError("The very-high BP limits must be at or above the BP alert limits.")
        if not self.spo2_critical_below_percent <= self.spo2_alert_below_percent:
            raise ValueError(
                "spo2_critical_below_percent must not exceed spo2_alert_below_percent."
            )
        if not (
            self.respiratory_rate_alert_below_per_min < self.respiratory_rate_alert_above_per_min
        ):
            raise ValueError("The respiratory-rate alert band must have low < high.")
        low, high = FASTING_SOLIDS_HOURS_ALLOWED
        if not low <= self.fasting_solids_hours <= high:
            raise ValueError(f"fasting_solids_hours must be between {low} and {high} hours.")
        aldrete_low, aldrete_high = MODIFIED_ALDRETE.total_range or (0, 0)
        if not aldrete_low <= self.discharge_aldrete_minimum <= aldrete_high:
            raise ValueError(
                f"discharge_aldrete_minimum must be within {aldrete_low}–{aldrete_high}."
            )
        # Label and REMS floors: a clinic may be stricter, never laxer.
        if self.esketamine_minutes_between_devices < LABEL_MINUTES_BETWEEN_DEVICES:
            raise ValueError(
                "esketamine_minutes_between_devices may not be below the label's "
                f"{LABEL_MINUTES_BETWEEN_DEVICES} minutes [C2]."
            )
        if self.esketamine_observation_minutes < LABEL_OBSERVATION_MINUTES:
            raise ValueError(
                "esketamine_observation_minutes may not be below the label's "
                f"{LABEL_OBSERVATION_MINUTES} minutes [C9], [C10]."
            )
        if self.rems_form_days > LABEL_REMS_FORM_DAYS:
            raise ValueError(
                f"rems_form_days may not exceed the REMS's {LABEL_REMS_FORM_DAYS} days [C15]."
            )
        if not self.esketamine_continuous_pulse_oximetry:
            raise ValueError("Esketamine needs pulse-oximetry monitoring (REMS [C10]).")


DEFAULT_POLICY = SessionPolicy()


# --------------------------------------------------------------------------- shared shapes


@dataclass(frozen=True)
class Finding:
    """One reason or problem, with a stable code for services and a message for staff."""

    code: str
    message: str


@dataclass(frozen=True)
class FieldError:
    """An entry error naming the field at fault."""

    field: str
    message: str


class ImplausibleReadingError(ValueError):
    """A reading with entry errors reached a rule; `errors` lists them."""

    def __init__(self, errors: Sequence[FieldError]):
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = tuple(errors)


def _aware(value: object, name: str) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, not {value!r}.")
    return value


def _route(route: object) -> Route:
    if route not in ROUTES:
        raise ValueError(
            f"route must be one of {', '.join(ROUTES)}; no in-clinic session rule exists for "
            f"{route!r} in policy-defaults.md."
        )
    return route  # type: ignore[return-value]


def _minutes(value: int) -> dt.timedelta:
    return dt.timedelta(minutes=value)


def _duration_text(delta: dt.timedelta) -> str:
    """'4 h', '3 h 59 min', '45 min', '4 min 59 s', '0 min'; negative durations as '-…'."""
    seconds = int(delta.total_seconds())
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] if hours else []
    if minutes:
        parts.append(f"{minutes} min")
    if secs:
        parts.append(f"{secs} s")
    return sign + (" ".join(parts) or "0 min")


# --------------------------------------------------------------------------- readings


@dataclass(frozen=True)
class VitalsReading:
    """One set of vital signs. A field is None when it was not measured; a blood pressure has
    both values or neither. Entry errors are found by `check_vitals_plausible`."""

    taken_at: dt.datetime
    systolic_mmhg: Number | None = None
    diastolic_mmhg: Number | None = None
    heart_rate_bpm: Number | None = None
    spo2_percent: Number | None = None
    respiratory_rate_per_min: Number | None = None
    temperature_c: Number | None = None

    def __post_init__(self) -> None:
        _aware(self.taken_at, "taken_at")

    @property
    def has_bp(self) -> bool:
        return self.systolic_mmhg is not None and self.diastolic_mmhg is not None

    def bp_text(self) -> str:
        return f"{self.systolic_mmhg}/{self.diastolic_mmhg} mmHg"


# (reading field, policy range field, label, unit) — labels and units as clinic/core/policy.py.
_PLAUSIBLE_FIELDS: tuple[tuple[str, str, str, str], ...] = (
    ("systolic_mmhg", "plausible_systolic_mmhg", "Systolic pressure", "mmHg"),
    ("diastolic_mmhg", "plausible_diastolic_mmhg", "Diastolic pressure", "mmHg"),
    ("heart_rate_bpm", "plausible_heart_rate_bpm", "Heart rate", "bpm"),
    ("spo2_percent", "plausible_spo2_percent", "SpO2", "%"),
    ("respiratory_rate_per_min", "plausible_respiratory_rate_per_min", "Respiratory rate", "/min"),
    ("temperature_c", "plausible_temperature_c", "Temperature", "°C"),
)


def check_vitals_plausible(
    reading: VitalsReading, policy: SessionPolicy = DEFAULT_POLICY
) -> list[FieldError]:
    """Entry errors (policy-defaults.md "Vital signs": plausibility, not clinical limits).

    Bounds are inclusive (systolic 50 and 300 are accepted, 49 and 301 refused). Diastolic must
    be below systolic (strictly: 120/120 is refused). A blood pressure needs both values.
    """
    errors: list[FieldError] = []
    numbers: dict[str, Decimal] = {}
    for name, range_name, label, unit in _PLAUSIBLE_FIELDS:
        value = getattr(reading, name)
        if value is None:
            continue
        if not _is_number(value):
            errors.append(FieldError(name, f"{label} must be a number ({unit})."))
            continue
        number = Decimal(str(value))
        low, high = getattr(policy, range_name)
        if not low <= number <= high:
            errors.append(FieldError(name, f"{label} must be between {low} and {high} {unit}."))
            continue
        numbers[name] = number
    if (reading.systolic_mmhg is None) != (reading.diastolic_mmhg is None):
        missing = "diastolic_mmhg" if reading.diastolic_mmhg is None else "systolic_mmhg"
        errors.append(FieldError(missing, "A blood pressure needs both systolic and diastolic."))
    elif (
        "systolic_mmhg" in numbers
        and "diastolic_mmhg" in numbers
        and numbers["diastolic_mmhg"] >= numbers["systolic_mmhg"]
    ):
        errors.append(
            FieldError(
                "diastolic_mmhg",
                f"Diastolic pressure ({reading.diastolic_mmhg}) must be below systolic "
                f"({reading.systolic_mmhg}).",
            )
        )
    return errors


def _require_plausible(reading: VitalsReading, policy: SessionPolicy) -> None:
    errors = check_vitals_plausible(reading, policy)
    if errors:
        raise ImplausibleReadingError(errors)


# --------------------------------------------------------------------------- in-session alerts


@dataclass(frozen=True)
class VitalsAlert:
    code: str
    severity: Severity
    message: str
    recommendation: Recommendation | None
    source: str


ALERT_CODES: tuple[str, ...] = (
    "bp_very_high",
    "bp_high_repeated",
    "bp_high",
    "hr_high_sustained",
    "hr_high",
    "spo2_critical",
    "spo2_low",
    "respiratory_rate_low",
    "respiratory_rate_high",
)


def bp_limit_text(
    systolic: Number, diastolic: Number, systolic_limit: int, diastolic_limit: int
) -> str:
    """Which part of a blood pressure reached a limit, in words that are true of the reading:
    "diastolic 120 mmHg is at or above 120 mmHg" for 190/120 against 200/120 (the systolic is
    not), both parts named when both reached theirs."""
    high_systolic = systolic >= systolic_limit
    high_diastolic = diastolic >= diastolic_limit
    if high_systolic and high_diastolic:
        return (
            f"systolic {systolic} and diastolic {diastolic} mmHg are at or above "
            f"{systolic_limit} and {diastolic_limit} mmHg"
        )
    if high_systolic:
        return f"systolic {systolic} mmHg is at or above {systolic_limit} mmHg"
    return f"diastolic {diastolic} mmHg is at or above {diastolic_limit} mmHg"


def _bp_at_alert(reading: VitalsReading, policy: SessionPolicy) -> bool:
    return reading.has_bp and (
        reading.systolic_mmhg >= policy.bp_alert_systolic_mmhg  # type: ignore[operator]
        or reading.diastolic_mmhg >= policy.bp_alert_diastolic_mmhg  # type: ignore[operator]
    )


def _hr_above(reading: VitalsReading, policy: SessionPolicy) -> bool:
    return reading.heart_rate_bpm is not None and reading.heart_rate_bpm > policy.hr_alert_above_bpm


def _run_start(
    reading: VitalsReading,
    previous: Iterable[VitalsReading],
    measured: Callable[[VitalsReading], bool],
    meets: Callable[[VitalsReading], bool],
) -> dt.datetime:
    """When the unbroken run of readings meeting the limit that ends with `reading` began.

    `reading` itself meets the limit. Among earlier readings that measured the vital, the run
    starts at the earliest reading meeting the limit that is not older than the latest reading
    below it (ties: a reading meeting the limit at the same instant as one below it counts).
    """
    earlier = [r for r in previous if r.taken_at < reading.taken_at and measured(r)]
    below = [r.taken_at for r in earlier if not meets(r)]
    last_below = max(below, default=None)
    starts = [
        r.taken_at for r in earlier if meets(r) and (last_below is None or r.taken_at >= last_below)
    ]
    return min(starts, default=reading.taken_at)


def vitals_alerts(
    reading: VitalsReading,
    previous_readings: Iterable[VitalsReading] = (),
    policy: SessionPolicy = DEFAULT_POLICY,
) -> list[VitalsAlert]:
    """The in-session alerts for `reading`, given the session's earlier readings.

    Pass every reading of the session taken before this one (including pre-dose readings; leave
    out readings marked entered-in-error). A reading with entry errors raises
    ImplausibleReadingError. At most one alert per vital, in the order BP, HR, SpO2, respiratory
    rate; see the module docstring for the two-readings and sustained rules.
    """
    _require_plausible(reading, policy)
    previous = tuple(previous_readings)
    alerts: list[VitalsAlert] = []
    p = policy

    if _bp_at_alert(reading, p):
        very_high = (
            reading.systolic_mmhg >= p.bp_very_high_systolic_mmhg  # type: ignore[operator]
            or reading.diastolic_mmhg >= p.bp_very_high_diastolic_mmhg  # type: ignore[operator]
        )
        start = _run_start(reading, previous, lambda r: r.has_bp, lambda r: _bp_at_alert(r, p))
        repeated = reading.taken_at - start >= _minutes(p.bp_repeat_minutes)
        action = p.bp_action_recommendation
        systolic, diastolic = reading.systolic_mmhg, reading.diastolic_mmhg
        assert systolic is not None and diastolic is not None  # _bp_at_alert: a full BP
        if very_high:
            reached = bp_limit_text(
                systolic, diastolic, p.bp_very_high_systolic_mmhg, p.bp_very_high_diastolic_mmhg
            )
            alerts.append(
                VitalsAlert(
                    "bp_very_high",
                    "critical",
                    f"BP {reading.bp_text()}: {reached} (very high). {action.capitalize()} "
                    "dosing and inform the prescriber (clinic policy).",
                    action,
                    "[E4]",
                )
            )
        else:
            reached = bp_limit_text(
                systolic, diastolic, p.bp_alert_systolic_mmhg, p.bp_alert_diastolic_mmhg
            )
            if repeated:
                alerts.append(
                    VitalsAlert(
                        "bp_high_repeated",
                        "critical",
                        f"BP {reading.bp_text()}: {reached} on readings "
                        f"{_duration_text(reading.taken_at - start)} apart. "
                        f"{action.capitalize()} dosing and inform the prescriber (clinic policy).",
                        action,
                        "[E4]",
                    )
                )
            else:
                alerts.append(
                    VitalsAlert(
                        "bp_high",
                        "alert",
                        f"BP {reading.bp_text()}: {reached}. Recheck in "
                        f"{p.bp_repeat_minutes} min; if still at or above, {action} dosing "
                        "(clinic policy).",
                        "continue",
                        "[E4]",
                    )
                )

    if _hr_above(reading, p):
        start = _run_start(
            reading,
            previous,
            lambda r: r.heart_rate_bpm is not None,
            lambda r: _hr_above(r, p),
        )
        action = p.hr_sustained_recommendation
        if reading.taken_at - start >= _minutes(p.hr_sustained_minutes):
            alerts.append(
                VitalsAlert(
                    "hr_high_sustained",
                    "critical",
                    f"Heart rate {reading.heart_rate_bpm} bpm, above {p.hr_alert_above_bpm} bpm "
                    f"for {_duration_text(reading.taken_at - start)}: {action} dosing and inform "
                    "the prescriber (clinic policy).",
                    action,
                    "[E4]",
                )
            )
        else:
            alerts.append(
                VitalsAlert(
                    "hr_high",
                    "alert",
                    f"Heart rate {reading.heart_rate_bpm} bpm is above {p.hr_alert_above_bpm} "
                    f"bpm: if it stays above for {p.hr_sustained_minutes} min, {action} dosing "
                    "(clinic policy).",
                    "continue",
                    "[E4]",
                )
            )

    spo2 = reading.spo2_percent
    if spo2 is not None and spo2 < p.spo2_critical_below_percent:
        alerts.append(
            VitalsAlert(
                "spo2_critical",
                "critical",
                f"SpO2 {spo2} % is below {p.spo2_critical_below_percent} % (clinic policy).",
                None,
                "[E8]",
            )
        )
    elif spo2 is not None and spo2 < p.spo2_alert_below_percent:
        alerts.append(
            VitalsAlert(
                "spo2_low",
                "alert",
                f"SpO2 {spo2} % is below {p.spo2_alert_below_percent} % (clinic policy).",
                None,
                "[E8]",
            )
        )

    rate = reading.respiratory_rate_per_min
    if rate is not None and rate < p.respiratory_rate_alert_below_per_min:
        alerts.append(
            VitalsAlert(
                "respiratory_rate_low",
                "alert",
                f"Respiratory rate {rate}/min is below "
                f"{p.respiratory_rate_alert_below_per_min}/min (clinic policy).",
                None,
                "[E3]",
            )
        )
    elif rate is not None and rate > p.respiratory_rate_alert_above_per_min:
        alerts.append(
            VitalsAlert(
                "respiratory_rate_high",
                "alert",
                f"Respiratory rate {rate}/min is above "
                f"{p.respiratory_rate_alert_above_per_min}/min (clinic policy).",
                None,
                "[E3]",
            )
        )
    return alerts


# --------------------------------------------------------------------------- pre-dose


@dataclass(frozen=True)
class PreDoseResult:
    needs_prescriber_confirmation: bool
    reasons: tuple[Finding, ...]


def pre_dose_check(reading: VitalsReading, policy: SessionPolicy = DEFAULT_POLICY) -> PreDoseResult:
    """Pre-dose BP: systolic > 140 or diastolic > 90 needs the prescriber's confirmation to dose
    ([C2], [E1]). The reading must hold a plausible blood pressure (the label: assess BP before
    each dose [C2]); without one, ValueError."""
    _require_plausible(reading, policy)
    if not reading.has_bp:
        raise ValueError("The pre-dose check needs a blood pressure (assess BP before dosing).")
    p = policy
    reasons: list[Finding] = []
    if reading.systolic_mmhg > p.pre_dose_confirm_systolic_above_mmhg:  # type: ignore[operator]
        reasons.append(
            Finding(
                "pre_dose_systolic_high",
                f"Systolic {reading.systolic_mmhg} mmHg is above "
                f"{p.pre_dose_confirm_systolic_above_mmhg} mmHg: the prescriber confirms before "
                "dosing (clinic policy; label general guide [C2]).",
            )
        )
    if reading.diastolic_mmhg > p.pre_dose_confirm_diastolic_above_mmhg:  # type: ignore[operator]
        reasons.append(
            Finding(
                "pre_dose_diastolic_high",
                f"Diastolic {reading.diastolic_mmhg} mmHg is above "
                f"{p.pre_dose_confirm_diastolic_above_mmhg} mmHg: the prescriber confirms before "
                "dosing (clinic policy; label general guide [C2]).",
            )
        )
    return PreDoseResult(needs_prescriber_confirmation=bool(reasons), reasons=tuple(reasons))


# --------------------------------------------------------------------------- fasting


@dataclass(frozen=True)
class FastingResult:
    ok: bool
    problems: tuple[Finding, ...]


def fasting_check(
    route: str,
    appointment_start: dt.datetime,
    last_food_at: dt.datetime | None,
    last_liquid_at: dt.datetime | None,
    policy: SessionPolicy = DEFAULT_POLICY,
) -> FastingResult:
    """Fasting before the appointment start.

    IV/IM: last solid food ≥ `fasting_solids_hours` (4 h) before; last clear liquid ≥
    `fasting_clear_liquids_hours` (2 h) before ([E12]). `last_liquid_at` is the last *clear*
    liquid; any other drink is recorded as food. Esketamine: last food ≥ 2 h and last liquid of
    any kind ≥ 30 min before [C3]. Exactly the limit passes (4 h 0 min), a minute less fails.
    A time not recorded (None) is a problem: fasting is not established.
    """
    route = _route(route)
    start = _aware(appointment_start, "appointment_start")
    if route == "esketamine":
        food_limit = dt.timedelta(hours=policy.esketamine_no_food_hours)
        liquid_limit = _minutes(policy.esketamine_no_liquids_minutes)
        liquid_word, source = "liquid", "[C3]"
    else:
        food_limit = dt.timedelta(hours=policy.fasting_solids_hours)
        liquid_limit = dt.timedelta(hours=policy.fasting_clear_liquids_hours)
        liquid_word, source = "clear liquid", "[E12]"
    problems: list[Finding] = []
    for kind, word, last, limit in (
        ("food", "food", last_food_at, food_limit),
        ("liquid", liquid_word, last_liquid_at, liquid_limit),
    ):
        if last is None:
            problems.append(
                Finding(
                    f"{kind}_not_recorded",
                    f"Time of the last {word} not recorded: ask the patient.",
                )
            )
            continue
        gap = start - _aware(last, f"last_{kind}_at")
        if gap < limit:
            problems.append(
                Finding(
                    f"{kind}_too_recent",
                    f"Last {word} {_duration_text(gap)} before the appointment; clinic policy is "
                    f"none within {_duration_text(limit)} {source}.",
                )
            )
    return FastingResult(ok=not problems, problems=tuple(problems))


# --------------------------------------------------------------------------- observation


def minimum_observation_end(
    route: str, dose_completed_at: dt.datetime, policy: SessionPolicy = DEFAULT_POLICY
) -> dt.datetime:
    """The earliest end of observation: esketamine 120 min after the last device ([C9], [C10]),
    IV 30 min after the infusion ends ([E11]), IM 60 min after the injection (clinic policy)."""
    route = _route(route)
    minutes = {
        "esketamine": policy.esketamine_observation_minutes,
        "iv": policy.iv_observation_minutes,
        "im": policy.im_observation_minutes,
    }[route]
    return _aware(dose_completed_at, "dose_completed_at") + _minutes(minutes)


# --------------------------------------------------------------------------- vitals schedule


def next_vitals_due(
    route: str,
    phase: str,
    dose_started_at: dt.datetime | None,
    dose_completed_at: dt.datetime | None,
    last_reading_at: dt.datetime | None,
    now: dt.datetime,
    policy: SessionPolicy = DEFAULT_POLICY,
) -> dt.datetime | None:
    """When the next set of vital signs (with BP) is due; None when none is scheduled.

    A time before `now` means the reading is overdue. `last_reading_at` is the last full set of
    this session (continuous pulse oximetry is not a "reading" here). Per route and phase:

    - Every route, `pre_dose`: `now` until a reading is taken ("before dose"); then None (the
      next is scheduled from the dose).
    - Every route, `discharged`: None.
    - IV, `dosing` (infusion running; `dose_completed_at` is the planned end, may be None): every
      10 min, counted from the last reading taken since the infusion started (from the start if
      there is none yet, so the pre-dose reading does not count), and not later than the planned
      end ("at end") while the last reading is before it [E6].
    - IV, `recovery` (`dose_completed_at` = actual end): at the end, if no reading was taken at
      or after it; then every 15 min after the last reading until discharge [E6].
    - IM, `dosing` or `recovery` (`dose_completed_at` = the injection; `dose_started_at` is used
      when it is None): at the injection if no reading since, then every
      `im_vitals_after_injection_minutes` (UNCONFIRMED default, see SessionPolicy).
    - Esketamine, `dosing` (devices being given): None; continuous pulse oximetry, and the BP
      recheck is counted from the last device [C2], [C16].
    - Esketamine, `recovery` (`dose_completed_at` = last device): at 40 min until a reading is
      taken at or after it (a reading before 40 min does not count: the tolerance of "~40 min"
      is not given); then before discharge, at the minimum observation end; then None.
    """
    route = _route(route)
    if phase not in PHASES:
        raise ValueError(f"phase must be one of {', '.join(PHASES)}.")
    now = _aware(now, "now")
    last = None if last_reading_at is None else _aware(last_reading_at, "last_reading_at")
    started = None if dose_started_at is None else _aware(dose_started_at, "dose_started_at")
    completed = (
        None if dose_completed_at is None else _aware(dose_completed_at, "dose_completed_at")
    )
    if phase == "discharged":
        return None
    if phase == "pre_dose":
        return now if last is None else None

    if route == "iv" and phase == "dosing":
        if started is None:
            raise ValueError("An IV infusion in progress needs dose_started_at.")
        base = last if last is not None and last >= started else started
        due = base + _minutes(policy.iv_vitals_during_infusion_minutes)
        if completed is not None and base < completed:
            due = min(due, completed)
        return due

    if route == "esketamine" and phase == "dosing":
        return None

    anchor = completed if completed is not None else (started if route == "im" else None)
    if anchor is None:
        raise ValueError(f"{route} in recovery needs dose_completed_at.")

    if route == "esketamine":
        recheck = anchor + _minutes(policy.esketamine_bp_recheck_minutes)
        if last is None or last < recheck:
            return recheck
        before_discharge = minimum_observation_end(route, anchor, policy)
        if last < before_discharge:
            return before_discharge
        return None

    interval = (
        policy.iv_vitals_after_infusion_minutes
        if route == "iv"
        else policy.im_vitals_after_injection_minutes
    )
    if last is None or last < anchor:
        return anchor
    return last + _minutes(interval)


# --------------------------------------------------------------------------- discharge


@dataclass(frozen=True)
class DischargeResult:
    allowed: bool
    blocking_reasons: tuple[Finding, ...]
    observation_ends_at: dt.datetime


def discharge_check(
    route: str,
    aldrete_total: int | None,
    dose_completed_at: dt.datetime,
    escort_present: bool,
    now: dt.datetime,
    policy: SessionPolicy = DEFAULT_POLICY,
) -> DischargeResult:
    """Discharge needs: the minimum observation over (exactly at its end is allowed), a complete
    modified Aldrete total ≥ 9 ([E8]; None = not scored or incomplete) and an escort home
    ([C3], [E11]; `escort_required` policy)."""
    route = _route(route)
    now = _aware(now, "now")
    ends = minimum_observation_end(route, dose_completed_at, policy)
    reasons: list[Finding] = []
    if now < ends:
        reasons.append(
            Finding(
                "observation_not_complete",
                f"Observation is not complete: {_duration_text(ends - now)} to go (clinic "
                f"policy: {_duration_text(ends - dose_completed_at)} after dosing is complete).",
            )
        )
    low, high = MODIFIED_ALDRETE.total_range or (0, 0)
    if aldrete_total is None:
        reasons.append(
            Finding("aldrete_not_scored", "Score the modified Aldrete before discharge.")
        )
    elif isinstance(aldrete_total, bool) or not isinstance(aldrete_total, int):
        raise ValueError(f"aldrete_total must be a whole number, not {aldrete_total!r}.")
    elif not low <= aldrete_total <= high:
        raise ValueError(f"aldrete_total must be within {low}–{high}, not {aldrete_total}.")
    elif aldrete_total < policy.discharge_aldrete_minimum:
        reasons.append(
            Finding(
                "aldrete_below_minimum",
                f"Modified Aldrete {aldrete_total} is below {policy.discharge_aldrete_minimum} "
                "(clinic policy [E8]).",
            )
        )
    if policy.escort_required and not escort_present:
        reasons.append(
            Finding(
                "escort_missing",
                "No escort present: the patient needs a responsible adult to take them home "
                "and may not drive until the next day.",
            )
        )
    return DischargeResult(
        allowed=not reasons, blocking_reasons=tuple(reasons), observation_ends_at=ends
    )


# --------------------------------------------------------------------------- IV: what could run in


@dataclass(frozen=True)
class InfusionEvent:
    """A pump event as recorded: `kind` is start, pause, resume, rate or stop; `rate_ml_per_h`
    is the pump's rate when the nurse entered it (start and rate changes), else None."""

    kind: str
    at: dt.datetime
    rate_ml_per_h: Decimal | None = None


@dataclass(frozen=True)
class InfusionDelivery:
    running_minutes: int  # whole minutes the pump ran (pauses excluded), rounded up
    max_mg: Decimal  # what the pump could have delivered in that time, one decimal, rounded up


_TENTH = Decimal("0.1")


def infusion_deliverable(
    *,
    planned_mg: Decimal,
    planned_minutes: int,
    events: Sequence[InfusionEvent],
    until: dt.datetime,
) -> InfusionDelivery:
    """The most a pump could have delivered by `until`: the planned dose runs at planned mg ÷
    planned minutes, for the minutes the pump actually ran (from start or resume to pause or
    stop; pauses excluded). Where the nurse recorded pump rates in mL/h, a later rate scales the
    planned mg per minute by new rate ÷ starting rate (the bag's concentration does not change);
    without a starting rate a change cannot be scaled and the planned rate stands.

    Running time is rounded up to the whole minute and the mg up to the tenth, so a stop
    charted seconds after the pump's own is never questioned; nothing else is added."""
    if planned_minutes <= 0 or planned_mg <= 0:
        raise ValueError("An infusion has a planned dose and minutes above 0.")
    until = _aware(until, "until")
    mg_per_minute = Decimal(planned_mg) / Decimal(planned_minutes)
    first_rate: Decimal | None = None
    scale = Decimal(1)
    running_since: dt.datetime | None = None
    seconds = Decimal(0)
    mg = Decimal(0)

    def run_to(moment: dt.datetime) -> None:
        nonlocal seconds, mg
        if running_since is not None and moment > running_since:
            span = Decimal((moment - running_since).total_seconds())
            seconds += span
            mg += span / 60 * mg_per_minute * scale

    for event in sorted(events, key=lambda e: e.at):
        at = min(_aware(event.at, "events"), until)
        if event.kind in ("pause", "stop", "rate"):
            run_to(at)
            running_since = at if event.kind == "rate" and running_since is not None else None
        if event.kind in ("start", "rate") and event.rate_ml_per_h:
            if first_rate is None:
                first_rate = Decimal(event.rate_ml_per_h)
            else:
                scale = Decimal(event.rate_ml_per_h) / first_rate
        if event.kind in ("start", "resume"):
            running_since = at
        if event.kind == "stop":
            break
    run_to(until)
    minutes = int((seconds / 60).to_integral_value(rounding=ROUND_CEILING))
    # The mg for the rounded-up minutes, at the latest rate, rounded up to the tenth.
    extra = (Decimal(minutes * 60) - seconds) / 60 * mg_per_minute * scale
    return InfusionDelivery(
        running_minutes=minutes,
        max_mg=(mg + extra).quantize(_TENTH, rounding=ROUND_CEILING),
    )


def infusion_minutes_run(events: Sequence[InfusionEvent]) -> int | None:
    """Whole minutes an infusion ran, start (or resume) to pause (or stop), pauses excluded,
    rounded down: what billing codes the infusion from (a minute not completed is not billed:
    15 min 50 s is a push). None until the infusion has stopped."""
    running_since: dt.datetime | None = None
    seconds = 0.0
    stopped = False
    for event in sorted(events, key=lambda e: e.at):
        at = _aware(event.at, "events")
        if event.kind in ("pause", "stop") and running_since is not None:
            seconds += max((at - running_since).total_seconds(), 0.0)
            running_since = None
        if event.kind in ("start", "resume") and running_since is None:
            running_since = at
        if event.kind == "stop":
            stopped = True
            break
    return int(seconds // 60) if stopped else None


# --------------------------------------------------------------------------- esketamine devices


def esketamine_next_device_allowed_at(
    previous_device_at: dt.datetime, policy: SessionPolicy = DEFAULT_POLICY
) -> dt.datetime:
    """The earliest time for the next device: 5 minutes after the previous one [C2]."""
    return _aware(previous_device_at, "previous_device_at") + _minutes(
        policy.esketamine_minutes_between_devices
    )


@dataclass(frozen=True)
class DeviceCheck:
    allowed: bool
    next_allowed_at: dt.datetime | None  # None before the first device
    problems: tuple[Finding, ...]  # devices already recorded less than the wait apart


def esketamine_device_check(
    devices_given_times: Iterable[dt.datetime],
    now: dt.datetime,
    policy: SessionPolicy = DEFAULT_POLICY,
) -> DeviceCheck:
    """May the next device be given now? Yes when `now` is at least 5 minutes after the latest
    device (4 min 59 s: no; 5 min 0 s: yes) [C2]. Devices already recorded closer together than
    the wait are reported as problems (they do not change whether the next one may be given).
    How many devices the dose needs is the dose record's business, not checked here."""
    now = _aware(now, "now")
    times = sorted(_aware(t, "devices_given_times") for t in devices_given_times)
    if not times:
        return DeviceCheck(allowed=True, next_allowed_at=None, problems=())
    wait = _minutes(policy.esketamine_minutes_between_devices)
    problems = tuple(
        Finding(
            "device_given_too_soon",
            f"Device {number} was given {_duration_text(later - earlier)} after device "
            f"{number - 1}; the label requires {_duration_text(wait)} [C2].",
        )
        for number, (earlier, later) in enumerate(zip(times, times[1:], strict=False), start=2)
        if later - earlier < wait
    )
    next_at = esketamine_next_device_allowed_at(times[-1], policy)
    return DeviceCheck(allowed=now >= next_at, next_allowed_at=next_at, problems=problems)


# --------------------------------------------------------------------------- REMS monitoring form


@dataclass(frozen=True)
class RemsField:
    key: str
    label: str
    choices: tuple[str, ...] = ()


# The Spravato REMS Patient Monitoring Form, as clinical-reference.md §3.6 lists its fields
# ("PMF fields", [C16]), in that order. The reference paraphrases the form: the exact wording of
# every label, the answer format of "serious adverse events" and of the readiness-to-leave
# question ("see form for exact wording"), and whether the form has fields the reference does not
# list, are UNCONFIRMED — check against the current form before submitting through it.
REMS_MONITORING_FIELDS: tuple[RemsField, ...] = (
    RemsField("patient_id", "Patient ID"),  # "Patient & setting IDs"
    RemsField("setting_id", "Healthcare setting ID"),
    RemsField("session_date", "Date"),
    RemsField("dose", "Dose", ("56 mg", "84 mg", "other")),
    RemsField("lot_number", "Lot number"),
    # "concomitant meds (benzodiazepines, non-BZD sedative-hypnotics, psychostimulants, MAOIs;
    # newer version adds opioids)": several may apply; an empty list answers "none".
    RemsField(
        "concomitant_medications",
        "Concomitant medications",
        (
            "benzodiazepines",
            "non-benzodiazepine sedative-hypnotics",
            "psychostimulants",
            "MAOIs",
            "opioids",  # newer form version only
        ),
    ),
    RemsField("total_monitoring_minutes", "Total monitoring time (minutes)"),
    RemsField("vitals_acceptable_pre_dose", "Vital signs acceptable before the dose"),
    RemsField("vitals_acceptable_at_completion", "Vital signs acceptable at completion"),
    RemsField("bp_pre_dose", "Blood pressure before the dose"),
    RemsField("bp_about_40_min", "Blood pressure about 40 minutes after the dose"),
    RemsField("bp_pre_discharge", "Blood pressure before discharge"),
    RemsField("sedation_occurred", "Sedation occurred"),
    RemsField("dissociation_occurred", "Dissociation occurred"),
    RemsField("respiratory_depression_occurred", "Respiratory depression occurred"),
    RemsField("serious_adverse_events", "Serious adverse events"),  # format UNCONFIRMED
    # Exact question wording UNCONFIRMED ("see form for exact wording" [C16]).
    RemsField("ready_to_leave", "Patient's readiness to leave"),
)


def rems_form_missing(values: Mapping[str, object]) -> list[str]:
    """Keys of REMS_MONITORING_FIELDS with no answer, in form order. An answer is missing when
    the key is absent, None or a blank string; False, 0 and an empty list are answers."""
    missing = []
    for item in REMS_MONITORING_FIELDS:
        value = values.get(item.key)
        if value is None or (isinstance(value, str) and not value.strip()):
            missing.append(item.key)
    return missing


def rems_form_due(session_date: dt.date, policy: SessionPolicy = DEFAULT_POLICY) -> dt.date:
    """The last day to submit the monitoring form: within 7 days of the session [C15], so
    session date + 7 days (a Monday session is due by the next Monday). `session_date` is the
    session's date in the clinic's time zone."""
    if isinstance(session_date, dt.datetime) or not isinstance(session_date, dt.date):
        raise ValueError("session_date must be a date (in the clinic's time zone).")
    return session_date + dt.timedelta(days=policy.rems_form_days)


def rems_form_overdue(
    session_date: dt.date, today: dt.date, policy: SessionPolicy = DEFAULT_POLICY
) -> bool:
    """True when an unsubmitted form is past its due date (on the due date it is not overdue)."""
    return today > rems_form_due(session_date, policy)


__all__ = [
    "ALERT_CODES",
    "DEFAULT_POLICY",
    "FASTING_SOLIDS_HOURS_ALLOWED",
    "LABEL_REMS_FORM_DAYS",
    "PHASES",
    "REMS_MONITORING_FIELDS",
    "DeviceCheck",
    "DischargeResult",
    "FastingResult",
    "FieldError",
    "Finding",
    "ImplausibleReadingError",
    "PreDoseResult",
    "RemsField",
    "SessionPolicy",
    "VitalsAlert",
    "VitalsReading",
    "check_vitals_plausible",
    "discharge_check",
    "esketamine_device_check",
    "esketamine_next_device_allowed_at",
    "fasting_check",
    "minimum_observation_end",
    "next_vitals_due",
    "pre_dose_check",
    "rems_form_due",
    "rems_form_missing",
    "rems_form_overdue",
    "vitals_alerts",
]
