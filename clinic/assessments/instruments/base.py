"""The shape every instrument has. Pure Python: no Django import anywhere in this package.

An instrument scores a list of answers (one per item, in item order; None when unanswered)
into a ScoreResult exactly as docs/clinical/calculators.md §1 specifies. Clinic-policy
thresholds that affect scoring arrive in a ScoringPolicy, never as literals inside an
instrument, so a clinic's settings reach the score without this package importing Django.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

Answer = int | None

# The flag a scorer sets when an answer reaches its instrument's suicidality threshold.
SUICIDAL_IDEATION = "suicidal_ideation"


def all_answered(answers: Sequence[Answer]) -> list[int] | None:
    """The answers as whole numbers when every item was answered; None when any is blank."""
    values = [a for a in answers if a is not None]
    return values if len(values) == len(answers) else None


class AnswerError(ValueError):
    """Answers that cannot be scored. `item` is the 1-based item at fault, None for the count."""

    def __init__(self, message: str, *, item: int | None = None):
        super().__init__(message)
        self.message = message
        self.item = item


@dataclass(frozen=True)
class ScoringPolicy:
    """Clinic-policy values used in scoring; defaults from policy-defaults.md and
    calculators.md §1."""

    pcl5_probable_ptsd_total: int = 33  # clinic policy; published cut-off range 31–33 [G9], [G10]
    aldrete_discharge_total: int = 9  # policy-defaults.md "Discharge score" [E8]


DEFAULT_POLICY = ScoringPolicy()


@dataclass(frozen=True)
class Option:
    value: int
    label: str


@dataclass(frozen=True)
class Item:
    number: int  # 1-based, in the instrument's published order
    text: str
    options: tuple[Option, ...]
    scored: bool = True  # e.g. PHQ-9 item 10 (difficulty) is asked but never summed
    required: bool = True  # False for optional trailing items (PHQ-9 10, GAD-7 8)
    short_label: str = ""  # a few words for tables and charts
    # Branching: (item number, value) when this item is asked only after that answer to that
    # earlier item (C-SSRS Q3–Q5 after a yes to Q2); otherwise it is skipped by design and
    # must stay null. None for an item that is always asked.
    asked_when: tuple[int, int] | None = None

    @property
    def values(self) -> frozenset[int]:
        return frozenset(o.value for o in self.options)


@dataclass(frozen=True)
class ScoreResult:
    instrument: str
    complete: bool
    missing_items: tuple[int, ...]
    total: int | None
    severity: str | None
    flags: tuple[str, ...]
    subscales: Mapping[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """The JSON body of POST /api/v1/instruments/{code}/score."""
        return {
            "instrument": self.instrument,
            "complete": self.complete,
            "missing_items": list(self.missing_items),
            "total": self.total,
            "severity": self.severity,
            "flags": list(self.flags),
            "subscales": dict(self.subscales),
        }


@dataclass(frozen=True)
class SeverityBand:
    slug: str
    label: str
    low: int
    high: int


@dataclass(frozen=True)
class Instrument:
    # The API code: phq9, gad7, pcl5, qids-sr16, madrs, cadss, cssrs-screen, moaas,
    # modified-aldrete.
    code: str
    name: str
    version: str
    rater: Literal["self", "clinician"]
    stem: str  # instructions shown above the items ("Over the last 2 weeks, …")
    items: tuple[Item, ...]
    total_range: tuple[int, int] | None  # None when the instrument has no total (C-SSRS)
    bands: tuple[SeverityBand, ...]  # empty when no validated bands (PCL-5, CADSS)
    licence: str
    source: str  # source keys from clinical-reference.md, e.g. "[G1], [G5]"
    # Scores validated answers: (instrument, answers, policy) -> ScoreResult.
    scorer: Callable[[Instrument, Sequence[Answer], ScoringPolicy], ScoreResult]
    # Patient-facing instruments show the published wording in full; others are entered by staff.
    patient_facing: bool = True
    # Item numbers whose answer triggers a suicidality alert at or above the given value.
    suicidality_items: Mapping[int, int] = field(default_factory=dict)

    def suicidality_positives(self, answers: Sequence[Answer]) -> list[tuple[int, int]]:
        """(item number, answer) for each item at or above its suicidality threshold, in item
        order. Answered items count even on an incomplete form. The one definition behind the
        scorers' `suicidal_ideation` flag and the alert's trigger (suicidality.py)."""
        positives = []
        for number, threshold in sorted(self.suicidality_items.items()):
            value = answers[number - 1] if number <= len(answers) else None
            if value is not None and value >= threshold:
                positives.append((number, value))
        return positives

    def suicidality_flags(self, answers: Sequence[Answer]) -> list[str]:
        """`[SUICIDAL_IDEATION]` when any answer reaches its threshold, else no flag."""
        return [SUICIDAL_IDEATION] if self.suicidality_positives(answers) else []

    def validate(self, answers: Sequence[Answer]) -> list[Answer]:
        """Checks the count and each value's range; see calculators.md §1."""
        required = [i for i in self.items if i.required]
        if not (len(required) <= len(answers) <= len(self.items)):
            expected = (
                f"{len(required)}"
                if len(required) == len(self.items)
                else f"{len(required)} or {len(self.items)}"
            )
            raise AnswerError(
                f"{self.name} takes {expected} answers, one per item in order; got {len(answers)}."
            )
        checked: list[Answer] = []
        for item, value in zip(self.items, answers, strict=False):
            if value is None:
                checked.append(None)
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value not in item.values:
                allowed = ", ".join(str(v) for v in sorted(item.values))
                raise AnswerError(
                    f"Item {item.number} must be one of {allowed} or null; got {value!r}.",
                    item=item.number,
                )
            checked.append(value)
        return checked

    def score(
        self, answers: Sequence[Answer], policy: ScoringPolicy = DEFAULT_POLICY
    ) -> ScoreResult:
        return self.scorer(self, self.validate(answers), policy)

    def band_for(self, total: int | None) -> SeverityBand | None:
        if total is None:
            return None
        return next((b for b in self.bands if b.low <= total <= b.high), None)
