"""Outcome metrics: change from baseline, response, remission and a treatment course's status.

Pure Python: no Django import (a test checks it). Every threshold is a clinic-policy value
carried by `OutcomePolicy`, whose defaults come from docs/clinical/policy-defaults.md
("Measurement-based care") with the source keys of docs/clinical/clinical-reference.md.

Conventions, stated once:
- change = current − baseline (negative is improvement on every supported instrument).
- percent_change = change ÷ baseline × 100, rounded to one decimal place half away from zero
  (Decimal ROUND_HALF_UP on the absolute value, sign kept): −6.25 → −6.3, +6.25 → +6.3.
- response is judged on the exact reduction, never on the rounded percentage:
  (baseline − current) × 100 ≥ response_reduction_percent × baseline.
- remission depends on the current total only (the instrument's threshold); PCL-5 has none.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

# Largest possible total of each instrument (instrument facts, not policy):
# clinical-reference.md §7 and calculators.md §1.
INSTRUMENT_MAX_TOTAL: dict[str, int] = {
    "phq9": 27,  # §7.1, sum of items 1–9, each 0–3 [G1]
    "gad7": 21,  # §7.2 [G6]
    "qids-sr16": 27,  # §7.7, sum of 9 domains, each 0–3 [G17]
    "madrs": 60,  # §7.5, 10 items, each 0–6 [G15]
    "pcl5": 80,  # §7.3, 20 items, each 0–4 [G9]
}

INSTRUMENT_LABEL: dict[str, str] = {
    "phq9": "PHQ-9",
    "gad7": "GAD-7",
    "qids-sr16": "QIDS-SR16",
    "madrs": "MADRS",
    "pcl5": "PCL-5",
}

INSTRUMENTS: tuple[str, ...] = tuple(INSTRUMENT_MAX_TOTAL)

ONE_DECIMAL = Decimal("0.1")
WHOLE = Decimal("1")
MINUS = "\N{MINUS SIGN}"


# --------------------------------------------------------------------------- errors


class OutcomeError(ValueError):
    """Input that cannot be classified. `field` names the input at fault."""

    field: str = ""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        if field is not None:
            self.field = field


class UnknownInstrument(OutcomeError):
    field = "instrument"


class InvalidScore(OutcomeError):
    """A total that is not an integer within the instrument's range."""


class InvalidBaseline(OutcomeError):
    """A baseline of 0: a percentage change from it is undefined."""

    field = "baseline"


# --------------------------------------------------------------------------- policy


@dataclass(frozen=True)
class RemissionThreshold:
    """Remission when the total is below (`<`) or at most (`<=`) `value`."""

    comparison: Literal["<", "<="]
    value: int

    def __post_init__(self) -> None:
        if self.comparison not in ("<", "<="):
            raise ValueError(f"Remission comparison must be '<' or '<=', not {self.comparison!r}.")
        if isinstance(self.value, bool) or not isinstance(self.value, int) or self.value < 0:
            raise ValueError(f"Remission value must be a whole number ≥ 0, not {self.value!r}.")

    def met(self, total: int) -> bool:
        return total < self.value if self.comparison == "<" else total <= self.value

    def __str__(self) -> str:
        return f"{'<' if self.comparison == '<' else '≤'} {self.value}"


@dataclass(frozen=True)
class OutcomePolicy:
    """Clinic-policy values for measurement-based care (policy-defaults.md)."""

    # Response: ≥ 50 % reduction of the total from the pre-treatment baseline [H1], [H4].
    response_reduction_percent: Decimal = Decimal(50)
    # Remission thresholds by instrument.
    phq9_remission: RemissionThreshold | None = RemissionThreshold("<", 5)  # [H4]
    # GAD-7 < 5: policy-defaults.md (row sources [H4], [G17], [A11], [H1]); clinical-reference
    # §8.1 marks this threshold UNCONFIRMED (Mindbloom's GAD-7 remission figure, [B9]).
    gad7_remission: RemissionThreshold | None = RemissionThreshold("<", 5)
    qids_remission: RemissionThreshold | None = RemissionThreshold("<=", 5)  # [G17]
    # MADRS ≤ 10: clinic default (KetECT and many ketamine trials [A11]); esketamine
    # trials (TRANSFORM/SUSTAIN) used ≤ 12 [H1].
    madrs_remission: RemissionThreshold | None = RemissionThreshold("<=", 10)
    # PCL-5: no remission threshold (clinical-reference.md §7.3: no validated bands).
    pcl5_remission: RemissionThreshold | None = None
    # Rapid response: response at the first assessment 20–28 h after the first session [H2].
    rapid_response_window_start_hours: int = 20
    rapid_response_window_end_hours: int = 28
    # Loss of response: after response, the response criterion unmet on two consecutive
    # assessments ≥ 5 days apart (policy modelled on SUSTAIN-1 [H1]).
    loss_of_response_assessments: int = 2
    loss_of_response_min_days_apart: int = 5

    def __post_init__(self) -> None:
        percent = Decimal(str(self.response_reduction_percent))
        if not Decimal(0) < percent <= Decimal(100):
            raise ValueError("response_reduction_percent must be above 0 and at most 100.")
        object.__setattr__(self, "response_reduction_percent", percent)
        for name in (
            "rapid_response_window_start_hours",
            "rapid_response_window_end_hours",
            "loss_of_response_assessments",
            "loss_of_response_min_days_apart",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be a whole number, not {value!r}.")
        for name in _REMISSION_FIELD.values():
            value = getattr(self, name)
            if value is not None and not isinstance(value, RemissionThreshold):
                raise ValueError(f"{name} must be a RemissionThreshold or None, not {value!r}.")
        if not (
            0 <= self.rapid_response_window_start_hours <= self.rapid_response_window_end_hours
        ):
            raise ValueError("The rapid-response window must start at or after 0 h and end later.")
        if self.loss_of_response_assessments < 1:
            raise ValueError("loss_of_response_assessments must be at least 1.")
        if self.loss_of_response_min_days_apart < 0:
            raise ValueError("loss_of_response_min_days_apart must be 0 or more.")

    def remission_threshold(self, instrument: str) -> RemissionThreshold | None:
        check_instrument(instrument)
        threshold: RemissionThreshold | None = getattr(self, _REMISSION_FIELD[instrument])
        return threshold

    def is_response(self, baseline: int, current: int) -> bool:
        """Exact test: (baseline − current) × 100 ≥ percent × baseline. Baseline must be > 0."""
        return Decimal(baseline - current) * 100 >= self.response_reduction_percent * baseline

    def response_threshold_total(self, baseline: int) -> Decimal:
        """The total at or below which a score is a response: baseline × (1 − percent/100)."""
        return Decimal(baseline) * (1 - self.response_reduction_percent / 100)


_REMISSION_FIELD = {
    "phq9": "phq9_remission",
    "gad7": "gad7_remission",
    "qids-sr16": "qids_remission",
    "madrs": "madrs_remission",
    "pcl5": "pcl5_remission",
}

DEFAULT_POLICY = OutcomePolicy()


# --------------------------------------------------------------------------- validation


def check_instrument(instrument: str) -> str:
    if instrument not in INSTRUMENT_MAX_TOTAL:
        choices = ", ".join(INSTRUMENTS)
        raise UnknownInstrument(f"Unknown instrument {instrument!r}; choose one of: {choices}.")
    return instrument


def check_total(instrument: str, total: object, *, field: str) -> int:
    """The total as an int, or InvalidScore naming `field`."""
    maximum = INSTRUMENT_MAX_TOTAL[check_instrument(instrument)]
    label = INSTRUMENT_LABEL[instrument]
    if isinstance(total, bool) or not isinstance(total, int):
        raise InvalidScore(f"{field} must be a whole number.", field=field)
    if not 0 <= total <= maximum:
        raise InvalidScore(
            f"{field} must be between 0 and {maximum}, the range of the {label} total.",
            field=field,
        )
    return total


# --------------------------------------------------------------------------- arithmetic


def _rounded_percent(change: int, baseline: int, quantum: Decimal) -> Decimal:
    """change ÷ baseline × 100, rounded half away from zero to `quantum`."""
    magnitude = (Decimal(abs(change)) * 100 / Decimal(baseline)).quantize(
        quantum, rounding=ROUND_HALF_UP
    )
    return -magnitude if change < 0 else magnitude


def percent_change(baseline: int, current: int) -> Decimal:
    """(current − baseline) ÷ baseline × 100 to one decimal; baseline must be > 0."""
    return _rounded_percent(current - baseline, baseline, ONE_DECIMAL)


def _signed_whole_percent(change: int, baseline: int) -> str:
    """For sentences: "−67%", "+6%", "0%" (rounded from the exact value, not from one decimal)."""
    value = _rounded_percent(change, baseline, WHOLE)
    if value < 0:
        return f"{MINUS}{-value}%"
    if value > 0:
        return f"+{value}%"
    return "0%"


# --------------------------------------------------------------------------- classify


@dataclass(frozen=True)
class ChangeClassification:
    instrument: str
    baseline: int
    current: int
    change: int
    percent_change: Decimal
    response: bool
    remission: bool | None  # None: the instrument has no remission threshold (PCL-5)


def classify_change(
    instrument: str, baseline: int, current: int, policy: OutcomePolicy = DEFAULT_POLICY
) -> ChangeClassification:
    """Change, percent change, response and remission of `current` against `baseline`.

    Raises UnknownInstrument, InvalidScore (field "baseline" or "current": not a whole
    number, negative or above the instrument's maximum) and InvalidBaseline (baseline 0).
    """
    check_instrument(instrument)
    baseline = check_total(instrument, baseline, field="baseline")
    current = check_total(instrument, current, field="current")
    if baseline == 0:
        raise InvalidBaseline("baseline must be above 0: a percentage change from 0 is undefined.")
    threshold = policy.remission_threshold(instrument)
    return ChangeClassification(
        instrument=instrument,
        baseline=baseline,
        current=current,
        change=current - baseline,
        percent_change=percent_change(baseline, current),
        response=policy.is_response(baseline, current),
        remission=None if threshold is None else threshold.met(current),
    )


# --------------------------------------------------------------------------- course


@dataclass(frozen=True)
class ScorePoint:
    taken_at: datetime.datetime
    total: int


@dataclass(frozen=True)
class CourseStatus:
    """Where one instrument's course stands.

    Without a baseline every derived field is None. With a baseline but no assessment after
    it, `latest` and everything measured at it are None, `ever_responded` and
    `loss_of_response` are False. With a baseline of 0, response cannot be judged: the
    response fields are None (remission, which depends on the total alone, is still given).
    """

    instrument: str
    baseline: int | None
    baseline_at: datetime.datetime | None
    latest: int | None
    latest_at: datetime.datetime | None
    change: int | None
    percent_change: Decimal | None
    response_now: bool | None
    remission_now: bool | None
    rapid_response: bool | None
    ever_responded: bool | None
    loss_of_response: bool | None
    loss_of_response_at: datetime.datetime | None
    summary: str


def course_status(
    instrument: str,
    points: Iterable[tuple[datetime.datetime, int]],
    first_session_at: datetime.datetime | None = None,
    policy: OutcomePolicy = DEFAULT_POLICY,
) -> CourseStatus:
    """The status of a course of one instrument's totals.

    `points` are (taken_at, total) pairs; they are put in time order with a stable sort, so
    pairs taken at the same moment keep the order given. The baseline is the last point
    taken at or before `first_session_at`, or the first point when no session time is given;
    the assessments after the baseline are the follow-ups.

    - rapid_response: response at the first follow-up taken within the policy window
      (20–28 h, both ends included) after `first_session_at`; None when there is none.
    - loss_of_response: after the first responding follow-up, the response criterion unmet
      on two consecutive follow-ups, the second at least 5 days after the first
      (`loss_of_response_at` is when the second was taken).
    """
    check_instrument(instrument)
    label = INSTRUMENT_LABEL[instrument]
    ordered: list[ScorePoint] = []
    for index, point in enumerate(points):
        taken_at, total = point
        if not isinstance(taken_at, datetime.datetime):
            raise InvalidScore(f"points[{index}] must have a date and time.", field="points")
        ordered.append(
            ScorePoint(taken_at, check_total(instrument, total, field=f"points[{index}]"))
        )
    ordered.sort(key=lambda point: point.taken_at)

    if first_session_at is None:
        baseline_index = 0 if ordered else None
    else:
        at_or_before = [i for i, p in enumerate(ordered) if p.taken_at <= first_session_at]
        baseline_index = at_or_before[-1] if at_or_before else None

    if baseline_index is None:
        return CourseStatus(
            instrument=instrument,
            baseline=None,
            baseline_at=None,
            latest=None,
            latest_at=None,
            change=None,
            percent_change=None,
            response_now=None,
            remission_now=None,
            rapid_response=None,
            ever_responded=None,
            loss_of_response=None,
            loss_of_response_at=None,
            summary="No baseline yet.",
        )

    base = ordered[baseline_index]
    follow_ups = ordered[baseline_index + 1 :]
    threshold = policy.remission_threshold(instrument)

    if not follow_ups:
        return CourseStatus(
            instrument=instrument,
            baseline=base.total,
            baseline_at=base.taken_at,
            latest=None,
            latest_at=None,
            change=None,
            percent_change=None,
            response_now=None,
            remission_now=None,
            rapid_response=None,
            ever_responded=False,
            loss_of_response=False,
            loss_of_response_at=None,
            summary=f"{label} baseline {base.total}; no assessment since.",
        )

    latest = follow_ups[-1]
    change = latest.total - base.total
    remission_now = None if threshold is None else threshold.met(latest.total)

    if base.total == 0:
        return CourseStatus(
            instrument=instrument,
            baseline=0,
            baseline_at=base.taken_at,
            latest=latest.total,
            latest_at=latest.taken_at,
            change=change,
            percent_change=None,
            response_now=None,
            remission_now=remission_now,
            rapid_response=None,
            ever_responded=None,
            loss_of_response=None,
            loss_of_response_at=None,
            summary=(
                f"{label} 0 → {latest.total}: response cannot be judged from a baseline of 0."
            ),
        )

    responded = [policy.is_response(base.total, p.total) for p in follow_ups]
    rapid = _rapid_response(follow_ups, responded, first_session_at, policy)
    loss_at = _loss_of_response_at(follow_ups, responded, policy)
    status = CourseStatus(
        instrument=instrument,
        baseline=base.total,
        baseline_at=base.taken_at,
        latest=latest.total,
        latest_at=latest.taken_at,
        change=change,
        percent_change=percent_change(base.total, latest.total),
        response_now=responded[-1],
        remission_now=remission_now,
        rapid_response=rapid,
        ever_responded=any(responded),
        loss_of_response=loss_at is not None,
        loss_of_response_at=loss_at,
        summary="",
    )
    percent = _signed_whole_percent(change, base.total)
    summary = f"{label} {base.total} → {latest.total} ({percent}): {_outcome_words(status)}."
    return dataclasses.replace(status, summary=summary)


def _rapid_response(
    follow_ups: list[ScorePoint],
    responded: list[bool],
    first_session_at: datetime.datetime | None,
    policy: OutcomePolicy,
) -> bool | None:
    if first_session_at is None:
        return None
    start = first_session_at + datetime.timedelta(hours=policy.rapid_response_window_start_hours)
    end = first_session_at + datetime.timedelta(hours=policy.rapid_response_window_end_hours)
    for point, is_response in zip(follow_ups, responded, strict=True):
        if start <= point.taken_at <= end:
            return is_response
    return None


def _loss_of_response_at(
    follow_ups: list[ScorePoint], responded: list[bool], policy: OutcomePolicy
) -> datetime.datetime | None:
    """When the loss-of-response rule was first met after the first response, else None."""
    if True not in responded:
        return None
    first = responded.index(True)
    needed = policy.loss_of_response_assessments
    min_gap = datetime.timedelta(days=policy.loss_of_response_min_days_apart)
    run: list[ScorePoint] = []
    for point, is_response in zip(follow_ups[first:], responded[first:], strict=True):
        if is_response:
            run = []
            continue
        if run and point.taken_at - run[-1].taken_at < min_gap:
            # Too soon after the previous non-responding assessment: the run restarts here.
            run = [point]
        else:
            run.append(point)
        if len(run) >= needed:
            return point.taken_at
    return None


def _outcome_words(status: CourseStatus) -> str:
    if status.response_now and status.remission_now:
        parts = ["response and remission"]
    elif status.response_now:
        parts = ["response"]
    elif status.remission_now:
        parts = ["remission without response"]
    else:
        parts = ["no response"]
    if status.loss_of_response:
        parts.append(
            "regained after an earlier loss of response"
            if status.response_now
            else "loss of response after an earlier response"
        )
    elif status.ever_responded and not status.response_now:
        parts.append("responded earlier")
    if status.rapid_response:
        parts.append("rapid response after the first session")
    return "; ".join(parts)
