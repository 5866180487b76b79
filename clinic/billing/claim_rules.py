"""What a claim must have before it goes to the clearinghouse: pure checks, no Django.

Each problem is one sentence a biller can act on, naming the box of the CMS-1500 form
(docs/clinical/billing.md §5) and where in KetaCare to fix it. An empty list means the claim is
ready. The coding rules themselves are the session's (session_codes.py); these checks catch
what a payer would reject: a missing or mistyped identifier, no diagnosis or pointer, a line
without a price, Medicare's esketamine G-codes without KX or beside an E/M [P2], [P3], [P8].
"""

from __future__ import annotations

import re

from clinic.billing import session_codes
from clinic.billing.claim_data import Address, Claim
from clinic.core.npi import npi_problem

EXPORT_MAX_CLAIMS = 500  # claims in one 837P file: a day's work fits
MAX_DIAGNOSES = 12  # box 21, A-L [P29]
MAX_POINTERS = 4  # box 24E [P29]
MAX_MODIFIERS = 4  # box 24D [P29]
TAX_ID = re.compile(r"\d{9}")
POSTAL_CODE = re.compile(r"\d{5}(\d{4})?")
ZIP_PLUS_4 = re.compile(r"\d{9}")
STATE = re.compile(r"[A-Z]{2}")
PLACE_OF_SERVICE = re.compile(r"\d{2}")
G_CODES = {
    session_codes.ESKETAMINE_MEDICARE_UP_TO_56_MG,
    session_codes.ESKETAMINE_MEDICARE_OVER_56_MG,
}


def _address_problems(
    address: Address | None, whose: str, *, zip_plus_4: bool = False
) -> list[str]:
    if address is None or not address.line1 or not address.city:
        return [f"{whose}: the street address and city are missing."]
    problems = []
    if not STATE.fullmatch(address.state):
        problems.append(f"{whose}: the state is two capital letters (e.g. MA).")
    postal = address.postal_code.replace("-", "")
    if zip_plus_4 and not ZIP_PLUS_4.fullmatch(postal):
        # The 837P wants the billing provider's and the service facility's ZIP+4 [P31].
        problems.append(f"{whose}: the ZIP code with its 4-digit extension (ZIP+4).")
    elif not POSTAL_CODE.fullmatch(postal):
        problems.append(f"{whose}: the ZIP code is 5 or 9 digits.")
    return problems


def claim_problems(claim: Claim) -> list[str]:
    problems: list[str] = []
    billing = claim.billing_provider
    if not billing.last_or_organisation_name:
        problems.append("Box 33: the billing provider's name is not set (BILLING_PROVIDER_NAME).")
    if problem := npi_problem(billing.identifier):
        problems.append(f"Box 33a: the billing provider's NPI: {problem} (BILLING_PROVIDER_NPI)")
    problems += _address_problems(billing.address, "Box 33 (billing provider)", zip_plus_4=True)
    if not TAX_ID.fullmatch(claim.billing_tax_id):
        problems.append("Box 25: the federal tax ID (EIN) is 9 digits (BILLING_TAX_ID).")
    rendering = claim.rendering_provider
    if problem := npi_problem(rendering.identifier):
        problems.append(
            f"Box 24J: {rendering.first_name} {rendering.last_or_organisation_name}'s NPI: "
            f"{problem} Add it on their staff record."
        )
    facility = claim.service_facility
    if facility is not None:
        if facility.identifier and (problem := npi_problem(facility.identifier)):
            problems.append(f"Box 32a: the location's service-facility NPI: {problem}")
        problems += _address_problems(
            facility.address, "Box 32 (service facility)", zip_plus_4=True
        )
    if not claim.payer.identifier:
        problems.append("Box 1 / payer: the payer has no electronic payer ID: add it on Payers.")
    problems += _address_problems(claim.patient_address, "Box 5 (the patient's address)")
    if not claim.subscriber.member_id:
        problems.append("Box 1a: the member ID is missing on the coverage.")
    if not PLACE_OF_SERVICE.fullmatch(claim.place_of_service):
        problems.append("Box 24B: the location's place-of-service code is two digits (e.g. 11).")
    if not claim.diagnosis_codes:
        problems.append("Box 21: no diagnosis: add the primary diagnosis to the problem list.")
    elif len(claim.diagnosis_codes) > MAX_DIAGNOSES:
        problems.append(f"Box 21: at most {MAX_DIAGNOSES} diagnoses on one claim.")
    if not claim.lines:
        problems.append("Box 24: the claim has no lines.")
    codes = {line.code for line in claim.lines}
    for number, line in enumerate(claim.lines, start=1):
        where = f"Line {number} ({line.code})"
        if line.charge_cents <= 0:
            problems.append(f"{where}, box 24F: no charge: set its price in the fee schedule.")
        if not line.diagnosis_pointers:
            problems.append(f"{where}, box 24E: points to no diagnosis.")
        elif len(line.diagnosis_pointers) > MAX_POINTERS or any(
            not 1 <= p <= len(claim.diagnosis_codes) for p in line.diagnosis_pointers
        ):
            problems.append(f"{where}, box 24E: up to 4 pointers to the diagnoses listed.")
        if len(line.modifiers) > MAX_MODIFIERS:
            problems.append(f"{where}, box 24D: at most 4 modifiers.")
        if line.code == session_codes.UNCLASSIFIED_DRUG and not line.ndc:
            problems.append(f"{where}: J3490 needs the drug's 11-digit NDC [P13], [P18].")
        if line.code in G_CODES and session_codes.REMS_ATTESTATION_MODIFIER not in line.modifiers:
            problems.append(f"{where}: G2082/G2083 carry KX, the REMS attestation [P2].")
    if codes & G_CODES and codes & session_codes.E_M_CODES:
        problems.append(
            "G2082/G2083 include the E/M visit: no separate E/M on the same claim [P3], [P8]."
        )
    if claim.total_cents != sum(line.charge_cents for line in claim.lines):
        problems.append("Box 28: the total is not the sum of the lines.")
    if claim.frequency_code in ("7", "8") and not claim.original_reference:
        problems.append("Box 22: a replacement or void names the payer's original claim number.")
    return problems
