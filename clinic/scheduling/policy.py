"""The clinic's scheduling policy: how long a chair is held for each route, fasting and escort
instructions for reminders, and which equipment a chair needs.

Read from `settings.CLINIC_POLICY["scheduling"]` (a dict with any of the keys of
SchedulingPolicy); anything not set keeps the default below. Defaults and sources come from
docs/clinical/policy-defaults.md ("Preparation and discharge") and clinical-reference.md
§5.5; the source keys ([E11], [C9], ...) are those of clinical-reference.md. Label values
(esketamine) cannot be set below the label.

An appointment holds its chair, and one of the nurse's concurrent places, for
    preparation + administration + minimum observation
where administration is the IV infusion (the planned session's infusion minutes, else
`iv_infusion_min`), nothing for an IM injection, and the waits between esketamine devices.

Preparation (check-in, pre-dose vitals, IV placement) has NO published number: it defaults
to 0 minutes for every route, and each clinic must set its own in
`CLINIC_POLICY["scheduling"]["preparation_min"]`, e.g. {"iv": 20, "im": 10, "esketamine": 10}.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from clinic.scheduling.choices import IN_CLINIC_ROUTES, ChairCapability
from clinic.screening.choices import Route

# Label facts, not policy: 28 mg of esketamine per nasal device [C1], [C2].
ESKETAMINE_MG_PER_DEVICE = 28
# The largest label dose is 84 mg, 3 devices [C2]; used when a session names no dose.
ESKETAMINE_MAX_DEVICES = 3

# Label floors: a clinic may be stricter, never laxer.
_LABEL_FLOORS = {
    "esketamine_observation_min": 120,  # ≥ 2 h observation after the dose [C9], [C10]
    "esketamine_device_spacing_min": 5,  # wait 5 min after each device [C2]
    "nasal_medication_min_before": 60,  # nasal steroid/decongestant ≥ 1 h before [C3]
}
# Fasting floors for esketamine: no food ≥ 2 h, no liquids ≥ 30 min before [C3].
_ESKETAMINE_FASTING_FLOORS = {"fasting_solids_min": 120, "fasting_liquids_min": 30}
# IV/IM solids: 4 h by default; "clinic may choose 4–8 h" (policy-defaults.md, [E12]).
_IV_IM_SOLIDS_RANGE_MIN = (240, 480)


def _per_route(**values):
    return field(default_factory=lambda: dict(values))


@dataclass(frozen=True)
class SchedulingPolicy:
    # No number in the references: the clinic sets its own (see the module docstring).
    preparation_min: dict[str, int] = _per_route(iv=0, im=0, esketamine=0)
    # IV dose 0.5 mg/kg over 40 min [A1], [A2] (policy-defaults.md, "Dosing"); a planned
    # session's own infusion minutes win.
    iv_infusion_min: int = 40
    # Minimum observation, IV: 30 min after the infusion ends, clinic practice [E11].
    iv_observation_min: int = 30
    # Minimum observation, IM: 60 min after the injection, clinic policy (no published standard).
    im_observation_min: int = 60
    # Minimum observation, esketamine: 120 min after the dose, label/REMS [C9], [C10].
    esketamine_observation_min: int = 120
    # Minutes between esketamine devices: 5, label [C2].
    esketamine_device_spacing_min: int = 5
    # Fasting before IV/IM: no solid food 4 h, clear liquids until 2 h (ASA [E12]); before
    # esketamine: no food 2 h, no liquids 30 min [C3].
    fasting_solids_min: dict[str, int] = _per_route(iv=240, im=240, esketamine=120)
    fasting_liquids_min: dict[str, int] = _per_route(iv=120, im=120, esketamine=30)
    # Esketamine: a nasal corticosteroid or decongestant at least 1 h before [C3].
    nasal_medication_min_before: int = 60
    # Escort home required for every in-clinic session; no driving until the next day
    # [C3], [E11].
    escort_required: bool = True
    # Equipment a chair must have for each route. IV: an infusion pump and a cardiac monitor
    # (vitals every 10 min during the infusion, [E6]); esketamine: a pulse oximeter
    # (continuous pulse oximetry, [C2], [C10], [C16]); IM: none required by default.
    required_capabilities: dict[str, tuple[str, ...]] = field(
        default_factory=lambda: {
            Route.IV.value: (ChairCapability.IV_PUMP.value, ChairCapability.CARDIAC_MONITOR.value),
            Route.IM.value: (),
            Route.ESKETAMINE.value: (ChairCapability.PULSE_OXIMETER.value,),
        }
    )
    # How many patients (each in their own chair, on their own clock) one nurse may look after
    # at any instant: 4, the clinic's own workflow ("a nurse runs up to four chairs at once",
    # issue 6). Clinic policy, not a published standard.
    nurse_max_concurrent_chairs: int = 4
    # Operational, not clinical: when reminders go out, the grid of proposed start times, how
    # far past a closed planned date a proposal may move, and what patients bring.
    reminder_hours_before: tuple[int, ...] = (48, 24)
    slot_step_min: int = 15
    proposal_search_days: int = 14
    what_to_bring: tuple[str, ...] = (
        "a photo ID and your insurance card",
        "a list of the medicines you take, with doses",
        "comfortable clothes; headphones or an eye mask if you like",
    )

    # ------------------------------------------------------------------ derived values

    def preparation_for(self, route: str) -> int:
        return int(self.preparation_min.get(route, 0))

    def esketamine_devices(self, dose_mg) -> int:
        if not dose_mg:
            return ESKETAMINE_MAX_DEVICES
        return max(1, math.ceil(Decimal(str(dose_mg)) / ESKETAMINE_MG_PER_DEVICE))

    def administration_min(self, route: str, *, infusion_min=None, esketamine_dose_mg=None) -> int:
        if route == Route.IV:
            return int(infusion_min or self.iv_infusion_min)
        if route == Route.ESKETAMINE:
            devices = self.esketamine_devices(esketamine_dose_mg)
            return (devices - 1) * self.esketamine_device_spacing_min
        return 0

    def observation_min(self, route: str) -> int:
        return {
            Route.IV: self.iv_observation_min,
            Route.IM: self.im_observation_min,
            Route.ESKETAMINE: self.esketamine_observation_min,
        }[Route(route)]

    def appointment_min(self, route: str, *, infusion_min=None, esketamine_dose_mg=None) -> int:
        """How long the chair and nurse are held: preparation + administration + observation."""
        return (
            self.preparation_for(route)
            + self.administration_min(
                route, infusion_min=infusion_min, esketamine_dose_mg=esketamine_dose_mg
            )
            + self.observation_min(route)
        )

    def capabilities_for(self, route: str) -> tuple[str, ...]:
        return tuple(self.required_capabilities.get(route, ()))


def _problem(key: str, message: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"CLINIC_POLICY['scheduling'][{key!r}] {message}")


def _whole(key: str, value, *, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise _problem(key, f"must be a whole number ≥ {low}; got {value!r}.")
    return value


def scheduling_policy() -> SchedulingPolicy:
    """The SchedulingPolicy for this clinic: settings over defaults, checked."""
    chosen = dict((getattr(settings, "CLINIC_POLICY", None) or {}).get("scheduling") or {})
    known = {f.name for f in fields(SchedulingPolicy)}
    unknown = set(chosen) - known
    if unknown:
        raise ImproperlyConfigured(
            f"CLINIC_POLICY['scheduling'] has unknown keys: {sorted(unknown)}."
        )
    defaults = SchedulingPolicy()
    for key in ("preparation_min", "fasting_solids_min", "fasting_liquids_min"):
        if key in chosen:
            merged = dict(getattr(defaults, key))
            for route, minutes in dict(chosen[key]).items():
                if route not in IN_CLINIC_ROUTES:
                    raise _problem(key, f"names an unknown route {route!r}.")
                merged[route] = _whole(f"{key}.{route}", minutes)
            chosen[key] = merged
    if "required_capabilities" in chosen:
        merged = dict(defaults.required_capabilities)
        for route, capabilities in dict(chosen["required_capabilities"]).items():
            unknown_caps = set(capabilities) - set(ChairCapability.values)
            if route not in IN_CLINIC_ROUTES or unknown_caps:
                raise _problem(
                    "required_capabilities", f"has an unknown route or equipment: {route!r}."
                )
            merged[route] = tuple(capabilities)
        chosen["required_capabilities"] = merged
    for key in (
        "iv_infusion_min",
        "iv_observation_min",
        "im_observation_min",
        "esketamine_observation_min",
        "esketamine_device_spacing_min",
        "nasal_medication_min_before",
        "slot_step_min",
        "proposal_search_days",
        "nurse_max_concurrent_chairs",
    ):
        if key in chosen:
            _whole(key, chosen[key], low=1)
    for key, floor in _LABEL_FLOORS.items():
        if key in chosen and chosen[key] < floor:
            raise _problem(key, f"cannot be below the label's {floor} minutes.")
    for key, floor in _ESKETAMINE_FASTING_FLOORS.items():
        if key in chosen and chosen[key][Route.ESKETAMINE] < floor:
            raise _problem(key, f"cannot be below the label's {floor} minutes for esketamine.")
    if "fasting_solids_min" in chosen:
        low, high = _IV_IM_SOLIDS_RANGE_MIN
        for route in (Route.IV, Route.IM):
            if not low <= chosen["fasting_solids_min"][route] <= high:
                raise _problem("fasting_solids_min", f"for {route} must be {low}–{high} minutes.")
    if "reminder_hours_before" in chosen:
        hours = tuple(
            sorted(
                {
                    _whole("reminder_hours_before", h, low=1)
                    for h in chosen["reminder_hours_before"]
                },
                reverse=True,
            )
        )
        chosen["reminder_hours_before"] = hours
    if "what_to_bring" in chosen:
        chosen["what_to_bring"] = tuple(str(item) for item in chosen["what_to_bring"])
    return SchedulingPolicy(**chosen)
