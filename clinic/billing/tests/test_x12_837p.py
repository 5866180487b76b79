"""The 837P writer: every file is checked by pyx12 against its 005010X222A1 map, and the
segments a biller reads are checked against values taken from the implementation guide."""

from __future__ import annotations

import dataclasses
import datetime
import io
import logging
from pathlib import Path

import pytest
from pyx12 import params as pyx12_params
from pyx12 import x12n_document

from clinic.billing.claim_data import Address, Claim, ClaimLine, Interchange, Party, Subscriber
from clinic.billing.x12_837p import build_837p

NPI = "1234567893"  # CMS's worked example of an NPI with a valid check digit
DOS = datetime.date(2026, 3, 2)

CLINIC_ADDRESS = Address("100 Atlantic Ave", "Suite 200", "Boston", "MA", "021101234")
CLINIC = Party("Harbor Ketamine Clinic", identifier=NPI, address=CLINIC_ADDRESS)
PATIENT_ADDRESS = Address("12 Elm St", "", "Quincy", "MA", "02169")


def _claim(**changes: object) -> Claim:
    claim = Claim(
        claim_number="KC-2026-0001",
        total_cents=49000,
        place_of_service="11",
        frequency_code="1",
        diagnosis_codes=("F33.2", "F41.1"),
        prior_authorization="PA-2026-77",
        billing_provider=CLINIC,
        billing_tax_id="123456789",
        rendering_provider=Party("Rivera", "Ana", identifier=NPI, is_person=True),
        service_facility=Party(
            "Harbor Ketamine Infusion Suite",
            identifier=NPI,
            address=Address("200 Harbor St", "", "Boston", "MA", "021101235"),
        ),
        payer=Party("Aetna", identifier="60054"),
        subscriber=Subscriber(
            member_id="W123456789",
            group_number="GRP100",
            payer_filing_code="CI",
            relationship_code="18",
            last_name="Doe",
            first_name="Jane",
            date_of_birth=datetime.date(1985, 4, 12),
            sex="F",
            address=PATIENT_ADDRESS,
        ),
        patient_last_name="Doe",
        patient_first_name="Jane",
        patient_date_of_birth=datetime.date(1985, 4, 12),
        patient_sex="F",
        patient_address=PATIENT_ADDRESS,
        lines=(
            ClaimLine("96365", (), 1, 25000, (1,), DOS),
            ClaimLine("J3490", (), 1, 6000, (1,), DOS, "12345678901", "1", "UN"),
            ClaimLine("99214", ("25",), 1, 18000, (1, 2), DOS),
        ),
    )
    return dataclasses.replace(claim, **changes)  # type: ignore[arg-type]


def _interchange(*claims: Claim) -> Interchange:
    return Interchange(
        sender_id="KETACARE01",
        receiver_id="CLEARHOUSE",
        submitter=CLINIC,
        submitter_contact_name="Billing Office",
        submitter_contact_phone="6175550100",
        receiver_name="Example Clearinghouse",
        created_at=datetime.datetime(2026, 3, 3, 9, 5),
        control_number=42,
        claims=claims or (_claim(),),
    )


def _spouse_claim() -> Claim:
    subscriber = dataclasses.replace(
        _claim().subscriber,
        relationship_code="01",
        last_name="Doe",
        first_name="John",
        date_of_birth=datetime.date(1983, 1, 20),
        sex="M",
    )
    return _claim(claim_number="KC-2026-0002", subscriber=subscriber)


def _segments(text: str) -> list[str]:
    return [segment.strip() for segment in text.split("~") if segment.strip()]


def assert_pyx12_valid(text: str, tmp_path: Path) -> None:
    """Validate with pyx12; on failure show its logged errors and its 999."""
    source = tmp_path / "claim.837"
    source.write_text(text, encoding="ascii")
    logger = logging.getLogger("pyx12")
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    handler.setLevel(logging.WARNING)
    logger.addHandler(handler)
    ack = io.StringIO()
    try:
        ok = x12n_document.x12n_document(
            param=pyx12_params.params(),
            src_file=str(source),
            fd_997=ack,
            fd_html=None,
            fd_xmldoc=None,
        )
    finally:
        logger.removeHandler(handler)
    assert ok, f"pyx12 rejected the 837P:\n{log.getvalue()}\n999:\n{ack.getvalue()}\n{text}"
    # The 999 must accept the transaction set and the group.
    assert "IK5*A" in ack.getvalue() and "AK9*A" in ack.getvalue(), ack.getvalue()


def test_claim_for_the_subscriber_is_valid(tmp_path: Path) -> None:
    assert_pyx12_valid(build_837p(_interchange()), tmp_path)


def test_claim_for_the_subscribers_spouse_is_valid(tmp_path: Path) -> None:
    text = build_837p(_interchange(_spouse_claim()))
    assert_pyx12_valid(text, tmp_path)
    segments = _segments(text)
    # 2000B has a child (HL04 1), SBR02 is empty, and 2000C carries the relationship.
    assert "HL*2*1*22*1" in segments
    assert "SBR*P**GRP100******CI" in segments
    assert "HL*3*2*23*0" in segments
    assert "PAT*01" in segments
    assert "NM1*QC*1*DOE*JANE" in segments
    assert "DMG*D8*19850412*F" in segments
    # Subscriber demographics are only sent when the subscriber is the patient.
    assert "DMG*D8*19830120*M" not in segments


def test_several_claims_share_the_billing_provider(tmp_path: Path) -> None:
    text = build_837p(_interchange(_claim(), _spouse_claim()))
    assert_pyx12_valid(text, tmp_path)
    segments = _segments(text)
    assert [s for s in segments if s.startswith("HL*")] == [
        "HL*1**20*1",
        "HL*2*1*22*0",
        "HL*3*1*22*1",
        "HL*4*3*23*0",
    ]


def test_segments_a_biller_checks() -> None:
    segments = _segments(build_837p(_interchange()))

    assert "BHT*0019*00*42*20260303*0905*CH" in segments
    assert "GS*HC*KETACARE01*CLEARHOUSE*20260303*0905*42*X*005010X222A1" in segments
    assert "ST*837*0042*005010X222A1" in segments
    assert "NM1*41*2*HARBOR KETAMINE CLINIC*****46*KETACARE01" in segments
    assert "PER*IC*BILLING OFFICE*TE*6175550100" in segments
    assert "NM1*40*2*EXAMPLE CLEARINGHOUSE*****46*CLEARHOUSE" in segments
    assert "HL*1**20*1" in segments
    assert "NM1*85*2*HARBOR KETAMINE CLINIC*****XX*1234567893" in segments
    assert "N4*BOSTON*MA*021101234" in segments
    assert "REF*EI*123456789" in segments
    assert "HL*2*1*22*0" in segments
    assert "SBR*P*18*GRP100******CI" in segments
    assert "NM1*IL*1*DOE*JANE****MI*W123456789" in segments
    assert "DMG*D8*19850412*F" in segments
    assert "NM1*PR*2*AETNA*****PI*60054" in segments
    assert "CLM*KC-2026-0001*490.00***11:B:1*Y*A*Y*Y" in segments
    assert "REF*G1*PA-2026-77" in segments
    assert not any(s.startswith("REF*F8") for s in segments)  # original claim: no F8
    assert "HI*ABK:F332*ABF:F411" in segments
    assert "NM1*82*1*RIVERA*ANA****XX*1234567893" in segments
    assert "NM1*77*2*HARBOR KETAMINE INFUSION SUITE*****XX*1234567893" in segments
    assert "SV1*HC:96365*250.00*UN*1***1" in segments
    assert "SV1*HC:J3490*60.00*UN*1***1" in segments
    assert "SV1*HC:99214:25*180.00*UN*1***1:2" in segments
    assert segments.count("DTP*472*D8*20260302") == 3
    assert "LIN**N4*12345678901" in segments
    assert "CTP****1*UN" in segments
    # The drug loop follows its own line (J3490), not another.
    j3490 = segments.index("SV1*HC:J3490*60.00*UN*1***1")
    assert segments[j3490 + 2 : j3490 + 4] == ["LIN**N4*12345678901", "CTP****1*UN"]
    assert [s for s in segments if s.startswith("LX*")] == ["LX*1", "LX*2", "LX*3"]


def test_envelope_counts_and_control_numbers() -> None:
    text = build_837p(_interchange())
    segments = _segments(text)

    isa = text.split("\n", 1)[0]
    assert len(isa) == 106  # fixed length, terminator included
    assert isa == (
        "ISA*00*          *00*          *ZZ*KETACARE01     *ZZ*CLEARHOUSE     "
        "*260303*0905*^*00501*000000042*0*T*:~"
    )
    assert segments[-2:] == ["GE*1*42", "IEA*1*000000042"]
    st, se = segments.index("ST*837*0042*005010X222A1"), len(segments) - 3
    assert segments[se] == f"SE*{se - st + 1}*0042"


def test_production_flag() -> None:
    text = build_837p(dataclasses.replace(_interchange(), production=True))
    assert text.split("\n", 1)[0].endswith("*0*P*:~")


def test_replacement_claim_refers_to_the_original(tmp_path: Path) -> None:
    text = build_837p(_interchange(_claim(frequency_code="7", original_reference="PAYER123")))
    assert_pyx12_valid(text, tmp_path)
    segments = _segments(text)
    assert "CLM*KC-2026-0001*490.00***11:B:7*Y*A*Y*Y" in segments
    assert "REF*F8*PAYER123" in segments


def test_separators_in_text_do_not_break_the_file(tmp_path: Path) -> None:
    subscriber = dataclasses.replace(_claim().subscriber, last_name="O*Brien~", first_name="Zoë^")
    claim = _claim(
        subscriber=subscriber,
        patient_last_name="O*Brien~",
        note="Spravato: REMS*certified~site",
        payer=Party("Aetna: Commercial^East", identifier="60054"),
    )
    text = build_837p(_interchange(claim))
    assert_pyx12_valid(text, tmp_path)
    segments = _segments(text)
    assert "NM1*IL*1*O BRIEN*ZOE****MI*W123456789" in segments
    assert "NTE*ADD*Spravato REMS certified site" in segments
    assert "NM1*PR*2*AETNA COMMERCIAL EAST*****PI*60054" in segments


def test_inconsistent_total_is_refused() -> None:
    with pytest.raises(ValueError, match="sum of the SV102"):
        build_837p(_interchange(_claim(total_cents=100)))


def test_pointer_to_a_missing_diagnosis_is_refused() -> None:
    line = ClaimLine("99214", (), 1, 49000, (3,), DOS)
    with pytest.raises(ValueError, match="diagnosis pointers"):
        build_837p(_interchange(_claim(lines=(line,))))
