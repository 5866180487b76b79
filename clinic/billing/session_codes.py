"""The charge lines a treatment session earns: pure rules, no Django.

The same rules serve the stateless calculator (`POST /api/v1/billing/session-codes`, contract
docs/clinical/calculators.md §6) and, later, the charges derived from a signed session.
Source keys `[Pn]` are resolved in docs/clinical/billing.md §10; "CR §9.1" is
clinical-reference.md. CPT descriptors are © AMA: this module knows codes, never descriptors.

The defaults are national rules and the most common payer practice. A payer that wants
something else (another MAC's modifiers, 99415/99416 for monitoring) is clinic configuration
layered on top of these lines, not a change to them.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Literal

Route = Literal["iv", "im", "esketamine"]
Payer = Literal["medicare", "commercial", "self_pay"]
DrugSupplier = Literal["clinic", "pharmacy"]

ROUTES: tuple[Route, ...] = ("iv", "im", "esketamine")
PAYERS: tuple[Payer, ...] = ("medicare", "commercial", "self_pay")
DRUG_SUPPLIERS: tuple[DrugSupplier, ...] = ("clinic", "pharmacy")

# Infusion time [P16]: up to 15 minutes is a push (96374); 16 minutes or more is an infusion
# (96365, first hour); each further hour (+96366) counts only once more than 30 minutes of it
# have run, so the first add-on starts at 91 minutes.
PUSH_MAX_MINUTES = 15
FIRST_HOUR_MINUTES = 60
ADD_ON_THRESHOLD_MINUTES = 30
# A session's infusion cannot outlast the day it is charted on: longer is an entry error.
INFUSION_MAX_MINUTES = 24 * 60

IV_PUSH = "96374"
IV_INFUSION_FIRST_HOUR = "96365"
IV_INFUSION_ADDED_HOUR = "96366"
IM_INJECTION = "96372"
# Racemic ketamine has no HCPCS code of its own: the unclassified-drug code with the NDC
# [P18]. J3000 is streptomycin [P21] and is never produced.
UNCLASSIFIED_DRUG = "J3490"
PROCEDURE_CODES = frozenset({IV_PUSH, IV_INFUSION_FIRST_HOUR, IM_INJECTION})

# Esketamine: Medicare's supervised self-administration visit, established patients only,
# drug included: up to 56 mg / more than 56 mg [P3]-[P5]; KX attests REMS enrolment [P2].
ESKETAMINE_MEDICARE_UP_TO_56_MG = "G2082"
ESKETAMINE_MEDICARE_OVER_56_MG = "G2083"
ESKETAMINE_MEDICARE_CUTOFF_MG = 56
REMS_ATTESTATION_MODIFIER = "KX"
# Other payers: the drug per 1 mg; S0013 ended 2025-12-31, J0013 from 2026-01-01 [P6]-[P8].
ESKETAMINE_PER_MG_UNTIL_2025 = "S0013"
ESKETAMINE_PER_MG_FROM_2026 = "J0013"
J0013_EFFECTIVE = datetime.date(2026, 1, 1)
ESKETAMINE_DOSES_MG = (28, 56, 84)  # one to three 28 mg devices (CR §3)

# A separately identifiable E/M on the day of a procedure carries modifier 25 [P15].
SEPARATE_E_M_MODIFIER = "25"

# The visit codes a clinician may add (contract §6): office E/M, new (99202-99205) and
# established (99211-99215); psychiatric diagnostic evaluation; psychotherapy, standalone and
# as an add-on to an E/M [P15], [P17].
E_M_CODES = frozenset(
    {"99202", "99203", "99204", "99205", "99211", "99212", "99213", "99214", "99215"}
)
DIAGNOSTIC_EVALUATION_CODES = frozenset({"90791", "90792"})
PSYCHOTHERAPY_CODES = frozenset({"90832", "90834", "90837"})
PSYCHOTHERAPY_ADD_ON_CODES = frozenset({"90833", "90836", "90838"})
VISIT_CODES = (
    E_M_CODES | DIAGNOSTIC_EVALUATION_CODES | PSYCHOTHERAPY_CODES | PSYCHOTHERAPY_ADD_ON_CODES
)

# Psychotherapy is coded from the minutes of psychotherapy documented, never from the whole
# visit [P17]: 16-37 -> 30-minute code, 38-52 -> 45-minute code, 53 or more -> 60-minute code;
# under 16 minutes is not reportable as psychotherapy. With an E/M the add-on codes are used.
PSYCHOTHERAPY_MIN_MINUTES = 16
PSYCHOTHERAPY_BANDS: tuple[tuple[int, str, str], ...] = (
    # (from minute, standalone code, add-on code with an E/M)
    (53, "90837", "90838"),
    (38, "90834", "90836"),
    (16, "90832", "90833"),
)
# Documented psychotherapy in one session longer than this is an entry error, not a band.
PSYCHOTHERAPY_MAX_MINUTES = 8 * 60


def psychotherapy_code(minutes: int, *, with_e_m: bool) -> str:
    """The psychotherapy code for the documented minutes: 90832/90834/90837 alone, or the add-on
    +90833/+90836/+90838 beside an E/M [P17]. Raises CodingError under 16 minutes."""
    if minutes < PSYCHOTHERAPY_MIN_MINUTES:
        raise CodingError(
            "minutes",
            "Under 16 minutes of psychotherapy is not reportable as psychotherapy [P17].",
        )
    if minutes > PSYCHOTHERAPY_MAX_MINUTES:
        raise CodingError("minutes", f"At most {PSYCHOTHERAPY_MAX_MINUTES} minutes.")
    for start, standalone, add_on in PSYCHOTHERAPY_BANDS:
        if minutes >= start:
            return add_on if with_e_m else standalone
    raise AssertionError("unreachable: the lowest band starts at the minimum")


# Every code a session's charge can carry: what the fee schedule prices.
BILLABLE_CODES = VISIT_CODES | {
    IV_PUSH,
    IV_INFUSION_FIRST_HOUR,
    IV_INFUSION_ADDED_HOUR,
    IM_INJECTION,
    UNCLASSIFIED_DRUG,
    ESKETAMINE_MEDICARE_UP_TO_56_MG,
    ESKETAMINE_MEDICARE_OVER_56_MG,
    ESKETAMINE_PER_MG_UNTIL_2025,
    ESKETAMINE_PER_MG_FROM_2026,
}

NDC_11_DIGITS = re.compile(r"\d{11}")

WARNING_ADD_ON_WITHOUT_E_M = (
    "Psychotherapy add-on {code} is billed with a primary E/M code, and none was chosen [P17]."
)
WARNING_ADD_ON_WITH_G_CODE = (
    "Psychotherapy add-on {code} needs a primary E/M code; whether G2082/G2083 counts as one "
    "is not confirmed: check the payer's policy before billing it."
)
WARNING_G_CODE_PHARMACY_SUPPLY = (
    "The pharmacy supplied the esketamine: some guidance says the clinic must supply the drug "
    "to report G2082/G2083 (not confirmed in CMS text); check the MAC's instructions."
)


class CodingError(ValueError):
    """The facts cannot be coded as given; `field` names the input at fault."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class SessionFacts:
    """What was recorded at the session, as billing needs it."""

    route: Route
    payer: Payer
    date_of_service: datetime.date
    established_patient: bool = True
    # Whole minutes the infusion ran: stop - start - pauses (iv only).
    infusion_minutes: int | None = None
    esketamine_mg: int | None = None  # esketamine only
    drug_supplied_by: DrugSupplier = "clinic"
    ketamine_ndc: str | None = None  # 11 digits, iv/im only; shown on the J3490 line
    visit_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChargeLine:
    code: str
    units: int
    modifiers: tuple[str, ...] = ()
    ndc: str | None = None
    # Only the unclassified-drug line carries an NDC field (present even when null).
    has_ndc: bool = False

    def as_dict(self) -> dict[str, object]:
        line: dict[str, object] = {
            "code": self.code,
            "units": self.units,
            "modifiers": list(self.modifiers),
        }
        if self.has_ndc:
            line["ndc"] = self.ndc
        return line


@dataclass(frozen=True)
class SessionCoding:
    lines: tuple[ChargeLine, ...]
    warnings: tuple[str, ...] = field(default=())

    def codes(self) -> list[str]:
        return [line.code for line in self.lines]

    def as_dict(self) -> dict[str, object]:
        return {
            "lines": [line.as_dict() for line in self.lines],
            "warnings": list(self.warnings),
        }


def infusion_lines(minutes: int) -> list[ChargeLine]:
    """96374 up to 15 minutes; 96365 from 16; +96366 for each further hour past 30 minutes of
    it: 90 -> none, 91 -> 1, 150 -> 1, 151 -> 2 [P16]."""
    if minutes <= PUSH_MAX_MINUTES:
        return [ChargeLine(IV_PUSH, 1)]
    lines = [ChargeLine(IV_INFUSION_FIRST_HOUR, 1)]
    if minutes > FIRST_HOUR_MINUTES + ADD_ON_THRESHOLD_MINUTES:
        # Hour n (n >= 2) counts from minute 60 * (n - 1) + 31: floor((minutes - 31) / 60).
        added_hours = (minutes - ADD_ON_THRESHOLD_MINUTES - 1) // FIRST_HOUR_MINUTES
        lines.append(ChargeLine(IV_INFUSION_ADDED_HOUR, added_hours))
    return lines


def _visit_codes_checked(codes: tuple[str, ...]) -> tuple[str, ...]:
    for code in codes:
        if code not in VISIT_CODES:
            raise CodingError(
                "visit_codes",
                f"{code!r} is not a visit code this calculator takes (E/M 99202-99205, "
                "99211-99215; 90791, 90792; psychotherapy 90832-90838).",
            )
    if len(set(codes)) != len(codes):
        raise CodingError("visit_codes", "A visit code is listed twice.")
    if len([c for c in codes if c in E_M_CODES]) > 1:
        raise CodingError("visit_codes", "One E/M code per visit.")
    psychotherapy = [c for c in codes if c in PSYCHOTHERAPY_CODES | PSYCHOTHERAPY_ADD_ON_CODES]
    if len(psychotherapy) > 1:
        raise CodingError("visit_codes", "One psychotherapy code per session [P17].")
    return codes


def _facts_checked(facts: SessionFacts) -> None:
    if facts.route not in ROUTES:
        raise CodingError("route", f"One of: {', '.join(ROUTES)}.")
    if facts.payer not in PAYERS:
        raise CodingError("payer", f"One of: {', '.join(PAYERS)}.")
    if facts.drug_supplied_by not in DRUG_SUPPLIERS:
        raise CodingError("drug_supplied_by", f"One of: {', '.join(DRUG_SUPPLIERS)}.")
    if facts.route == "iv":
        minutes = facts.infusion_minutes
        if minutes is None:
            raise CodingError("infusion_minutes", "Required for an IV session.")
        if minutes < 1:
            raise CodingError("infusion_minutes", "At least 1 minute.")
        if minutes > INFUSION_MAX_MINUTES:
            raise CodingError(
                "infusion_minutes", f"At most {INFUSION_MAX_MINUTES} minutes (one day)."
            )
    elif facts.infusion_minutes is not None:
        raise CodingError("infusion_minutes", "Applies to IV sessions only.")
    if facts.route == "esketamine":
        if facts.esketamine_mg is None:
            raise CodingError("esketamine_mg", "Required for an esketamine session.")
        if facts.esketamine_mg not in ESKETAMINE_DOSES_MG:
            raise CodingError("esketamine_mg", "28, 56 or 84 mg (one to three devices).")
        if facts.ketamine_ndc is not None:
            raise CodingError("ketamine_ndc", "Applies to IV and IM ketamine only.")
    elif facts.esketamine_mg is not None:
        raise CodingError("esketamine_mg", "Applies to esketamine sessions only.")
    if facts.ketamine_ndc is not None and not NDC_11_DIGITS.fullmatch(facts.ketamine_ndc):
        raise CodingError("ketamine_ndc", "An 11-digit NDC (5-4-2, digits only, e.g. 12345678901).")


def session_codes(facts: SessionFacts) -> SessionCoding:
    """The charge lines and any warnings for one session. Raises CodingError naming the field
    at fault. Line order: the procedure or visit code, the drug, then the clinician's codes."""
    _facts_checked(facts)
    visit_codes = _visit_codes_checked(facts.visit_codes)
    chose_e_m = any(code in E_M_CODES for code in visit_codes)
    lines: list[ChargeLine] = []
    warnings: list[str] = []

    if facts.route == "iv":
        assert facts.infusion_minutes is not None  # checked above
        lines += infusion_lines(facts.infusion_minutes)
    elif facts.route == "im":
        lines.append(ChargeLine(IM_INJECTION, 1))
    if facts.route in ("iv", "im") and facts.drug_supplied_by == "clinic":
        lines.append(ChargeLine(UNCLASSIFIED_DRUG, 1, ndc=facts.ketamine_ndc, has_ndc=True))

    if facts.route == "esketamine":
        mg = facts.esketamine_mg
        assert mg is not None  # checked above
        if facts.payer == "medicare":
            if not facts.established_patient:
                raise CodingError(
                    "established_patient",
                    "G2082/G2083 are for established patients only: the first esketamine "
                    "session must follow an earlier visit [P4].",
                )
            if chose_e_m:
                raise CodingError(
                    "visit_codes",
                    "G2082/G2083 include the E/M visit: no separate E/M code on the same "
                    "session for Medicare [P3], [P8].",
                )
            code = (
                ESKETAMINE_MEDICARE_UP_TO_56_MG
                if mg <= ESKETAMINE_MEDICARE_CUTOFF_MG
                else ESKETAMINE_MEDICARE_OVER_56_MG
            )
            lines.append(ChargeLine(code, 1, modifiers=(REMS_ATTESTATION_MODIFIER,)))
            if facts.drug_supplied_by == "pharmacy":
                warnings.append(WARNING_G_CODE_PHARMACY_SUPPLY)
        elif facts.drug_supplied_by == "clinic":
            code = (
                ESKETAMINE_PER_MG_FROM_2026
                if facts.date_of_service >= J0013_EFFECTIVE
                else ESKETAMINE_PER_MG_UNTIL_2025
            )
            lines.append(ChargeLine(code, mg))

    has_procedure = any(line.code in PROCEDURE_CODES for line in lines)
    has_g_code = any(
        line.code in (ESKETAMINE_MEDICARE_UP_TO_56_MG, ESKETAMINE_MEDICARE_OVER_56_MG)
        for line in lines
    )
    for code in visit_codes:
        modifiers = (SEPARATE_E_M_MODIFIER,) if code in E_M_CODES and has_procedure else ()
        lines.append(ChargeLine(code, 1, modifiers=modifiers))
        if code in PSYCHOTHERAPY_ADD_ON_CODES and not chose_e_m:
            template = WARNING_ADD_ON_WITH_G_CODE if has_g_code else WARNING_ADD_ON_WITHOUT_E_M
            warnings.append(template.format(code=code))
    return SessionCoding(lines=tuple(lines), warnings=tuple(warnings))
