"""Write an X12 837P (professional claim) file from `claim_data.Interchange`.

Follows the ASC X12N 005010X222A1 (837P) implementation guide, with the loops listed in
docs/clinical/billing.md §6. Pure Python (no Django) so the tests can validate every file
with `pyx12` and the file can be written outside a request.

Layout: one interchange (ISA/IEA) holding one functional group (GS/GE) holding one
transaction set (ST/SE). Within it, consecutive claims with the same billing provider share
a 2000A loop; each claim gets its own 2000B (and 2000C when the patient is not the
subscriber), which the guide allows and which keeps every claim self-contained.

Delimiters: segment "~" (followed by a newline, which receivers and pyx12 skip), element
"*", component ":", repetition "^". X12 has no escape character, so separators and other
characters outside the extended character set are removed from free text.
"""

from __future__ import annotations

import re
import unicodedata

from clinic.billing.claim_data import Address, Claim, ClaimLine, Interchange, Party

SEGMENT_TERMINATOR = "~"
ELEMENT_SEPARATOR = "*"
COMPONENT_SEPARATOR = ":"
REPETITION_SEPARATOR = "^"
VERSION = "005010X222A1"

# Characters of the X12 extended character set minus our separators; anything else
# (control characters, accented letters once decomposed, "|", "\") is dropped.
_DISALLOWED = re.compile(r"[^A-Za-z0-9 !\"&'()+,\-./;?=%@\[\]_{}#$<>]")
_SPACES = re.compile(r"\s+")

# Claim frequency codes that refer to an earlier claim (replacement, void): REF*F8 required.
_FREQUENCIES_WITH_ORIGINAL = frozenset({"7", "8"})
_MAX_DIAGNOSES = 12  # HI01..HI12
_MAX_POINTERS = 4  # SV107-1..SV107-4
_MAX_MODIFIERS = 4  # SV101-3..SV101-6
_MAX_LINES = 50  # loop 2400 repeat


def build_837p(interchange: Interchange) -> str:
    """Return the 837P file for `interchange`, one segment per line.

    Raises ValueError when the data cannot make a valid claim (no claims, a total that is not
    the sum of the lines, too many diagnoses, a pointer to a missing diagnosis, ...): a file a
    clearinghouse would reject is worse than no file.
    """
    control = interchange.control_number
    if not 1 <= control <= 999_999_999:
        raise ValueError(f"control number {control} is outside 1..999999999")
    if not interchange.claims:
        raise ValueError("an 837P interchange needs at least one claim")

    created = interchange.created_at
    body = _Transaction()
    # ST02 is 4-9 characters; zero-padding to 4 keeps small numbers valid.
    body.add("ST", "837", f"{control:04d}", VERSION)
    body.add(
        "BHT",
        "0019",
        "00",
        str(control),
        created.strftime("%Y%m%d"),
        created.strftime("%H%M"),
        "CH",
    )
    _submitter_and_receiver(body, interchange)

    previous_billing: tuple[Party, str] | None = None
    billing_hl = 0
    for claim in interchange.claims:
        _check_claim(claim)
        billing_key = (claim.billing_provider, claim.billing_tax_id)
        if billing_key != previous_billing:
            billing_hl = body.next_hl()
            _billing_provider(body, billing_hl, claim)
            previous_billing = billing_key
        _claim_hierarchy(body, billing_hl, claim)

    # SE01 counts ST through SE inclusive.
    body.add("SE", str(len(body.segments) + 1), f"{control:04d}")

    isa = _segment(
        "ISA",
        "00",
        " " * 10,
        "00",
        " " * 10,
        "ZZ",
        _fixed(interchange.sender_id, 15),
        "ZZ",
        _fixed(interchange.receiver_id, 15),
        created.strftime("%y%m%d"),
        created.strftime("%H%M"),
        REPETITION_SEPARATOR,
        "00501",
        f"{control:09d}",
        "0",  # no TA1 requested: the clearinghouse answers with a 999
        "P" if interchange.production else "T",
        COMPONENT_SEPARATOR,
    )
    gs = _segment(
        "GS",
        "HC",
        _text(interchange.sender_id, 15),
        _text(interchange.receiver_id, 15),
        created.strftime("%Y%m%d"),
        created.strftime("%H%M"),
        str(control),
        "X",
        VERSION,
    )
    ge = _segment("GE", "1", str(control))
    iea = _segment("IEA", "1", f"{control:09d}")
    segments = [isa, gs, *body.segments, ge, iea]
    return "".join(f"{segment}{SEGMENT_TERMINATOR}\n" for segment in segments)


class _Transaction:
    """The segments between ST and SE, with the HL counter they share."""

    def __init__(self) -> None:
        self.segments: list[str] = []
        self._hl = 0

    def add(self, segment_id: str, *elements: str) -> None:
        self.segments.append(_segment(segment_id, *elements))

    def next_hl(self) -> int:
        self._hl += 1
        return self._hl


def _submitter_and_receiver(body: _Transaction, interchange: Interchange) -> None:
    # 1000A: NM108 "46" = the electronic transmitter ID the clearinghouse assigned.
    _party(body, "41", interchange.submitter, "46", interchange.sender_id)
    body.add(
        "PER",
        "IC",
        _upper(interchange.submitter_contact_name, 60),
        "TE",
        _digits(interchange.submitter_contact_phone),
    )
    # 1000B: the receiver is always an organisation.
    _nm1(body, "40", interchange.receiver_name, "", "46", interchange.receiver_id, person=False)


def _billing_provider(body: _Transaction, hl: int, claim: Claim) -> None:
    body.add("HL", str(hl), "", "20", "1")
    provider = claim.billing_provider
    _party(body, "85", provider, "XX", provider.identifier)
    if provider.address is None:
        # 2010AA N3/N4 are required (a street address, not a PO box).
        raise ValueError("the billing provider needs an address")
    _address(body, provider.address)
    body.add("REF", "EI", _digits(claim.billing_tax_id))


def _claim_hierarchy(body: _Transaction, billing_hl: int, claim: Claim) -> None:
    subscriber = claim.subscriber
    is_self = subscriber.relationship_code == "18"
    subscriber_hl = body.next_hl()
    # HL04: 1 when a 2000C patient loop follows, 0 when the subscriber is the patient.
    body.add("HL", str(subscriber_hl), str(billing_hl), "22", "0" if is_self else "1")
    # SBR02 is sent only when the subscriber is the patient; otherwise PAT01 carries it.
    group = _text(subscriber.group_number, 50)
    body.add("SBR", "P", "18" if is_self else "", group, *[""] * 5, subscriber.payer_filing_code)

    # 2010BA subscriber.
    _nm1(body, "IL", subscriber.last_name, subscriber.first_name, "MI", subscriber.member_id)
    if subscriber.address is not None:
        _address(body, subscriber.address)
    if is_self:
        # The guide forbids subscriber demographics unless the subscriber is the patient.
        body.add("DMG", "D8", subscriber.date_of_birth.strftime("%Y%m%d"), subscriber.sex)

    # 2010BB payer.
    payer = claim.payer
    _nm1(body, "PR", payer.last_or_organisation_name, "", "PI", payer.identifier, person=False)

    if not is_self:
        # 2000C patient: its own HL (never has children) and its address is required.
        body.add("HL", str(body.next_hl()), str(subscriber_hl), "23", "0")
        body.add("PAT", subscriber.relationship_code)
        # NM108/NM109 are not used for the patient: the member ID identifies the subscriber.
        _nm1(body, "QC", claim.patient_last_name, claim.patient_first_name, "", "")
        if claim.patient_address is None:
            raise ValueError("a patient who is not the subscriber needs an address (2010CA)")
        _address(body, claim.patient_address)
        body.add("DMG", "D8", claim.patient_date_of_birth.strftime("%Y%m%d"), claim.patient_sex)

    _claim(body, claim)


def _claim(body: _Transaction, claim: Claim) -> None:
    # CLM05 = place of service : B (professional facility-code qualifier) : frequency.
    # CLM06 provider signature on file, CLM07 assigned, CLM08 benefits assigned, CLM09
    # release of information signed: the clinic's intake collects these consents.
    facility_code = _composite(claim.place_of_service, "B", claim.frequency_code)
    claim_number = _text(claim.claim_number, 20)
    body.add(
        "CLM", claim_number, _money(claim.total_cents), "", "", facility_code, "Y", "A", "Y", "Y"
    )
    if claim.prior_authorization:
        body.add("REF", "G1", _text(claim.prior_authorization, 50))
    if claim.frequency_code in _FREQUENCIES_WITH_ORIGINAL:
        body.add("REF", "F8", _text(claim.original_reference, 50))
    if claim.note:
        body.add("NTE", "ADD", _text(claim.note, 80))
    codes = [_diagnosis(code) for code in claim.diagnosis_codes]
    body.add(
        "HI",
        _composite("ABK", codes[0]),
        *(_composite("ABF", code) for code in codes[1:]),
    )

    _party(body, "82", claim.rendering_provider, "XX", claim.rendering_provider.identifier)
    facility = claim.service_facility
    if facility is not None:
        if facility.address is None:
            raise ValueError("the service facility needs an address")
        _nm1(
            body,
            "77",
            facility.last_or_organisation_name,
            "",
            "XX" if facility.identifier else "",
            facility.identifier,
            person=False,
        )
        _address(body, facility.address)

    for number, line in enumerate(claim.lines, start=1):
        _line(body, number, line)


def _line(body: _Transaction, number: int, line: ClaimLine) -> None:
    body.add("LX", str(number))
    body.add(
        "SV1",
        _composite("HC", line.code, *line.modifiers),
        _money(line.charge_cents),
        "UN",
        str(line.units),
        "",
        "",
        _composite(*(str(pointer) for pointer in line.diagnosis_pointers)),
    )
    body.add("DTP", "472", "D8", line.date_of_service.strftime("%Y%m%d"))
    if line.ndc:
        # 2410: the drug actually given, as the 11-digit NDC (5-4-2) and its quantity.
        body.add("LIN", "", "N4", _digits(line.ndc))
        body.add("CTP", "", "", "", _text(line.ndc_quantity, 15), _text(line.ndc_unit, 2))


def _check_claim(claim: Claim) -> None:
    """Reject a claim the guide (or every payer's front-end edit) would reject."""
    where = f"claim {claim.claim_number!r}"
    if not claim.lines or len(claim.lines) > _MAX_LINES:
        raise ValueError(f"{where}: needs 1..{_MAX_LINES} service lines")
    if sum(line.charge_cents for line in claim.lines) != claim.total_cents:
        raise ValueError(f"{where}: CLM02 must equal the sum of the SV102 line charges")
    if not 1 <= len(claim.diagnosis_codes) <= _MAX_DIAGNOSES:
        raise ValueError(f"{where}: needs 1..{_MAX_DIAGNOSES} diagnosis codes")
    if claim.frequency_code in _FREQUENCIES_WITH_ORIGINAL and not claim.original_reference:
        raise ValueError(f"{where}: a replacement or void needs the payer's claim number")
    for line in claim.lines:
        pointers = line.diagnosis_pointers
        if not 1 <= len(pointers) <= _MAX_POINTERS or not all(
            1 <= pointer <= len(claim.diagnosis_codes) for pointer in pointers
        ):
            raise ValueError(f"{where}: line {line.code} has invalid diagnosis pointers")
        if len(line.modifiers) > _MAX_MODIFIERS:
            raise ValueError(f"{where}: line {line.code} has more than 4 modifiers")
        if line.ndc and not line.ndc_quantity:
            raise ValueError(f"{where}: line {line.code} has an NDC without a quantity")


def _party(body: _Transaction, entity: str, party: Party, qualifier: str, identifier: str) -> None:
    _nm1(
        body,
        entity,
        party.last_or_organisation_name,
        party.first_name,
        qualifier,
        identifier,
        person=party.is_person,
    )


def _nm1(
    body: _Transaction,
    entity: str,
    last_or_organisation: str,
    first: str,
    qualifier: str,
    identifier: str,
    *,
    person: bool = True,
) -> None:
    """NM1: NM102 1 person / 2 organisation; an organisation has no first name (NM104)."""
    body.add(
        "NM1",
        entity,
        "1" if person else "2",
        _upper(last_or_organisation, 60),
        _upper(first, 35) if person else "",
        "",
        "",
        "",
        qualifier,
        _text(identifier, 80),
    )


def _address(body: _Transaction, address: Address) -> None:
    body.add("N3", _upper(address.line1, 55), _upper(address.line2, 55))
    body.add("N4", _upper(address.city, 30), _upper(address.state, 2), _digits(address.postal_code))


def _segment(segment_id: str, *elements: str) -> str:
    """Join the elements, dropping trailing empty ones (X12 forbids trailing separators)."""
    values = list(elements)
    while values and not values[-1]:
        values.pop()
    return ELEMENT_SEPARATOR.join([segment_id, *values])


def _composite(*components: str) -> str:
    values = list(components)
    while values and not values[-1]:
        values.pop()
    return COMPONENT_SEPARATOR.join(values)


def _text(value: str, max_length: int) -> str:
    """Free text made safe for X12: ASCII (accents dropped, not the letter), no separators or
    control characters, single spaces, cut to the element's maximum length (the guide's
    length limits are hard edits)."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    cleaned = _SPACES.sub(" ", _DISALLOWED.sub(" ", ascii_text)).strip()
    return cleaned[:max_length].rstrip()


def _upper(value: str, max_length: int) -> str:
    """Names and addresses in capitals, as payers print and match them."""
    return _text(value.upper(), max_length)


def _fixed(value: str, width: int) -> str:
    """An ISA element: fixed width, space-padded (the ISA has a fixed layout)."""
    return _text(value, width).ljust(width)


def _digits(value: str) -> str:
    return "".join(character for character in value if character.isdigit())


def _diagnosis(code: str) -> str:
    # ICD-10-CM codes are sent without the dot.
    return _text(code.replace(".", ""), 7)


def _money(cents: int) -> str:
    """Dollars with two decimals from whole cents, without going through a float."""
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    return f"{sign}{whole}.{fraction:02d}"


__all__ = ["build_837p"]
