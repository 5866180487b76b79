"""One planned session's dose (clinic/protocols/dosing.py `planned_dose`): what a plan stores for
each session and what the chair gives on the day, through the calculator's dispatcher.

Sources as in test_dosing.py: IV 0.5 mg/kg over 40 min, IM 0.5 mg/kg (policy-defaults.md
"Dosing", [A1], [A2], [B1]); Devine IBW female 45.5 kg + 2.3 kg per inch over 60 in; esketamine
28 mg per device [C1], [C2]. Every expected value is worked by hand in its comment.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from clinic.protocols.dosing import DosingError, PlannedDose, planned_dose

D = Decimal


@pytest.mark.parametrize(
    ("route", "values", "expected"),
    [
        # 80 kg × 0.5 mg/kg (the default) = 40.0 mg over the default 40 min.
        ("iv", {}, PlannedDose(D("40.0"), D("0.5"), D("80.0"), 40)),
        # 80 kg × 0.75 mg/kg = 60.0 mg over the planned 50 min.
        (
            "iv",
            {"dose_mg_per_kg": D("0.75"), "infusion_minutes": 50},
            PlannedDose(D("60.0"), D("0.75"), D("80.0"), 50),
        ),
        # IM: no infusion time, even when the plan carries one.
        ("im", {"infusion_minutes": 50}, PlannedDose(D("40.0"), D("0.5"), D("80.0"))),
        # Ideal weight, female, 170 cm: 61.4 kg × 0.5 = 30.7 mg.
        (
            "iv",
            {"weight_basis": "ideal", "sex": "female"},
            PlannedDose(D("30.7"), D("0.5"), D("61.4"), 40),
        ),
        # 56 mg = 2 devices of 28 mg; the weight and mg/kg of the plan are not used.
        (
            "esketamine",
            {"dose_mg": D("56.0"), "dose_mg_per_kg": D("0.5")},
            PlannedDose(D("56"), devices=2),
        ),
        # Sublingual: the prescriber's fixed mg, as given.
        ("sublingual", {"dose_mg": 300}, PlannedDose(D("300"))),
        ("sublingual", {}, PlannedDose(None)),
    ],
)
def test_a_planned_session_dose(route, values, expected):
    weighed = {"weight_kg": D("80"), "height_cm": D("170"), **values}
    assert planned_dose(route, **weighed) == expected


def test_only_female_and_male_have_an_ideal_weight():
    with pytest.raises(DosingError) as caught:
        planned_dose("iv", weight_kg=D("80"), height_cm=D("170"), sex="other", weight_basis="ideal")
    assert caught.value.field == "sex"


def test_an_esketamine_session_without_a_dose_is_refused_with_the_labels_doses():
    with pytest.raises(DosingError) as caught:
        planned_dose("esketamine")
    assert (caught.value.field, caught.value.message) == (
        "dose_mg",
        "dose_mg must be one of 28, 56, 84 mg (28 mg devices, label [C2]; clinic policy).",
    )
