"""Dose calculator: IV and IM racemic ketamine by body weight, esketamine by device.

Pure Python: no Django import (a test checks it). The contract is
docs/clinical/calculators.md §4. Every clinic-policy number is a field of `DosingPolicy`,
whose defaults come from docs/clinical/policy-defaults.md ("Dosing", "Preparation and
discharge"); the source keys in square brackets refer to docs/clinical/clinical-reference.md
§11. Product facts of the esketamine device and the label's floors are module constants.

Conventions, stated once:
- Rounding: every kg, mg and mL figure is rounded to one decimal place half up (Decimal
  ROUND_HALF_UP: 32.85 → 32.9, never banker's 32.8). Each figure is computed from the figures
  shown before it, so the arithmetic on the screen checks by hand:
  weight_used_kg (rounded) × dose_mg_per_kg = dose_mg;
  dose_mg × 60 ÷ infusion_minutes = rate_mg_per_h;
  dose_mg ÷ concentration_mg_per_ml = volume_ml;
  volume_ml × 60 ÷ infusion_minutes = rate_ml_per_h (a pump's volume to be infused over its time).
- Weight basis: `actual` (default [A4]), `ideal` (Devine) or `adjusted`
  (IBW + 0.4 × (actual − IBW)). Ideal and adjusted need height_cm and sex male or female.
- Heights below 60 in (152.4 cm): refused for the ideal and adjusted bases (DosingError on
  height_cm). The Devine formula adds 2.3 kg per inch *over* 60 in; below that it is not defined,
  and either extrapolating (negative inches) or clamping to the 60-in base weight would make up a
  weight the formula does not give — clamping would also raise the dose of a short patient above
  the formula's own trend. Refusing makes the prescriber choose the actual weight knowingly.
  Exactly 60 in gives the base weight (0 inches over: no extrapolation).
- An ideal or adjusted weight above the actual weight is refused (DosingError on weight_basis):
  those bases exist to lower the dose of heavy patients [A4], [A5]; one that would raise the dose
  above the actual-weight dose is never applied silently.
- Clinic policy may dose on another basis when BMI ≥ 30 ("clinic may choose adjusted body weight
  when BMI ≥ 30", policy-defaults.md): `high_bmi_weight_basis`, off by default. When it is on and
  the request names no basis, height_cm is required (without it the rule cannot be applied).

Long because: it is one calculator under the conventions above: the policy it checks against
(kept within the label's floors), the weight bases, the three routes, their dispatcher and the
planned session's dose built on it. Apart, the rounding and refusal rules stated once here would
be far from the code that applies them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

# --------------------------------------------------------------------------- vocabularies
# Plain copies of clinic/protocols/choices.py (WeightBasis) and clinic/screening/rules.py (SEXES);
# a test asserts they are equal.
WEIGHT_BASES: tuple[str, ...] = ("actual", "ideal", "adjusted")
SEXES: tuple[str, ...] = ("female", "male", "other", "unknown")
ROUTES: tuple[str, ...] = ("iv", "im", "esketamine")  # calculators.md §4

WeightBasis = Literal["actual", "ideal", "adjusted"]

# --------------------------------------------------------------------------- product facts
# Unit conversion, exact by definition (the international inch).
CM_PER_INCH = Decimal("2.54")
# One esketamine nasal spray device delivers 28 mg as 2 sprays, one per nostril
# (clinical-reference.md §3.1, [C1], [C2]).
ESKETAMINE_MG_PER_DEVICE = 28
ESKETAMINE_SPRAYS_PER_DEVICE = 2

# --------------------------------------------------------------------------- label floors
# A clinic may be stricter than the label, never laxer (policy-defaults.md, introduction).
LABEL_ESKETAMINE_DOSES_MG: tuple[int, ...] = (28, 56, 84)  # 1, 2, 3 devices [C2]
LABEL_MINUTES_BETWEEN_DEVICES = 5  # wait 5 minutes after each device [C2]
LABEL_OBSERVATION_MINUTES = 120  # monitor ≥ 2 hours after each session [C9], [C10]

ONE_DECIMAL = Decimal("0.1")
MINUTES_PER_HOUR = 60


def round_half_up(value: Decimal) -> Decimal:
    """One decimal place, half up: 32.85 → 32.9, 21.15 → 21.2."""
    return value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def _shown(value: Decimal, field: str) -> Decimal:
    """A figure as shown (one decimal, half up), or a DosingError naming the input that made it
    too large to hold (e.g. a concentration of 1e-30 mg/mL): never an unhandled error."""
    try:
        return round_half_up(value)
    except InvalidOperation as error:
        raise DosingError(
            f"{field} gives a figure too large to calculate; check the value.", field=field
        ) from error


# --------------------------------------------------------------------------- errors


class DosingError(ValueError):
    """Input the calculator cannot dose. `field` names the request field at fault."""

    def __init__(self, message: str, *, field: str):
        super().__init__(message)
        self.message = message
        self.field = field


# --------------------------------------------------------------------------- policy


def _d(text: str) -> Decimal:
    return Decimal(text)


@dataclass(frozen=True)
class DosingPolicy:
    """Clinic-policy dosing values (policy-defaults.md "Dosing", "Preparation and discharge").

    A clinic overrides them through settings.CLINIC_POLICY["dosing"] (clinic/protocols/policy.py).
    Construction checks the values are consistent and not laxer than the esketamine label.
    """

    # IV: 0.5 mg/kg over 40 min; allowed 0.1–1.0 mg/kg [A1], [A2].
    iv_dose_mg_per_kg: Decimal = _d("0.5")
    iv_min_mg_per_kg: Decimal = _d("0.1")
    iv_max_mg_per_kg: Decimal = _d("1.0")
    iv_infusion_minutes: int = 40
    # Session lengths reported in studies: 2–100 min [A1] (clinical-reference.md §1.1).
    iv_min_infusion_minutes: int = 2
    iv_max_infusion_minutes: int = 100
    # IM: 0.5 mg/kg; allowed 0.25–1.0 mg/kg [B1] (upper bound UNCONFIRMED: clinic policy).
    im_dose_mg_per_kg: Decimal = _d("0.5")
    im_min_mg_per_kg: Decimal = _d("0.25")
    im_max_mg_per_kg: Decimal = _d("1.0")
    # Esketamine: 28, 56 or 84 mg (1, 2, 3 devices), 5 min between devices (label [C2]);
    # observation ≥ 120 min after the dose (label/REMS [C9], [C10]).
    esketamine_doses_mg: tuple[int, ...] = LABEL_ESKETAMINE_DOSES_MG
    esketamine_minutes_between_devices: int = LABEL_MINUTES_BETWEEN_DEVICES
    esketamine_observation_minutes: int = LABEL_OBSERVATION_MINUTES
    # Weight basis: actual body weight [A4]; clinic may choose adjusted when BMI ≥ 30 (policy).
    default_weight_basis: WeightBasis = "actual"
    high_bmi_weight_basis: WeightBasis | None = None
    high_bmi_threshold_kg_m2: Decimal = _d("30")
    # Ideal body weight (Devine 1974): male 50 kg, female 45.5 kg, + 2.3 kg per inch over 60 in.
    ibw_male_base_kg: Decimal = _d("50")
    ibw_female_base_kg: Decimal = _d("45.5")
    ibw_kg_per_inch: Decimal = _d("2.3")
    ibw_base_height_inches: Decimal = _d("60")
    # Adjusted body weight: IBW + 0.4 × (actual − IBW) (standard formula).
    adjusted_weight_factor: Decimal = _d("0.4")
    # Frequency warning: more than 2 sessions a week continuing beyond 8 weeks (APA via [A5]).
    frequency_warning_sessions_per_week: int = 2
    frequency_warning_after_weeks: int = 8

    def __post_init__(self) -> None:
        for name in (
            "iv_dose_mg_per_kg",
            "iv_min_mg_per_kg",
            "iv_max_mg_per_kg",
            "im_dose_mg_per_kg",
            "im_min_mg_per_kg",
            "im_max_mg_per_kg",
            "high_bmi_threshold_kg_m2",
            "ibw_male_base_kg",
            "ibw_female_base_kg",
            "ibw_kg_per_inch",
            "ibw_base_height_inches",
        ):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
                raise ValueError(f"{name} must be a positive Decimal, not {value!r}.")
        for name in (
            "iv_infusion_minutes",
            "iv_min_infusion_minutes",
            "iv_max_infusion_minutes",
            "esketamine_minutes_between_devices",
            "esketamine_observation_minutes",
            "frequency_warning_sessions_per_week",
            "frequency_warning_after_weeks",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive whole number, not {value!r}.")
        for route in ("iv", "im"):
            low = getattr(self, f"{route}_min_mg_per_kg")
            default = getattr(self, f"{route}_dose_mg_per_kg")
            high = getattr(self, f"{route}_max_mg_per_kg")
            if not low <= default <= high:
                raise ValueError(
                    f"{route}_dose_mg_per_kg ({default}) must lie within "
                    f"{route}_min_mg_per_kg ({low}) and {route}_max_mg_per_kg ({high})."
                )
        if not (
            self.iv_min_infusion_minutes <= self.iv_infusion_minutes <= self.iv_max_infusion_minutes
        ):
            raise ValueError(
                "iv_infusion_minutes must lie within iv_min_infusion_minutes and "
                "iv_max_infusion_minutes."
            )
        doses = self.esketamine_doses_mg
        if (
            not isinstance(doses, tuple)
            or not doses
            or any(dose not in LABEL_ESKETAMINE_DOSES_MG for dose in doses)
            or list(doses) != sorted(set(doses))
        ):
            raise ValueError(
                "esketamine_doses_mg must be a non-empty, ascending choice of the label's doses "
                f"{LABEL_ESKETAMINE_DOSES_MG} [C2], not {doses!r}."
            )
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
        if self.default_weight_basis not in WEIGHT_BASES:
            raise ValueError(f"default_weight_basis must be one of {WEIGHT_BASES}.")
        if self.high_bmi_weight_basis is not None and self.high_bmi_weight_basis not in (
            "ideal",
            "adjusted",
        ):
            raise ValueError("high_bmi_weight_basis must be 'ideal', 'adjusted' or None.")
        factor = self.adjusted_weight_factor
        if not isinstance(factor, Decimal) or not (0 < factor < 1):
            raise ValueError("adjusted_weight_factor must be a Decimal between 0 and 1.")


DEFAULT_POLICY = DosingPolicy()


# --------------------------------------------------------------------------- results


def _number(value: Decimal) -> float:
    return float(value)


@dataclass(frozen=True)
class IvDose:
    """An IV infusion dose. `as_dict()` is the contract's response (calculators.md §4)."""

    weight_basis: WeightBasis
    actual_weight_kg: Decimal
    weight_used_kg: Decimal  # one decimal
    dose_mg_per_kg: Decimal
    dose_mg: Decimal  # one decimal
    infusion_minutes: int
    rate_mg_per_h: Decimal  # one decimal
    concentration_mg_per_ml: Decimal | None = None
    volume_ml: Decimal | None = None  # one decimal; only with a concentration
    rate_ml_per_h: Decimal | None = None  # one decimal; only with a concentration
    route: Literal["iv"] = "iv"

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "route": self.route,
            "weight_basis": self.weight_basis,
            "weight_used_kg": _number(self.weight_used_kg),
            "dose_mg": _number(self.dose_mg),
            "infusion_minutes": self.infusion_minutes,
            "rate_mg_per_h": _number(self.rate_mg_per_h),
        }
        if self.volume_ml is not None and self.rate_ml_per_h is not None:
            body["volume_ml"] = _number(self.volume_ml)
            body["rate_ml_per_h"] = _number(self.rate_ml_per_h)
        return body


@dataclass(frozen=True)
class ImDose:
    """An IM injection dose. `as_dict()`: route, weight_basis, weight_used_kg, dose_mg, and
    volume_ml only with a concentration (as for IV; the contract's "im: dose_mg, volume_ml")."""

    weight_basis: WeightBasis
    actual_weight_kg: Decimal
    weight_used_kg: Decimal
    dose_mg_per_kg: Decimal
    dose_mg: Decimal
    concentration_mg_per_ml: Decimal | None = None
    volume_ml: Decimal | None = None
    route: Literal["im"] = "im"

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "route": self.route,
            "weight_basis": self.weight_basis,
            "weight_used_kg": _number(self.weight_used_kg),
            "dose_mg": _number(self.dose_mg),
        }
        if self.volume_ml is not None:
            body["volume_ml"] = _number(self.volume_ml)
        return body


@dataclass(frozen=True)
class EsketamineDose:
    """An esketamine nasal-spray dose: devices, sprays, timing and observation [C2], [C9]."""

    dose_mg: int
    devices: int
    sprays: int
    minutes_between_devices: int
    administration_minutes: int  # (devices − 1) × minutes between devices
    observation_minutes: int
    route: Literal["esketamine"] = "esketamine"

    def as_dict(self) -> dict[str, Any]:
        return {
            "route": self.route,
            "dose_mg": self.dose_mg,
            "devices": self.devices,
            "sprays": self.sprays,
            "minutes_between_devices": self.minutes_between_devices,
            "administration_minutes": self.administration_minutes,
            "observation_minutes": self.observation_minutes,
        }


Dose = IvDose | ImDose | EsketamineDose


# --------------------------------------------------------------------------- inputs


def _positive(value: Any, field: str, unit: str) -> Decimal:
    """A finite number > 0 as a Decimal (floats through their shortest repr: 65.7 → 65.7)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise DosingError(f"{field} must be a number ({unit}).", field=field)
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation as error:  # pragma: no cover - str() of a number always parses
        raise DosingError(f"{field} must be a number ({unit}).", field=field) from error
    if not number.is_finite() or number <= 0:
        raise DosingError(f"{field} must be a number above 0 ({unit}).", field=field)
    return number


def _dose_per_kg(value: Any, route: str, policy: DosingPolicy) -> Decimal:
    if value is None:
        default: Decimal = getattr(policy, f"{route}_dose_mg_per_kg")
        return default
    dose = _positive(value, "dose_mg_per_kg", "mg/kg")
    low = getattr(policy, f"{route}_min_mg_per_kg")
    high = getattr(policy, f"{route}_max_mg_per_kg")
    if not low <= dose <= high:
        raise DosingError(
            f"dose_mg_per_kg must be between {low} and {high} mg/kg for route {route} "
            "(clinic policy).",
            field="dose_mg_per_kg",
        )
    return dose


def _sex(value: Any) -> str | None:
    if value is None:
        return None
    if value not in SEXES:
        raise DosingError(f"sex must be one of: {', '.join(SEXES)}.", field="sex")
    sex: str = value
    return sex


def ideal_body_weight_kg(
    height_cm: Decimal | float | int, sex: str, policy: DosingPolicy = DEFAULT_POLICY
) -> Decimal:
    """Devine ideal body weight, unrounded: base (male 50 kg, female 45.5 kg) + 2.3 kg per inch
    over 60 in. Refuses heights below 60 in (see the module docstring) and sexes other than male
    and female (the formula has no other base)."""
    height = _positive(height_cm, "height_cm", "cm")
    if sex == "male":
        base = policy.ibw_male_base_kg
    elif sex == "female":
        base = policy.ibw_female_base_kg
    else:
        raise DosingError(
            "Ideal body weight (Devine) needs sex male or female; dose on the actual weight "
            "otherwise.",
            field="sex",
        )
    inches = height / CM_PER_INCH
    if inches < policy.ibw_base_height_inches:
        limit_cm = policy.ibw_base_height_inches * CM_PER_INCH
        raise DosingError(
            f"Ideal body weight (Devine) is defined from {policy.ibw_base_height_inches} in "
            f"({limit_cm.normalize()} cm); height_cm {height.normalize()} is below it. "
            "Dose on the actual weight.",
            field="height_cm",
        )
    return base + policy.ibw_kg_per_inch * (inches - policy.ibw_base_height_inches)


def adjusted_body_weight_kg(
    actual_kg: Decimal, ideal_kg: Decimal, policy: DosingPolicy = DEFAULT_POLICY
) -> Decimal:
    """Adjusted body weight, unrounded: IBW + 0.4 × (actual − IBW)."""
    return ideal_kg + policy.adjusted_weight_factor * (actual_kg - ideal_kg)


def body_mass_index(weight_kg: Decimal, height_cm: Decimal) -> Decimal:
    """kg/m², unrounded."""
    metres = height_cm / 100
    return weight_kg / (metres * metres)


def _weight_used(
    actual: Decimal,
    weight_basis: Any,
    height_cm: Any,
    sex: str | None,
    policy: DosingPolicy,
) -> tuple[WeightBasis, Decimal]:
    height = None if height_cm is None else _positive(height_cm, "height_cm", "cm")
    if weight_basis is None:
        basis: str = policy.default_weight_basis
        if policy.high_bmi_weight_basis is not None:
            if height is None:
                raise DosingError(
                    f"height_cm is needed: clinic policy doses on {policy.high_bmi_weight_basis} "
                    f"body weight when BMI ≥ {policy.high_bmi_threshold_kg_m2} kg/m². "
                    "Or name a weight_basis.",
                    field="height_cm",
                )
            if body_mass_index(actual, height) >= policy.high_bmi_threshold_kg_m2:
                basis = policy.high_bmi_weight_basis
    elif weight_basis in WEIGHT_BASES:
        basis = weight_basis
    else:
        raise DosingError(
            f"weight_basis must be one of: {', '.join(WEIGHT_BASES)}.", field="weight_basis"
        )
    shown_actual = _shown(actual, "weight_kg")
    if basis == "actual":
        return "actual", shown_actual
    if height is None:
        raise DosingError(f"height_cm is needed for weight_basis {basis}.", field="height_cm")
    if sex is None:
        raise DosingError(f"sex is needed for weight_basis {basis}.", field="sex")
    ideal = ideal_body_weight_kg(height, sex, policy)
    weight = ideal if basis == "ideal" else adjusted_body_weight_kg(actual, ideal, policy)
    used = _shown(weight, "height_cm")
    if used > shown_actual:
        raise DosingError(
            f"The {basis} body weight ({used} kg) is above the actual weight "
            f"({shown_actual} kg); dose on the actual weight.",
            field="weight_basis",
        )
    return basis, used  # type: ignore[return-value]


def _concentration(value: Any) -> Decimal | None:
    if value is None:
        return None
    return _positive(value, "concentration_mg_per_ml", "mg/mL")


# --------------------------------------------------------------------------- calculators


def iv_dose(
    weight_kg: Decimal | float | int,
    dose_mg_per_kg: Decimal | float | int | None = None,
    weight_basis: str | None = None,
    height_cm: Decimal | float | int | None = None,
    sex: str | None = None,
    concentration_mg_per_ml: Decimal | float | int | None = None,
    infusion_minutes: int | None = None,
    policy: DosingPolicy = DEFAULT_POLICY,
) -> IvDose:
    """IV racemic ketamine: mg/kg × weight over an infusion (default 0.5 mg/kg / 40 min)."""
    actual = _positive(weight_kg, "weight_kg", "kg")
    per_kg = _dose_per_kg(dose_mg_per_kg, "iv", policy)
    sex = _sex(sex)
    if infusion_minutes is None:
        minutes = policy.iv_infusion_minutes
    elif isinstance(infusion_minutes, bool) or not isinstance(infusion_minutes, int):
        raise DosingError("infusion_minutes must be a whole number.", field="infusion_minutes")
    elif not (policy.iv_min_infusion_minutes <= infusion_minutes <= policy.iv_max_infusion_minutes):
        raise DosingError(
            f"infusion_minutes must be between {policy.iv_min_infusion_minutes} and "
            f"{policy.iv_max_infusion_minutes} minutes (clinic policy).",
            field="infusion_minutes",
        )
    else:
        minutes = infusion_minutes
    concentration = _concentration(concentration_mg_per_ml)
    basis, used = _weight_used(actual, weight_basis, height_cm, sex, policy)
    dose = _shown(used * per_kg, "weight_kg")
    rate = _shown(dose * MINUTES_PER_HOUR / minutes, "weight_kg")
    volume = rate_ml = None
    if concentration is not None:
        volume = _shown(dose / concentration, "concentration_mg_per_ml")
        rate_ml = _shown(volume * MINUTES_PER_HOUR / minutes, "concentration_mg_per_ml")
    return IvDose(
        weight_basis=basis,
        actual_weight_kg=actual,
        weight_used_kg=used,
        dose_mg_per_kg=per_kg,
        dose_mg=dose,
        infusion_minutes=minutes,
        rate_mg_per_h=rate,
        concentration_mg_per_ml=concentration,
        volume_ml=volume,
        rate_ml_per_h=rate_ml,
    )


def im_dose(
    weight_kg: Decimal | float | int,
    dose_mg_per_kg: Decimal | float | int | None = None,
    weight_basis: str | None = None,
    height_cm: Decimal | float | int | None = None,
    sex: str | None = None,
    concentration_mg_per_ml: Decimal | float | int | None = None,
    policy: DosingPolicy = DEFAULT_POLICY,
) -> ImDose:
    """IM racemic ketamine: mg/kg × weight (default 0.5 mg/kg [B1])."""
    actual = _positive(weight_kg, "weight_kg", "kg")
    per_kg = _dose_per_kg(dose_mg_per_kg, "im", policy)
    sex = _sex(sex)
    concentration = _concentration(concentration_mg_per_ml)
    basis, used = _weight_used(actual, weight_basis, height_cm, sex, policy)
    dose = _shown(used * per_kg, "weight_kg")
    volume = (
        None if concentration is None else _shown(dose / concentration, "concentration_mg_per_ml")
    )
    return ImDose(
        weight_basis=basis,
        actual_weight_kg=actual,
        weight_used_kg=used,
        dose_mg_per_kg=per_kg,
        dose_mg=dose,
        concentration_mg_per_ml=concentration,
        volume_ml=volume,
    )


def esketamine_dose(dose_mg: int, policy: DosingPolicy = DEFAULT_POLICY) -> EsketamineDose:
    """Esketamine: 28 mg per device, 2 sprays per device, a wait between devices [C1], [C2]."""
    allowed = policy.esketamine_doses_mg
    if isinstance(dose_mg, bool) or not isinstance(dose_mg, int) or dose_mg not in allowed:
        listed = ", ".join(str(dose) for dose in allowed)
        raise DosingError(
            f"dose_mg must be one of {listed} mg (28 mg devices, label [C2]; clinic policy).",
            field="dose_mg",
        )
    devices = dose_mg // ESKETAMINE_MG_PER_DEVICE
    return EsketamineDose(
        dose_mg=dose_mg,
        devices=devices,
        sprays=devices * ESKETAMINE_SPRAYS_PER_DEVICE,
        minutes_between_devices=policy.esketamine_minutes_between_devices,
        administration_minutes=(devices - 1) * policy.esketamine_minutes_between_devices,
        observation_minutes=policy.esketamine_observation_minutes,
    )


# The request fields each route takes (calculators.md §4); any other given field is refused,
# so that a value meant for another route is never silently ignored.
ROUTE_FIELDS: dict[str, tuple[str, ...]] = {
    "iv": (
        "weight_kg",
        "dose_mg_per_kg",
        "weight_basis",
        "height_cm",
        "sex",
        "concentration_mg_per_ml",
        "infusion_minutes",
    ),
    "im": (
        "weight_kg",
        "dose_mg_per_kg",
        "weight_basis",
        "height_cm",
        "sex",
        "concentration_mg_per_ml",
    ),
    "esketamine": ("dose_mg",),
}
REQUEST_FIELDS: tuple[str, ...] = (
    "weight_kg",
    "dose_mg_per_kg",
    "weight_basis",
    "height_cm",
    "sex",
    "concentration_mg_per_ml",
    "infusion_minutes",
    "dose_mg",
)


def calculate_dose(route: str, *, policy: DosingPolicy = DEFAULT_POLICY, **inputs: Any) -> Dose:
    """The contract's request as keywords (None = not given) → the route's dose."""
    if route not in ROUTES:
        raise DosingError(f"route must be one of: {', '.join(ROUTES)}.", field="route")
    for name, value in inputs.items():
        if name not in REQUEST_FIELDS:
            raise DosingError("Unknown field.", field=name)
        if value is not None and name not in ROUTE_FIELDS[route]:
            raise DosingError(f"{name} does not apply to route {route}.", field=name)
    if route == "esketamine":
        if inputs.get("dose_mg") is None:
            raise DosingError("dose_mg is required for route esketamine.", field="dose_mg")
        return esketamine_dose(inputs["dose_mg"], policy)
    if inputs.get("weight_kg") is None:
        raise DosingError(f"weight_kg is required for route {route}.", field="weight_kg")
    weighed = {
        "dose_mg_per_kg": inputs.get("dose_mg_per_kg"),
        "weight_basis": inputs.get("weight_basis"),
        "height_cm": inputs.get("height_cm"),
        "sex": inputs.get("sex"),
        "concentration_mg_per_ml": inputs.get("concentration_mg_per_ml"),
    }
    if route == "iv":
        return iv_dose(
            inputs["weight_kg"],
            infusion_minutes=inputs.get("infusion_minutes"),
            policy=policy,
            **weighed,
        )
    return im_dose(inputs["weight_kg"], policy=policy, **weighed)


# --------------------------------------------------------------------------- a planned session


@dataclass(frozen=True)
class PlannedDose:
    """A planned session's dose as a plan stores it and the chair gives it: mg with the figures
    it came from (IV/IM), or the esketamine devices. None where the route has no such figure."""

    dose_mg: Decimal | None
    dose_mg_per_kg: Decimal | None = None
    weight_used_kg: Decimal | None = None
    infusion_minutes: int | None = None
    devices: int | None = None


def planned_dose(
    route: str,
    *,
    weight_kg: Decimal | None = None,
    height_cm: Decimal | None = None,
    sex: str | None = None,
    dose_mg_per_kg: Decimal | float | int | None = None,
    weight_basis: str | None = None,
    infusion_minutes: int | None = None,
    dose_mg: Decimal | float | int | None = None,
    policy: DosingPolicy = DEFAULT_POLICY,
) -> PlannedDose:
    """One planned session's dose, through `calculate_dose`: IV and IM mg/kg × the weight basis
    of the patient's latest weight, esketamine a device dose, sublingual the prescriber's fixed
    mg (no calculator: the protocol sets it). Only the values the route takes are used, so a
    plan's values can be passed whole; `sex` is the patient's as recorded (only female and male
    have a Devine base, any other doses as not given). Raises DosingError; a missing weight is
    the caller's to word first (the plan and the chair ask for it differently)."""
    if route == "sublingual":
        return PlannedDose(dose_mg=None if dose_mg is None else Decimal(str(dose_mg)))
    if route == "esketamine":
        # No dose planned is refused as a dose outside the label's choices (28, 56, 84 mg).
        device_dose = calculate_dose(
            route, dose_mg=0 if dose_mg is None else int(dose_mg), policy=policy
        )
        assert isinstance(device_dose, EsketamineDose)
        return PlannedDose(dose_mg=Decimal(device_dose.dose_mg), devices=device_dose.devices)
    weighed = calculate_dose(
        route,
        weight_kg=weight_kg,
        dose_mg_per_kg=dose_mg_per_kg,
        weight_basis=weight_basis,
        height_cm=height_cm,
        sex=sex if sex in ("female", "male") else None,
        infusion_minutes=infusion_minutes if route == "iv" else None,
        policy=policy,
    )
    assert not isinstance(weighed, EsketamineDose)
    return PlannedDose(
        dose_mg=weighed.dose_mg,
        dose_mg_per_kg=weighed.dose_mg_per_kg,
        weight_used_kg=weighed.weight_used_kg,
        infusion_minutes=weighed.infusion_minutes if isinstance(weighed, IvDose) else None,
    )
