"""The session coding rules, table-driven from docs/clinical/billing.md §2, §7 and the
contract in docs/clinical/calculators.md §6. Expected lines are read from those tables, never
from the code: the infusion-time boundaries 15/16, 90/91, 150/151 minutes [P16]; G2082 vs
G2083 at 56/84 mg [P3]-[P5]; S0013 vs J0013 around 2026-01-01 [P6]-[P8]; pharmacy-supplied
drug; modifier 25 [P15]. No Django: the module is pure."""

from __future__ import annotations

import datetime

import pytest

from clinic.billing.session_codes import CodingError, SessionFacts, session_codes

DOS = datetime.date(2026, 3, 2)


def lines(**facts) -> list[tuple[str, int, tuple[str, ...]]]:
    coding = session_codes(SessionFacts(**{"date_of_service": DOS, **facts}))
    return [(line.code, line.units, line.modifiers) for line in coding.lines]


def iv(minutes: int, **facts):
    return lines(route="iv", payer="commercial", infusion_minutes=minutes, **facts)


# --------------------------------------------------------------------------- IV time [P16]


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (1, [("96374", 1, ())]),
        (15, [("96374", 1, ())]),  # 15 minutes or less is a push
        (16, [("96365", 1, ())]),  # more than 15: an infusion
        (40, [("96365", 1, ())]),  # the usual 0.5 mg/kg over 40 min
        (90, [("96365", 1, ())]),  # 61-90 min: still the first hour only
        (91, [("96365", 1, ()), ("96366", 1, ())]),  # > 30 min beyond the first hour
        (150, [("96365", 1, ()), ("96366", 1, ())]),
        (151, [("96365", 1, ()), ("96366", 2, ())]),
        (210, [("96365", 1, ()), ("96366", 2, ())]),
        (211, [("96365", 1, ()), ("96366", 3, ())]),
    ],
)
def test_infusion_minutes_decide_push_infusion_and_added_hours(minutes, expected):
    assert iv(minutes, drug_supplied_by="pharmacy") == expected


def test_clinic_bought_ketamine_is_j3490_with_its_ndc_never_j3000():
    coding = session_codes(
        SessionFacts(
            route="iv",
            payer="commercial",
            date_of_service=DOS,
            infusion_minutes=40,
            ketamine_ndc="12345678901",
        )
    )
    assert [line.as_dict() for line in coding.lines] == [
        {"code": "96365", "units": 1, "modifiers": []},
        {"code": "J3490", "units": 1, "modifiers": [], "ndc": "12345678901"},
    ]
    assert coding.warnings == ()


def test_im_is_a_therapeutic_injection_plus_the_drug():
    assert lines(route="im", payer="self_pay") == [("96372", 1, ()), ("J3490", 1, ())]
    assert lines(route="im", payer="self_pay", drug_supplied_by="pharmacy") == [("96372", 1, ())]


@pytest.mark.parametrize("route", ["iv", "im"])
@pytest.mark.parametrize("payer", ["medicare", "commercial", "self_pay"])
@pytest.mark.parametrize("minutes", [10, 40, 100])
def test_j3000_streptomycin_is_never_produced(route, payer, minutes):
    facts = {"infusion_minutes": minutes} if route == "iv" else {}
    assert "J3000" not in [code for code, _, _ in lines(route=route, payer=payer, **facts)]


# --------------------------------------------------------------------------- esketamine


@pytest.mark.parametrize(("mg", "code"), [(28, "G2082"), (56, "G2082"), (84, "G2083")])
def test_medicare_esketamine_is_one_g_code_with_kx_and_no_drug_line(mg, code):
    assert lines(route="esketamine", payer="medicare", esketamine_mg=mg) == [(code, 1, ("KX",))]


def test_medicare_g_codes_are_for_established_patients_only():
    with pytest.raises(CodingError) as refused:
        lines(route="esketamine", payer="medicare", esketamine_mg=56, established_patient=False)
    assert refused.value.field == "established_patient"


def test_medicare_g_codes_bundle_the_visit_so_an_e_m_is_refused():
    with pytest.raises(CodingError) as refused:
        lines(route="esketamine", payer="medicare", esketamine_mg=84, visit_codes=("99213",))
    assert refused.value.field == "visit_codes"


@pytest.mark.parametrize(
    ("date_of_service", "code"),
    [
        (datetime.date(2025, 12, 31), "S0013"),  # last day of S0013
        (datetime.date(2026, 1, 1), "J0013"),  # first day of J0013
        (datetime.date(2026, 3, 2), "J0013"),
    ],
)
@pytest.mark.parametrize("payer", ["commercial", "self_pay"])
@pytest.mark.parametrize("mg", [56, 84])
def test_other_payers_bill_the_drug_per_mg(date_of_service, code, payer, mg):
    assert lines(
        route="esketamine", payer=payer, esketamine_mg=mg, date_of_service=date_of_service
    ) == [(code, mg, ())]


def test_pharmacy_supplied_esketamine_has_no_drug_line():
    assert (
        lines(route="esketamine", payer="commercial", esketamine_mg=56, drug_supplied_by="pharmacy")
        == []
    )
    coding = session_codes(
        SessionFacts(
            route="esketamine",
            payer="medicare",
            date_of_service=DOS,
            esketamine_mg=56,
            drug_supplied_by="pharmacy",
        )
    )
    # The G-code stands (the drug is inside it); the unconfirmed supply rule is a warning.
    assert coding.codes() == ["G2082"]
    assert len(coding.warnings) == 1 and "supplied" in coding.warnings[0]


# --------------------------------------------------------------------------- visit codes [P15]


def test_an_e_m_beside_a_procedure_carries_modifier_25():
    assert iv(40, visit_codes=("99214",)) == [
        ("96365", 1, ()),
        ("J3490", 1, ()),
        ("99214", 1, ("25",)),
    ]
    assert lines(route="im", payer="commercial", visit_codes=("99213",))[-1] == (
        "99213",
        1,
        ("25",),
    )
    # A push is a procedure too.
    assert iv(10, visit_codes=("99212",))[-1] == ("99212", 1, ("25",))


def test_an_e_m_without_a_procedure_carries_no_modifier():
    assert lines(
        route="esketamine", payer="commercial", esketamine_mg=56, visit_codes=("99214",)
    ) == [("J0013", 56, ()), ("99214", 1, ())]


def test_psychotherapy_and_evaluation_codes_are_lines_without_modifier_25():
    assert iv(40, drug_supplied_by="pharmacy", visit_codes=("99214", "90833")) == [
        ("96365", 1, ()),
        ("99214", 1, ("25",)),
        ("90833", 1, ()),
    ]
    assert iv(40, drug_supplied_by="pharmacy", visit_codes=("90792",))[-1] == ("90792", 1, ())


def test_a_psychotherapy_add_on_without_an_e_m_is_warned_about():
    coding = session_codes(
        SessionFacts(
            route="iv",
            payer="commercial",
            date_of_service=DOS,
            infusion_minutes=40,
            visit_codes=("90836",),
        )
    )
    assert coding.codes()[-1] == "90836"
    assert coding.warnings == (
        "Psychotherapy add-on 90836 is billed with a primary E/M code, and none was chosen [P17].",
    )


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("facts", "field"),
    [
        ({"route": "iv", "payer": "commercial"}, "infusion_minutes"),
        ({"route": "iv", "payer": "commercial", "infusion_minutes": 0}, "infusion_minutes"),
        ({"route": "iv", "payer": "commercial", "infusion_minutes": -5}, "infusion_minutes"),
        ({"route": "iv", "payer": "commercial", "infusion_minutes": 1441}, "infusion_minutes"),
        ({"route": "im", "payer": "commercial", "infusion_minutes": 40}, "infusion_minutes"),
        ({"route": "esketamine", "payer": "commercial"}, "esketamine_mg"),
        ({"route": "esketamine", "payer": "commercial", "esketamine_mg": 42}, "esketamine_mg"),
        ({"route": "esketamine", "payer": "medicare", "esketamine_mg": 112}, "esketamine_mg"),
        (
            {"route": "iv", "payer": "commercial", "infusion_minutes": 40, "esketamine_mg": 56},
            "esketamine_mg",
        ),
        (
            {"route": "iv", "payer": "commercial", "infusion_minutes": 40, "ketamine_ndc": "123"},
            "ketamine_ndc",
        ),
        (
            {
                "route": "esketamine",
                "payer": "commercial",
                "esketamine_mg": 56,
                "ketamine_ndc": "12345678901",
            },
            "ketamine_ndc",
        ),
        ({"route": "im", "payer": "commercial", "visit_codes": ("99999",)}, "visit_codes"),
        ({"route": "im", "payer": "commercial", "visit_codes": ("J3000",)}, "visit_codes"),
        ({"route": "im", "payer": "commercial", "visit_codes": ("99354",)}, "visit_codes"),
        ({"route": "im", "payer": "commercial", "visit_codes": ("99213", "99213")}, "visit_codes"),
        ({"route": "im", "payer": "commercial", "visit_codes": ("99213", "99214")}, "visit_codes"),
        ({"route": "im", "payer": "commercial", "visit_codes": ("90834", "90837")}, "visit_codes"),
        ({"route": "sublingual", "payer": "commercial"}, "route"),
        ({"route": "im", "payer": "medicaid"}, "payer"),
        ({"route": "im", "payer": "commercial", "drug_supplied_by": "patient"}, "drug_supplied_by"),
    ],
)
def test_what_cannot_be_coded_is_refused_naming_the_field(facts, field):
    with pytest.raises(CodingError) as refused:
        lines(**facts)
    assert refused.value.field == field
