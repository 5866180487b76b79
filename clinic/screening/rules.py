"""Eligibility screening: intake facts → findings and a verdict per route.

Pure Python: no Django import anywhere below (a test checks it). The rules are the default rule
set of docs/clinical/screening-rules.md, in its table's order; source keys in square brackets
refer to docs/clinical/clinical-reference.md §11. Every number a rule compares against is a
policy value of the `RuleSet` (`THRESHOLDS` below holds the defaults and their sources), never a
literal in the logic. A clinic administrator may change the thresholds and the levels of clinic
rules; the rules marked *label* in screening-rules.md follow the esketamine label and cannot change,
and the thresholds a label rule depends on (adults from 18; treatment-resistant from two failed
trials) may be made stricter, never laxer (policy-defaults.md: "not editable below the label").

Readings of the rows whose wording leaves a choice, stated once:
- Absent answers: a rule phrased as a fact ("age < 18", "pregnant") does not fire when the answer
  is missing. A rule phrased as a lack fires when the answer is missing: the home-program rules
  (calculators.md §3: an absent answer counts as no) and `esketamine_off_label` (with no
  indication recorded, an on-label indication is not established, so esketamine stays closed).
- Unanswered is not "no" (calculators.md §3): a rule that does not fire on a missing answer
  has not shown the route safe. `Evaluation.missing` lists, in `MISSING_INPUTS` order, the
  answers the rule set needs that were not given, and every route that would otherwise be
  eligible (with or without precautions) is `incomplete` while anything is missing; a route an
  absolute finding closes stays `ineligible`. `conditions` and `medication_classes` are None
  when the history was not asked, and an empty tuple when it was asked and nothing applies.
  Blood pressure counts as given only with both components: one number alone cannot show that
  the other is below the uncontrolled threshold. Pregnancy and breastfeeding are not asked of a
  patient whose sex is male.
- Blood pressure: a reading is "≥ 180/100" when systolic ≥ 180 or diastolic ≥ 100 (either
  component; uncontrolled). It is "> 140/90" when systolic > 140 or diastolic > 90 (the label's
  "> 140 mmHg systolic or > 90 mmHg diastolic" [C2]). "And below 180/100" means the reading is
  not at or above the uncontrolled threshold, so on the reading itself the two findings never
  both fire: 179/99 is elevated, 180/99 and 150/100 are uncontrolled, 140/90 is neither. A
  recorded uncontrolled-hypertension condition does not change what the reading shows: with the
  condition and a reading of 150/95 both findings are listed. With one component missing, the
  other is judged alone.
- "Indication is depression" (`not_treatment_resistant`): every depressive indication —
  `treatment_resistant_depression`, `depression_with_suicidal_ideation`, `major_depression` and
  `bipolar_depression`. The finding is a caution on all routes; it never closes a route by
  itself. For esketamine the closing finding is `esketamine_not_trd` (indication TRD) or
  `esketamine_off_label` (major or bipolar depression). With depression with acute suicidal
  ideation esketamine stays open: that labelled indication does not require failed trials [C6].
- `mania_history` ("bipolar disorder or past mania") also fires for the indication
  `bipolar_depression`, which is bipolar disorder by definition, even if the condition was not
  ticked.
- The "same trigger" pairs (`cardiac_disease` / `cardiac_disease_unmonitored`, the psychosis and
  substance-use pairs, `hepatic_impairment_severe` / `_severe_other`, `suicide_risk_high` /
  `_clinic`) fire together from one answer.
- Route lists are given in the canonical route order (iv, im, esketamine, sublingual).

Long because: it is the rule set itself — every row of the screening-rules table with its
trigger, level, routes and source, the thresholds they compare against, and the verdict rule —
kept in one pure module so the table can be read against its source in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from types import MappingProxyType
from typing import Any, TypeGuard

# --------------------------------------------------------------------------- vocabularies
# Copies of clinic/screening/choices.py (which imports Django) as plain strings; a test
# asserts they equal the Django choices' values.

ROUTES: tuple[str, ...] = ("iv", "im", "esketamine", "sublingual")

INDICATIONS: tuple[str, ...] = (
    "treatment_resistant_depression",
    "depression_with_suicidal_ideation",
    "major_depression",
    "ptsd",
    "generalized_anxiety",
    "social_anxiety",
    "ocd",
    "bipolar_depression",
    "chronic_pain",
)

CONDITIONS: tuple[str, ...] = (
    "hypersensitivity",
    "aneurysmal_vascular_disease",
    "arteriovenous_malformation",
    "intracerebral_hemorrhage",
    "uncontrolled_hypertension",
    "cardiac_disease",
    "active_psychosis",
    "psychosis_history",
    "mania_history",
    "substance_use_disorder",
    "raised_intracranial_pressure",
    "raised_intraocular_pressure",
    "hepatic_impairment_moderate",
    "hepatic_impairment_severe",
    "hyperthyroidism_untreated",
    "bladder_symptoms",
)

# "other" is in the intake's vocabulary (a medication no rule is about); it triggers nothing.
MEDICATION_CLASSES: tuple[str, ...] = (
    "benzodiazepine",
    "opioid",
    "sedative_hypnotic",
    "cns_depressant",
    "maoi",
    "psychostimulant",
    "lamotrigine",
    "other",
)

TRIAL_OUTCOMES: tuple[str, ...] = ("no_response", "partial_response", "response", "intolerance")

# Administrative sex as clinic/patients/choices.py codes it (FHIR AdministrativeGender).
SEXES: tuple[str, ...] = ("female", "male", "other", "unknown")

# C-SSRS screen risk levels (calculators.md §1, `cssrs-screen`).
CSSRS_RISKS: tuple[str, ...] = ("none", "low", "moderate", "high")

LEVELS: tuple[str, ...] = ("absolute", "relative", "caution")

ELIGIBLE = "eligible"
ELIGIBLE_WITH_PRECAUTIONS = "eligible_with_precautions"
INELIGIBLE = "ineligible"
INCOMPLETE = "incomplete"
VERDICTS: tuple[str, ...] = (ELIGIBLE, ELIGIBLE_WITH_PRECAUTIONS, INELIGIBLE, INCOMPLETE)

# The answers the rule set needs, in the order calculators.md §3 lists them (its names,
# which are the evaluate API's body fields), each with how a clinic says it.
MISSING_INPUTS: tuple[str, ...] = (
    "age_years",
    "weight_kg",
    "blood_pressure",
    "heart_rate",
    "indication",
    "conditions",
    "medication_classes",
    "pregnant",
    "breastfeeding",
)
MISSING_INPUT_TITLES: Mapping[str, str] = MappingProxyType(
    {
        "age_years": "age (date of birth)",
        "weight_kg": "weight",
        "blood_pressure": "screening blood pressure (systolic and diastolic)",
        "heart_rate": "heart rate",
        "indication": "indication",
        "conditions": "medical history (a yes or no for every condition)",
        "medication_classes": "current medicines (yes or no, and each medicine's class)",
        "pregnant": "pregnancy",
        "breastfeeding": "breastfeeding",
    }
)

# Trial outcomes that count as a failed trial (screening-rules.md, "Treatment resistance").
FAILED_TRIAL_OUTCOMES = frozenset({"no_response", "partial_response"})

# Indications that are a depression (see the module docstring for this reading).
DEPRESSION_INDICATIONS = frozenset(
    {
        "treatment_resistant_depression",
        "depression_with_suicidal_ideation",
        "major_depression",
        "bipolar_depression",
    }
)

# The esketamine label's indications: TRD [C2] and MDD with acute suicidal ideation [C6].
ESKETAMINE_LABEL_INDICATIONS = frozenset(
    {"treatment_resistant_depression", "depression_with_suicidal_ideation"}
)

CNS_DEPRESSANT_CLASSES = frozenset({"opioid", "sedative_hypnotic", "cns_depressant"})
BLOOD_PRESSURE_RAISING_CLASSES = frozenset({"maoi", "psychostimulant"})

_ALL = ROUTES
_IN_CLINIC = ("iv", "im", "esketamine")
_SUBLINGUAL = ("sublingual",)
_ESKETAMINE = ("esketamine",)


# --------------------------------------------------------------------------- errors


class IntakeError(ValueError):
    """Facts that cannot be evaluated. `field` names the IntakeFacts field at fault; `loc` is the
    path to the offending value, e.g. ("conditions", 2) or ("antidepressant_trials", 0, "drug")."""

    def __init__(self, field: str, message: str, *, loc: tuple[str | int, ...] = ()):
        super().__init__(message)
        self.field = field
        self.message = message
        self.loc = loc or (field,)


class VocabularyError(IntakeError):
    """A term that is not in the vocabulary (condition, medication class, indication, ...)."""


class ContradictionError(IntakeError):
    """Answers that cannot all be true."""


class ImpossibleValueError(IntakeError):
    """A value no person can have (a negative age, a weight of 0): an entry error."""


class PolicyError(ValueError):
    """A rule-set policy the rules cannot take. `name` is the code, threshold or key at fault."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name
        self.message = message


# --------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class TrialFacts:
    """One antidepressant trial: `adequate` means adequate dose and duration."""

    drug: str
    adequate: bool
    outcome: str
    current_episode: bool


def _as_decimal(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return Decimal(str(value))


@dataclass(frozen=True)
class IntakeFacts:
    """What screening evaluates. Every answer is optional; lists may be given as any iterable.
    `conditions` and `medication_classes` are None when they were not asked (unknown) and an
    empty tuple when they were asked and none applies."""

    age_years: int | None = None
    sex: str | None = None
    pregnant: bool | None = None
    breastfeeding: bool | None = None
    weight_kg: Decimal | None = None
    height_cm: Decimal | None = None
    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    heart_rate_bpm: int | None = None
    indication: str | None = None
    conditions: tuple[str, ...] | None = None
    medication_classes: tuple[str, ...] | None = None
    antidepressant_trials: tuple[TrialFacts, ...] = ()
    cssrs_risk: str | None = None
    home_treatment_monitor: bool = False
    home_bp_monitor: bool = False

    def __post_init__(self) -> None:
        for name in ("conditions", "medication_classes", "antidepressant_trials"):
            value = getattr(self, name)
            if value is None:
                # Not asked stays None (unknown); a trial list has no such state: no trials
                # recorded is what the treatment-resistance count sees either way.
                if name == "antidepressant_trials":
                    object.__setattr__(self, name, ())
            elif not isinstance(value, tuple | str | bytes):
                object.__setattr__(self, name, tuple(value))
        for name in ("weight_kg", "height_cm"):
            object.__setattr__(self, name, _as_decimal(getattr(self, name)))

    def problems(self) -> list[IntakeError]:
        """Every reason the facts cannot be evaluated, in field order (empty when valid)."""
        found: list[IntakeError] = []
        found.extend(self._vocabulary_problems())
        found.extend(self._value_problems())
        found.extend(self._contradictions())
        return found

    def validate(self) -> None:
        """Raise the first problem: VocabularyError, ImpossibleValueError or ContradictionError."""
        problems = self.problems()
        if problems:
            raise problems[0]

    def missing(self) -> tuple[str, ...]:
        """The answers the rule set needs that were not given, in MISSING_INPUTS order."""
        absent = {
            "age_years": self.age_years is None,
            "weight_kg": self.weight_kg is None,
            "blood_pressure": self.systolic_mmhg is None or self.diastolic_mmhg is None,
            "heart_rate": self.heart_rate_bpm is None,
            "indication": self.indication is None,
            "conditions": self.conditions is None,
            "medication_classes": self.medication_classes is None,
            "pregnant": self.sex != "male" and self.pregnant is None,
            "breastfeeding": self.sex != "male" and self.breastfeeding is None,
        }
        return tuple(name for name in MISSING_INPUTS if absent[name])

    def _vocabulary_problems(self) -> Iterable[IntakeError]:
        for name, vocabulary, what in (
            ("sex", SEXES, "sex"),
            ("indication", INDICATIONS, "indication"),
            ("cssrs_risk", CSSRS_RISKS, "C-SSRS risk level"),
        ):
            value = getattr(self, name)
            if value is not None and value not in vocabulary:
                yield VocabularyError(name, _unknown(what, value, vocabulary))
        for name, vocabulary, what in (
            ("conditions", CONDITIONS, "condition"),
            ("medication_classes", MEDICATION_CLASSES, "medication class"),
        ):
            values = getattr(self, name)
            if values is None:
                continue
            if isinstance(values, str | bytes):
                yield VocabularyError(name, f"Give a list of {what} codes, not one string.")
                continue
            for index, value in enumerate(values):
                if value not in vocabulary:
                    yield VocabularyError(
                        name, _unknown(what, value, vocabulary), loc=(name, index)
                    )
        if isinstance(self.antidepressant_trials, str | bytes):
            yield VocabularyError("antidepressant_trials", "Give a list of trials.")
            return
        for index, trial in enumerate(self.antidepressant_trials):
            loc = ("antidepressant_trials", index)
            if not isinstance(trial, TrialFacts):
                yield VocabularyError(loc[0], f"Trial {index + 1} is not a trial.", loc=loc)
            elif trial.outcome not in TRIAL_OUTCOMES:
                yield VocabularyError(
                    loc[0],
                    f"Trial {index + 1}: " + _unknown("outcome", trial.outcome, TRIAL_OUTCOMES),
                    loc=(*loc, "outcome"),
                )

    def _value_problems(self) -> Iterable[IntakeError]:
        if self.age_years is not None and (not _is_int(self.age_years) or self.age_years < 0):
            yield ImpossibleValueError(
                "age_years", "Age must be a whole number of years, 0 or more."
            )
        for name, label in (
            ("systolic_mmhg", "Systolic pressure"),
            ("diastolic_mmhg", "Diastolic pressure"),
            ("heart_rate_bpm", "Heart rate"),
        ):
            value = getattr(self, name)
            if value is not None and (not _is_int(value) or value <= 0):
                yield ImpossibleValueError(name, f"{label} must be a whole number above 0.")
        for name, label in (("weight_kg", "Weight"), ("height_cm", "Height")):
            value = getattr(self, name)
            if value is not None and not _is_positive_decimal(value):
                yield ImpossibleValueError(name, f"{label} must be a number above 0.")

    def _contradictions(self) -> Iterable[IntakeError]:
        if self.sex == "male" and self.pregnant is True:
            yield ContradictionError("pregnant", "Pregnant is answered yes, but sex is male.")
        if self.sex == "male" and self.breastfeeding is True:
            yield ContradictionError(
                "breastfeeding", "Breastfeeding is answered yes, but sex is male."
            )
        if (
            _is_int(self.systolic_mmhg)
            and _is_int(self.diastolic_mmhg)
            and self.diastolic_mmhg >= self.systolic_mmhg
        ):
            yield ContradictionError(
                "diastolic_mmhg",
                f"Diastolic pressure ({self.diastolic_mmhg}) must be below systolic "
                f"({self.systolic_mmhg}).",
            )
        if isinstance(self.antidepressant_trials, tuple):
            for index, trial in enumerate(self.antidepressant_trials):
                if isinstance(trial, TrialFacts) and not (
                    isinstance(trial.drug, str) and trial.drug.strip()
                ):
                    yield ContradictionError(
                        "antidepressant_trials",
                        f"Trial {index + 1} has no drug name: a trial is of a named drug.",
                        loc=("antidepressant_trials", index, "drug"),
                    )


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_positive_decimal(value: Any) -> bool:
    if not isinstance(value, Decimal) or not value.is_finite():
        return False
    return value > 0


def _unknown(what: str, value: Any, vocabulary: Iterable[str]) -> str:
    return f"Unknown {what} {value!r}. Known: {', '.join(vocabulary)}."


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Finding:
    code: str
    level: str
    routes: tuple[str, ...]
    message: str
    source: str

    @property
    def title(self) -> str:
        """The rule's short name in words, for pages (the API keeps the contract's shape)."""
        return rule_title(self.code)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "level": self.level,
            "routes": list(self.routes),
            "message": self.message,
            "source": self.source,
        }


@dataclass(frozen=True)
class Evaluation:
    findings: tuple[Finding, ...]
    treatment_resistant: bool
    failed_adequate_trials: int
    bmi: Decimal | None
    routes: dict[str, str]
    rule_set_version: int
    missing: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The response body of POST /api/v1/screening/evaluate (calculators.md §3). The
        rule-set version is not part of that contract; callers that store an evaluation keep
        `rule_set_version` next to it."""
        return {
            "findings": [finding.as_dict() for finding in self.findings],
            "treatment_resistant": self.treatment_resistant,
            "failed_adequate_trials": self.failed_adequate_trials,
            "bmi": float(self.bmi) if self.bmi is not None else None,
            "routes": {route: self.routes[route] for route in ROUTES},
            "missing": list(self.missing),
        }

    def incomplete_routes(self) -> tuple[str, ...]:
        return tuple(route for route in ROUTES if self.routes[route] == INCOMPLETE)


@dataclass(frozen=True)
class RuleDescription:
    """One row of the rule set as an administrator sees it."""

    code: str
    title: str
    trigger: str
    level: str
    routes: tuple[str, ...]
    source: str
    label: bool


_SEVERITY = {ELIGIBLE: 0, ELIGIBLE_WITH_PRECAUTIONS: 1, INELIGIBLE: 2}


def route_verdicts(findings: Iterable[Finding], missing: Iterable[str] = ()) -> dict[str, str]:
    """`ineligible` if an absolute finding applies to the route, else
    `eligible_with_precautions` if a relative or caution finding does, else `eligible`; and
    while any needed answer is `missing`, every route not `ineligible` is `incomplete`."""
    verdicts = dict.fromkeys(ROUTES, ELIGIBLE)
    for finding in findings:
        verdict = INELIGIBLE if finding.level == "absolute" else ELIGIBLE_WITH_PRECAUTIONS
        for route in finding.routes:
            if _SEVERITY[verdict] > _SEVERITY[verdicts[route]]:
                verdicts[route] = verdict
    if tuple(missing):
        verdicts = {
            route: verdict if verdict == INELIGIBLE else INCOMPLETE
            for route, verdict in verdicts.items()
        }
    return verdicts


def body_mass_index(weight_kg: Decimal | None, height_cm: Decimal | None) -> Decimal | None:
    """weight ÷ (height in metres)², one decimal, half up; None without both."""
    if weight_kg is None or height_cm is None:
        return None
    height_m = Decimal(height_cm) / 100
    return (Decimal(weight_kg) / (height_m * height_m)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


# --------------------------------------------------------------------------- thresholds


@dataclass(frozen=True)
class Threshold:
    default: int
    unit: str
    source: str
    description: str
    # Thresholds that a label rule depends on may be made stricter, never laxer than the label
    # (policy-defaults.md: "not editable below the label").
    label_minimum: int | None = None


THRESHOLDS: Mapping[str, Threshold] = MappingProxyType(
    {
        "adult_age_years": Threshold(
            18,
            "years",
            "Adult service; esketamine label (adults) [C2]",
            "Adults from",
            label_minimum=18,
        ),
        "older_adult_age_years": Threshold(65, "years", "[C5], [H3]", "Older adults from"),
        "uncontrolled_systolic_mmhg": Threshold(
            180, "mmHg", "[F1], [E2]", "Uncontrolled blood pressure: systolic at or above"
        ),
        "uncontrolled_diastolic_mmhg": Threshold(
            100, "mmHg", "[F1], [E2]", "Uncontrolled blood pressure: diastolic at or above"
        ),
        "elevated_systolic_mmhg": Threshold(
            140, "mmHg", "[C2]", "Elevated blood pressure: systolic above"
        ),
        "elevated_diastolic_mmhg": Threshold(
            90, "mmHg", "[C2]", "Elevated blood pressure: diastolic above"
        ),
        "treatment_resistance_failed_trials": Threshold(
            2,
            "trials",
            "Founding documents; label definition of TRD [C2]",
            "Treatment-resistant from this many failed adequate trials in the current episode",
            label_minimum=2,
        ),
    }
)

# Pairs (lower, higher) that must keep their order for the bands to make sense.
_THRESHOLD_ORDER = (
    ("adult_age_years", "older_adult_age_years"),
    ("elevated_systolic_mmhg", "uncontrolled_systolic_mmhg"),
    ("elevated_diastolic_mmhg", "uncontrolled_diastolic_mmhg"),
)


# --------------------------------------------------------------------------- the rules


@dataclass(frozen=True)
class _Context:
    facts: IntakeFacts
    thresholds: Mapping[str, int]
    conditions: frozenset[str]
    medication_classes: frozenset[str]
    failed_adequate_trials: int
    treatment_resistant: bool

    def has(self, condition: str) -> bool:
        return condition in self.conditions

    def bp_uncontrolled(self) -> bool:
        systolic, diastolic = self.facts.systolic_mmhg, self.facts.diastolic_mmhg
        t = self.thresholds
        return (systolic is not None and systolic >= t["uncontrolled_systolic_mmhg"]) or (
            diastolic is not None and diastolic >= t["uncontrolled_diastolic_mmhg"]
        )

    def bp_above_elevated(self) -> bool:
        systolic, diastolic = self.facts.systolic_mmhg, self.facts.diastolic_mmhg
        t = self.thresholds
        return (systolic is not None and systolic > t["elevated_systolic_mmhg"]) or (
            diastolic is not None and diastolic > t["elevated_diastolic_mmhg"]
        )

    def bp_text(self) -> str:
        systolic, diastolic = self.facts.systolic_mmhg, self.facts.diastolic_mmhg
        if systolic is not None and diastolic is not None:
            return f"{systolic}/{diastolic} mmHg"
        if systolic is not None:
            return f"systolic {systolic} mmHg"
        return f"diastolic {diastolic} mmHg"

    def trials_text(self) -> str:
        count = self.failed_adequate_trials
        return f"{count} failed adequate trial{'' if count == 1 else 's'}"


Message = str | Callable[[_Context], str]


@dataclass(frozen=True)
class _Rule:
    code: str
    title: str  # a few words a clinician reads instead of the code
    trigger: str  # str.format template over the thresholds
    level: str  # the default level
    routes: tuple[str, ...]
    source: str
    label: bool
    applies: Callable[[_Context], bool]
    message: Message


def _condition(code: str) -> Callable[[_Context], bool]:
    return lambda ctx: ctx.has(code)


def _components_over(ctx: _Context, band: str, relation: str) -> str:
    """The components of the reading that cross the band's thresholds, each with its own
    threshold, so the sentence is true of every number in it (e.g. 150/100 is uncontrolled
    by its diastolic alone, and "150/100 is at or above 180/100" would be false)."""
    t = ctx.thresholds
    facts = ctx.facts
    crosses: Callable[[int, int], bool] = (
        (lambda value, limit: value >= limit)
        if relation == "at or above"
        else (lambda value, limit: value > limit)
    )
    parts = [
        f"{name} {value} is {relation} {t[f'{band}_{name}_mmhg']}"
        for name, value in (("systolic", facts.systolic_mmhg), ("diastolic", facts.diastolic_mmhg))
        if value is not None and crosses(value, t[f"{band}_{name}_mmhg"])
    ]
    return " and ".join(parts)


def _uncontrolled_message(ctx: _Context) -> str:
    parts = []
    if ctx.has("uncontrolled_hypertension"):
        parts.append("Uncontrolled hypertension is recorded.")
    if ctx.bp_uncontrolled():
        parts.append(
            f"Screening blood pressure {ctx.bp_text()}: "
            f"{_components_over(ctx, 'uncontrolled', 'at or above')}."
        )
    return " ".join(parts) + " Ketamine and esketamine raise blood pressure."


def _elevated_message(ctx: _Context) -> str:
    return (
        f"Screening blood pressure {ctx.bp_text()}: "
        f"{_components_over(ctx, 'elevated', 'above')}. Check it again before each dose and "
        "weigh the expected rise against the benefit."
    )


def _mania_message(ctx: _Context) -> str:
    if ctx.has("mania_history"):
        return "Bipolar disorder or past mania: risk of a switch into mania."
    return "The indication is bipolar depression (bipolar disorder): risk of a switch into mania."


def _off_label_message(ctx: _Context) -> str:
    indication = ctx.facts.indication
    head = (
        "No indication is recorded"
        if indication is None
        else f"The indication ({indication.replace('_', ' ')}) is neither treatment-resistant "
        "depression nor depression with acute suicidal ideation"
    )
    return (
        f"{head}: esketamine is approved only for treatment-resistant depression and for "
        "depression with acute suicidal ideation."
    )


def _not_treatment_resistant_message(ctx: _Context) -> str:
    needed = ctx.thresholds["treatment_resistance_failed_trials"]
    return (
        f"{ctx.trials_text().capitalize()} in the current episode (treatment-resistant from "
        f"{needed}): not treatment-resistant."
    )


def _esketamine_not_trd_message(ctx: _Context) -> str:
    needed = ctx.thresholds["treatment_resistance_failed_trials"]
    return (
        f"The indication is treatment-resistant depression, but the intake shows "
        f"{ctx.trials_text()} in the current episode, fewer than {needed}: esketamine's "
        "treatment-resistant depression indication is not met."
    )


def _cns_depressant_message(ctx: _Context) -> str:
    names = {
        "opioid": "an opioid",
        "sedative_hypnotic": "a non-benzodiazepine hypnotic",
        "cns_depressant": "another CNS depressant",
    }
    taken = [
        names[c]
        for c in ("opioid", "sedative_hypnotic", "cns_depressant")
        if c in ctx.medication_classes
    ]
    listed = taken[0] if len(taken) == 1 else ", ".join(taken[:-1]) + " and " + taken[-1]
    return f"Takes {listed}: more sedation and a risk of respiratory depression."


def _blood_pressure_drug_message(ctx: _Context) -> str:
    taken = [
        name
        for code, name in (("maoi", "an MAOI"), ("psychostimulant", "a psychostimulant"))
        if code in ctx.medication_classes
    ]
    return f"Takes {' and '.join(taken)}: blood pressure may rise further; monitor it closely."


_RULES: tuple[_Rule, ...] = (
    _Rule(
        code="age_under_18",
        title="Under the adult age",
        trigger="age < {adult_age_years}",
        level="absolute",
        routes=_ALL,
        source="Adult service; esketamine label (adults) [C2]",
        label=False,
        applies=lambda ctx: (
            ctx.facts.age_years is not None
            and ctx.facts.age_years < ctx.thresholds["adult_age_years"]
        ),
        message=lambda ctx: (
            f"Age {ctx.facts.age_years}, under {ctx.thresholds['adult_age_years']}: the "
            "clinic treats adults, and esketamine is approved for adults."
        ),
    ),
    _Rule(
        code="age_65_or_over",
        title="Older adult",
        trigger="age ≥ {older_adult_age_years}",
        level="caution",
        routes=_IN_CLINIC,
        source="[C5], [H3]",
        label=False,
        applies=lambda ctx: (
            ctx.facts.age_years is not None
            and ctx.facts.age_years >= ctx.thresholds["older_adult_age_years"]
        ),
        message=lambda ctx: (
            f"Age {ctx.facts.age_years}, {ctx.thresholds['older_adult_age_years']} or "
            "over: for esketamine consider a 28 mg starting dose."
        ),
    ),
    _Rule(
        code="hypersensitivity",
        title="Hypersensitivity to ketamine or esketamine",
        trigger="known hypersensitivity to ketamine or esketamine",
        level="absolute",
        routes=_ALL,
        source="Esketamine label [C11], [F1]",
        label=True,
        applies=_condition("hypersensitivity"),
        message="Known hypersensitivity to ketamine or esketamine: contraindicated.",
    ),
    _Rule(
        code="aneurysmal_vascular_disease",
        title="Aneurysmal vascular disease",
        trigger="aortic, intracranial or peripheral arterial aneurysm",
        level="absolute",
        routes=_ALL,
        source="Esketamine label [C11]",
        label=True,
        applies=_condition("aneurysmal_vascular_disease"),
        message=(
            "Aneurysmal vascular disease (aortic, intracranial or peripheral arterial aneurysm): "
            "contraindicated, because blood pressure rises with treatment."
        ),
    ),
    _Rule(
        code="arteriovenous_malformation",
        title="Arteriovenous malformation",
        trigger="arteriovenous malformation",
        level="absolute",
        routes=_ALL,
        source="Esketamine label [C11]",
        label=True,
        applies=_condition("arteriovenous_malformation"),
        message="Arteriovenous malformation: contraindicated.",
    ),
    _Rule(
        code="intracerebral_hemorrhage",
        title="Past intracerebral haemorrhage",
        trigger="history of intracerebral haemorrhage",
        level="absolute",
        routes=_ALL,
        source="Esketamine label [C11]",
        label=True,
        applies=_condition("intracerebral_hemorrhage"),
        message="History of intracerebral haemorrhage: contraindicated.",
    ),
    _Rule(
        code="uncontrolled_hypertension",
        title="Uncontrolled hypertension",
        trigger=(
            "uncontrolled hypertension recorded, or screening BP ≥ "
            "{uncontrolled_systolic_mmhg}/{uncontrolled_diastolic_mmhg} (systolic ≥ "
            "{uncontrolled_systolic_mmhg} or diastolic ≥ {uncontrolled_diastolic_mmhg})"
        ),
        level="absolute",
        routes=_ALL,
        source="[F1], [E2]",
        label=False,
        applies=lambda ctx: ctx.has("uncontrolled_hypertension") or ctx.bp_uncontrolled(),
        message=_uncontrolled_message,
    ),
    _Rule(
        code="elevated_blood_pressure",
        title="Raised screening blood pressure",
        trigger=(
            "screening BP > {elevated_systolic_mmhg}/{elevated_diastolic_mmhg} (systolic > "
            "{elevated_systolic_mmhg} or diastolic > {elevated_diastolic_mmhg}) and below "
            "{uncontrolled_systolic_mmhg}/{uncontrolled_diastolic_mmhg}"
        ),
        level="caution",
        routes=_ALL,
        source="[C2]",
        label=False,
        applies=lambda ctx: ctx.bp_above_elevated() and not ctx.bp_uncontrolled(),
        message=_elevated_message,
    ),
    _Rule(
        code="cardiac_disease",
        title="Significant cardiovascular disease",
        trigger=(
            "recent MI, unstable angina, heart failure or other significant cardiovascular disease"
        ),
        level="relative",
        routes=_IN_CLINIC,
        source="[C9], [F2]",
        label=False,
        applies=_condition("cardiac_disease"),
        message=(
            "Significant cardiovascular disease (recent MI, unstable angina, heart failure or "
            "similar): blood pressure rises with treatment; weigh the benefit against the risk."
        ),
    ),
    _Rule(
        code="cardiac_disease_unmonitored",
        title="Cardiovascular disease: no unmonitored home sessions",
        trigger="same trigger as cardiac_disease",
        level="absolute",
        routes=_SUBLINGUAL,
        source="[B9]",
        label=False,
        applies=_condition("cardiac_disease"),
        message="Significant cardiovascular disease: at-home sessions have no clinical monitoring.",
    ),
    _Rule(
        code="active_psychosis",
        title="Current psychotic symptoms",
        trigger="current psychotic symptoms",
        level="absolute",
        routes=_ALL,
        source="[B9], [F4]",
        label=False,
        applies=_condition("active_psychosis"),
        message="Current psychotic symptoms.",
    ),
    _Rule(
        code="psychosis_history",
        title="Past psychosis",
        trigger="past psychosis or schizophrenia-spectrum disorder",
        level="relative",
        routes=_IN_CLINIC,
        source="[C9], [A5]",
        label=False,
        applies=_condition("psychosis_history"),
        message=(
            "Past psychosis or schizophrenia-spectrum disorder: treat only if the benefit "
            "outweighs the risk."
        ),
    ),
    _Rule(
        code="psychosis_history_unmonitored",
        title="Past psychosis: no unmonitored home sessions",
        trigger="same trigger as psychosis_history",
        level="absolute",
        routes=_SUBLINGUAL,
        source="[B9]",
        label=False,
        applies=_condition("psychosis_history"),
        message=(
            "Past psychosis or schizophrenia-spectrum disorder: at-home sessions have no clinical "
            "monitoring."
        ),
    ),
    _Rule(
        code="mania_history",
        title="Bipolar disorder or past mania",
        trigger="bipolar disorder or past mania (also the indication bipolar depression)",
        level="relative",
        routes=_ALL,
        source="[B9]",
        label=False,
        applies=lambda ctx: (
            ctx.has("mania_history") or ctx.facts.indication == "bipolar_depression"
        ),
        message=_mania_message,
    ),
    _Rule(
        code="substance_use_disorder",
        title="Substance use disorder",
        trigger="active substance use disorder, or history of ketamine/PCP misuse",
        level="relative",
        routes=_IN_CLINIC,
        source="[C9], [A5]",
        label=False,
        applies=_condition("substance_use_disorder"),
        message=(
            "Active substance use disorder, or past ketamine/PCP misuse: assess the risk of abuse "
            "and misuse."
        ),
    ),
    _Rule(
        code="substance_use_disorder_unmonitored",
        title="Substance use disorder: no take-home doses",
        trigger="same trigger as substance_use_disorder",
        level="absolute",
        routes=_SUBLINGUAL,
        source="[B9]",
        label=False,
        applies=_condition("substance_use_disorder"),
        message="Active substance use disorder, or past ketamine/PCP misuse: no take-home doses.",
    ),
    _Rule(
        code="pregnancy",
        title="Pregnant",
        trigger="pregnant",
        level="absolute",
        routes=_ALL,
        source="[C11], [B9]",
        label=False,
        applies=lambda ctx: ctx.facts.pregnant is True,
        message="Pregnant: esketamine is not recommended in pregnancy; home programs exclude it.",
    ),
    _Rule(
        code="breastfeeding",
        title="Breastfeeding",
        trigger="breastfeeding",
        level="relative",
        routes=_ALL,
        source="[C11]",
        label=False,
        applies=lambda ctx: ctx.facts.breastfeeding is True,
        message="Breastfeeding: esketamine is not recommended while breastfeeding.",
    ),
    _Rule(
        code="raised_intracranial_pressure",
        title="Raised intracranial pressure",
        trigger="raised ICP or intracranial mass",
        level="relative",
        routes=_ALL,
        source="[C2], [F2]",
        label=False,
        applies=_condition("raised_intracranial_pressure"),
        message=(
            "Raised intracranial pressure or an intracranial mass: do not treat if a rise in "
            "intracranial pressure would be a serious risk."
        ),
    ),
    _Rule(
        code="raised_intraocular_pressure",
        title="Raised intraocular pressure",
        trigger="glaucoma with raised IOP, open globe injury",
        level="relative",
        routes=_ALL,
        source="[F2]",
        label=False,
        applies=_condition("raised_intraocular_pressure"),
        message="Glaucoma with raised intraocular pressure, or an open globe injury.",
    ),
    _Rule(
        code="hepatic_impairment_moderate",
        title="Moderate liver impairment",
        trigger="Child-Pugh B",
        level="caution",
        routes=_ALL,
        source="[C12]",
        label=False,
        applies=_condition("hepatic_impairment_moderate"),
        message="Moderate hepatic impairment (Child-Pugh B): after esketamine, monitor for longer.",
    ),
    _Rule(
        code="hepatic_impairment_severe",
        title="Severe liver impairment (esketamine label)",
        trigger="Child-Pugh C",
        level="absolute",
        routes=_ESKETAMINE,
        source="Esketamine label [C12]",
        label=True,
        applies=_condition("hepatic_impairment_severe"),
        message="Severe hepatic impairment (Child-Pugh C): esketamine is not recommended.",
    ),
    _Rule(
        code="hepatic_impairment_severe_other",
        title="Severe liver impairment",
        trigger="Child-Pugh C",
        level="relative",
        routes=("iv", "im", "sublingual"),
        source="[C12], [B2]",
        label=False,
        applies=_condition("hepatic_impairment_severe"),
        message="Severe hepatic impairment (Child-Pugh C): ketamine is metabolised by the liver.",
    ),
    _Rule(
        code="hyperthyroidism_untreated",
        title="Untreated hyperthyroidism",
        trigger="untreated hyperthyroidism",
        level="relative",
        routes=_ALL,
        source="[E2]",
        label=False,
        applies=_condition("hyperthyroidism_untreated"),
        message="Untreated hyperthyroidism.",
    ),
    _Rule(
        code="bladder_symptoms",
        title="Bladder or urinary symptoms",
        trigger="interstitial cystitis or current lower urinary tract symptoms",
        level="relative",
        routes=_ALL,
        source="[F4]",
        label=False,
        applies=_condition("bladder_symptoms"),
        message=(
            "Interstitial cystitis or current lower urinary tract symptoms: repeated ketamine use "
            "can damage the bladder; monitor urinary symptoms."
        ),
    ),
    _Rule(
        code="suicide_risk_high",
        title="High suicide risk: no take-home doses",
        trigger="C-SSRS screen high risk",
        level="absolute",
        routes=_SUBLINGUAL,
        source="[B9], [G13]",
        label=False,
        applies=lambda ctx: ctx.facts.cssrs_risk == "high",
        message="C-SSRS screen: high risk of suicide. No take-home doses.",
    ),
    _Rule(
        code="suicide_risk_high_clinic",
        title="High suicide risk: safety plan first",
        trigger="C-SSRS screen high risk",
        level="caution",
        routes=_IN_CLINIC,
        source="[G13], [C6]",
        label=False,
        applies=lambda ctx: ctx.facts.cssrs_risk == "high",
        message=(
            "C-SSRS screen: high risk of suicide. Put a safety plan in place before the first "
            "session."
        ),
    ),
    _Rule(
        code="benzodiazepine",
        title="Takes a benzodiazepine",
        trigger="benzodiazepine in current medications",
        level="caution",
        routes=_ALL,
        source="[C14], [A7], [A8]",
        label=False,
        applies=lambda ctx: "benzodiazepine" in ctx.medication_classes,
        message="Takes a benzodiazepine: more sedation, and it may blunt the response to ketamine.",
    ),
    _Rule(
        code="cns_depressant",
        title="Takes another sedating medicine",
        trigger="opioid, non-benzodiazepine hypnotic, or other CNS depressant",
        level="caution",
        routes=_ALL,
        source="[C14]",
        label=False,
        applies=lambda ctx: bool(CNS_DEPRESSANT_CLASSES & ctx.medication_classes),
        message=_cns_depressant_message,
    ),
    _Rule(
        code="blood_pressure_raising_drug",
        title="Takes a medicine that raises blood pressure",
        trigger="MAOI or psychostimulant",
        level="caution",
        routes=_ALL,
        source="[C14]",
        label=False,
        applies=lambda ctx: bool(BLOOD_PRESSURE_RAISING_CLASSES & ctx.medication_classes),
        message=_blood_pressure_drug_message,
    ),
    _Rule(
        code="lamotrigine",
        title="Takes lamotrigine",
        trigger="lamotrigine",
        level="caution",
        routes=_ALL,
        source="[A7]",
        label=False,
        applies=lambda ctx: "lamotrigine" in ctx.medication_classes,
        message=(
            "Takes lamotrigine: it may lessen ketamine's side effects and possibly its effect "
            "(weak evidence)."
        ),
    ),
    _Rule(
        code="esketamine_off_label",
        title="Indication outside the esketamine label",
        trigger=(
            "indication is neither treatment-resistant depression nor depression with acute "
            "suicidal ideation (or no indication is recorded)"
        ),
        level="absolute",
        routes=_ESKETAMINE,
        source="Esketamine label [C2], [C6]",
        label=True,
        applies=lambda ctx: ctx.facts.indication not in ESKETAMINE_LABEL_INDICATIONS,
        message=_off_label_message,
    ),
    _Rule(
        code="not_treatment_resistant",
        title="Not treatment-resistant",
        trigger=(
            "indication is depression (treatment-resistant, with suicidal ideation, major or "
            "bipolar) and fewer than {treatment_resistance_failed_trials} adequate failed "
            "antidepressant trials in the current episode"
        ),
        level="caution",
        routes=_ALL,
        source="Founding documents; [C2]",
        label=False,
        applies=lambda ctx: (
            ctx.facts.indication in DEPRESSION_INDICATIONS and not ctx.treatment_resistant
        ),
        message=_not_treatment_resistant_message,
    ),
    _Rule(
        code="esketamine_not_trd",
        title="Treatment resistance not shown (esketamine label)",
        trigger=(
            "indication is treatment-resistant depression but fewer than "
            "{treatment_resistance_failed_trials} adequate failed trials"
        ),
        level="absolute",
        routes=_ESKETAMINE,
        source="Esketamine label [C2]",
        label=True,
        applies=lambda ctx: (
            ctx.facts.indication == "treatment_resistant_depression" and not ctx.treatment_resistant
        ),
        message=_esketamine_not_trd_message,
    ),
    _Rule(
        code="no_treatment_monitor",
        title="No treatment monitor at home",
        trigger="no named adult treatment monitor for home sessions (absent answer counts as no)",
        level="absolute",
        routes=_SUBLINGUAL,
        source="[B9]",
        label=False,
        applies=lambda ctx: not ctx.facts.home_treatment_monitor,
        message="No named adult treatment monitor for home sessions.",
    ),
    _Rule(
        code="no_home_bp_monitor",
        title="No blood-pressure monitor at home",
        trigger="no blood-pressure monitor at home (absent answer counts as no)",
        level="absolute",
        routes=_SUBLINGUAL,
        source="[B9]",
        label=False,
        applies=lambda ctx: not ctx.facts.home_bp_monitor,
        message="No blood-pressure monitor at home.",
    ),
)

RULE_CODES: tuple[str, ...] = tuple(rule.code for rule in _RULES)
RULE_TITLES: Mapping[str, str] = MappingProxyType({rule.code: rule.title for rule in _RULES})


def rule_title(code: str) -> str:
    """A rule's title; a code this rule set does not know (from an older stored evaluation)
    is shown as words rather than as the code."""
    return RULE_TITLES.get(code) or code.replace("_", " ").capitalize()


def missing_in_words(missing: Iterable[str]) -> list[str]:
    return [MISSING_INPUT_TITLES.get(name, name.replace("_", " ")) for name in missing]


LABEL_RULE_CODES = frozenset(rule.code for rule in _RULES if rule.label)
DEFAULT_LEVELS: Mapping[str, str] = MappingProxyType({rule.code: rule.level for rule in _RULES})
DEFAULT_THRESHOLDS: Mapping[str, int] = MappingProxyType(
    {name: threshold.default for name, threshold in THRESHOLDS.items()}
)


def failed_adequate_trials(trials: Iterable[TrialFacts]) -> int:
    """Trials in the current episode, adequate in dose and duration, that ended in no response
    or partial response (screening-rules.md, "Treatment resistance")."""
    return sum(
        1
        for trial in trials
        if trial.current_episode and trial.adequate and trial.outcome in FAILED_TRIAL_OUTCOMES
    )


# --------------------------------------------------------------------------- the rule set


def _check_thresholds(values: Mapping[str, Any]) -> dict[str, int]:
    checked = dict(DEFAULT_THRESHOLDS)
    for name, value in values.items():
        spec = THRESHOLDS.get(name)
        if spec is None:
            raise PolicyError(name, f"Unknown threshold {name!r}. Known: {', '.join(THRESHOLDS)}.")
        if not _is_int(value) or value <= 0:
            raise PolicyError(name, f"Threshold {name!r} must be a whole number above 0.")
        if spec.label_minimum is not None and value < spec.label_minimum:
            raise PolicyError(
                name,
                f"Threshold {name!r} cannot be set below {spec.label_minimum}: the esketamine "
                f"label rules depend on it ({spec.source}).",
            )
        checked[name] = value
    for lower, higher in _THRESHOLD_ORDER:
        if checked[lower] >= checked[higher]:
            raise PolicyError(
                lower if lower in values else higher,
                f"Threshold {lower!r} ({checked[lower]}) must stay below {higher!r} "
                f"({checked[higher]}).",
            )
    return checked


def _check_levels(values: Mapping[str, Any]) -> dict[str, str]:
    checked = dict(DEFAULT_LEVELS)
    for code, level in values.items():
        if code not in DEFAULT_LEVELS:
            raise PolicyError(code, f"Unknown rule {code!r}.")
        if level not in LEVELS:
            raise PolicyError(
                code, f"Rule {code!r}: level {level!r} is not one of {', '.join(LEVELS)}."
            )
        if code in LABEL_RULE_CODES and level != DEFAULT_LEVELS[code]:
            raise PolicyError(
                code,
                f"Rule {code!r} follows the esketamine label; its level cannot be changed.",
            )
        checked[code] = level
    return checked


@dataclass(frozen=True)
class RuleSet:
    """The default rules with a clinic's policy values. `thresholds` and `levels` may be
    partial: what they leave out keeps its default. Invalid values raise PolicyError."""

    version: int
    thresholds: Mapping[str, int] = field(default_factory=lambda: DEFAULT_THRESHOLDS)
    levels: Mapping[str, str] = field(default_factory=lambda: DEFAULT_LEVELS)

    def __post_init__(self) -> None:
        if not _is_int(self.version) or self.version < 1:
            raise PolicyError("version", "The rule-set version must be a whole number, 1 or more.")
        if not isinstance(self.thresholds, Mapping):
            raise PolicyError("thresholds", "Thresholds must be a mapping of name to value.")
        if not isinstance(self.levels, Mapping):
            raise PolicyError("levels", "Levels must be a mapping of rule code to level.")
        object.__setattr__(self, "thresholds", MappingProxyType(_check_thresholds(self.thresholds)))
        object.__setattr__(self, "levels", MappingProxyType(_check_levels(self.levels)))

    def evaluate(self, facts: IntakeFacts) -> Evaluation:
        """Findings in the rule table's order and a verdict per route. Raises the first of
        `facts.problems()` (VocabularyError, ImpossibleValueError, ContradictionError)."""
        facts.validate()
        failed = failed_adequate_trials(facts.antidepressant_trials)
        resistant = failed >= self.thresholds["treatment_resistance_failed_trials"]
        context = _Context(
            facts=facts,
            thresholds=self.thresholds,
            conditions=frozenset(facts.conditions or ()),
            medication_classes=frozenset(facts.medication_classes or ()),
            failed_adequate_trials=failed,
            treatment_resistant=resistant,
        )
        findings = tuple(
            Finding(
                code=rule.code,
                level=self.levels[rule.code],
                routes=rule.routes,
                message=rule.message if isinstance(rule.message, str) else rule.message(context),
                source=rule.source,
            )
            for rule in _RULES
            if rule.applies(context)
        )
        missing = facts.missing()
        return Evaluation(
            findings=findings,
            treatment_resistant=resistant,
            failed_adequate_trials=failed,
            bmi=body_mass_index(facts.weight_kg, facts.height_cm),
            routes=route_verdicts(findings, missing),
            rule_set_version=self.version,
            missing=missing,
        )


DEFAULT_RULE_SET = RuleSet(version=1)


def rule_set_from_policy(version: int, policy: Mapping[str, Any]) -> RuleSet:
    """A rule set from stored policy: {"thresholds": {name: value}, "levels": {code: level}};
    both keys optional. Anything the rules cannot take raises PolicyError naming it."""
    if policy is None:
        policy = {}
    if not isinstance(policy, Mapping):
        raise PolicyError("policy", "The policy must be a mapping.")
    unknown = sorted(set(policy) - {"thresholds", "levels"})
    if unknown:
        raise PolicyError(
            unknown[0], f"Unknown policy key {unknown[0]!r}. Known: thresholds, levels."
        )
    return RuleSet(
        version=version,
        thresholds=policy.get("thresholds") or {},
        levels=policy.get("levels") or {},
    )


def describe_rules(rule_set: RuleSet = DEFAULT_RULE_SET) -> list[RuleDescription]:
    """The rules in table order, with the rule set's thresholds and levels filled in."""
    return [
        RuleDescription(
            code=rule.code,
            title=rule.title,
            trigger=rule.trigger.format(**rule_set.thresholds),
            level=rule_set.levels[rule.code],
            routes=rule.routes,
            source=rule.source,
            label=rule.label,
        )
        for rule in _RULES
    ]


__all__ = [
    "CONDITIONS",
    "CSSRS_RISKS",
    "DEFAULT_RULE_SET",
    "INCOMPLETE",
    "INDICATIONS",
    "LEVELS",
    "MEDICATION_CLASSES",
    "MISSING_INPUTS",
    "MISSING_INPUT_TITLES",
    "ROUTES",
    "RULE_CODES",
    "RULE_TITLES",
    "SEXES",
    "THRESHOLDS",
    "TRIAL_OUTCOMES",
    "VERDICTS",
    "ContradictionError",
    "Evaluation",
    "Finding",
    "ImpossibleValueError",
    "IntakeError",
    "IntakeFacts",
    "PolicyError",
    "RuleDescription",
    "RuleSet",
    "TrialFacts",
    "VocabularyError",
    "body_mass_index",
    "describe_rules",
    "failed_adequate_trials",
    "missing_in_words",
    "route_verdicts",
    "rule_title",
    "rule_set_from_policy",
]
