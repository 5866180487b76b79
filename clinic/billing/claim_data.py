"""A professional claim as plain data (no Django): what the CMS-1500 form and the X12 837P
carry, in the box order of docs/clinical/billing.md §5. Built by the claim services from the
charge, the coverage, the patient, the location and the clinic's billing settings; read by the
claim checks (`claim_rules.py`), the claim page and the 837P writer (`x12_837p.py`).

Money in whole cents; dates as `datetime.date`; codes without dots (an ICD-10-CM code is
stored "F33.2" and sent "F332").
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Address:
    line1: str
    line2: str
    city: str
    state: str  # 2 letters
    postal_code: str  # 5 or 9 digits


@dataclass(frozen=True)
class Party:
    """A person (is_person) or an organisation, with an identifier."""

    last_or_organisation_name: str
    first_name: str = ""
    identifier: str = ""  # NPI (XX), member ID (MI) or payer ID (PI), by role
    is_person: bool = False
    address: Address | None = None


@dataclass(frozen=True)
class ClaimLine:
    code: str  # CPT/HCPCS (box 24D)
    modifiers: tuple[str, ...]  # up to 4
    units: int  # box 24G
    charge_cents: int  # box 24F (the line's amount: units x price)
    diagnosis_pointers: tuple[int, ...]  # 1-based positions in Claim.diagnosis_codes (24E)
    date_of_service: datetime.date  # 24A
    ndc: str = ""  # 11 digits (24A shaded / 2410 LIN)
    ndc_quantity: str = ""  # with the NDC: the amount of drug (e.g. "1" vial), 2410 CTP04
    ndc_unit: str = "UN"  # UN, ML, GR, F2, ME


@dataclass(frozen=True)
class Subscriber:
    member_id: str  # box 1a
    group_number: str  # box 11
    payer_filing_code: str  # SBR09: MB Medicare Part B, MC Medicaid, CI commercial, 16 MA HMO
    relationship_code: str  # the patient to the subscriber: 18 self, 01 spouse, 19 child, G8
    last_name: str
    first_name: str
    date_of_birth: datetime.date
    sex: str  # M, F or U
    address: Address | None


@dataclass(frozen=True)
class Claim:
    claim_number: str  # patient account / control number (box 26, CLM01), <= 20 characters
    total_cents: int  # box 28
    place_of_service: str  # 2 digits (box 24B, CLM05-1)
    frequency_code: str  # 1 original, 7 replacement, 8 void (box 22)
    diagnosis_codes: tuple[str, ...]  # ICD-10-CM, principal first, up to 12 (box 21)
    prior_authorization: str  # box 23, REF*G1 ("" when none)
    billing_provider: Party  # box 33: organisation, type 2 NPI, address
    billing_tax_id: str  # box 25: EIN, 9 digits
    rendering_provider: Party  # box 24J: person, type 1 NPI
    service_facility: Party | None  # box 32 (None: the billing provider's address)
    payer: Party  # name and electronic payer ID
    subscriber: Subscriber
    patient_last_name: str
    patient_first_name: str
    patient_date_of_birth: datetime.date
    patient_sex: str
    patient_address: Address | None
    lines: tuple[ClaimLine, ...]
    note: str = ""  # box 19 / NTE (e.g. the REMS setting for Medicare esketamine [P2])
    original_reference: str = ""  # box 22: the payer's claim number being replaced or voided


@dataclass(frozen=True)
class Interchange:
    """The envelope of an 837P file: who sends it to which clearinghouse, when, and its
    control numbers (unique per file)."""

    sender_id: str  # ISA06 / GS02 (the clinic's ID at the clearinghouse)
    receiver_id: str  # ISA08 / GS03 (the clearinghouse)
    submitter: Party  # 1000A: the clinic, with its contact
    submitter_contact_name: str
    submitter_contact_phone: str  # digits only
    receiver_name: str  # 1000B
    created_at: datetime.datetime
    control_number: int  # ISA13 / GS06 / ST02, 1..999999999
    production: bool = False  # ISA15: P or T
    claims: tuple[Claim, ...] = field(default=())
