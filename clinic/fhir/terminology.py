"""Code systems and codes the FHIR mappers use. Pure: no Django.

Every code comes from ../shared/domain/fhir-loinc.md (its source keys in brackets); instrument
item and answer codes live with each instrument (clinic/assessments/instruments/*.py LOINC).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from clinic.assessments.instruments import gad7, phq9

# fhir-loinc.md, "Conventions".
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
# The identifier type "MR" (medical record number), HL7 v2 table 0203.
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"

# KetaCare's own identifiers and codes (fhir-loinc.md §1.4: a clinic-owned URL, stable once
# published; a LOINC code confirmed later is added beside a local code, never in its place).
KETACARE_BASE = "https://ketacare.example/fhir"
MRN_SYSTEM = f"{KETACARE_BASE}/sid/mrn"


# Scored instruments with verified LOINC panels, totals, items and answers (fhir-loinc.md §1.1,
# clinical-reference.md §7.1 and §7.2). PHQ-9's item 10 and GAD-7's item 8 are the same
# functional-difficulty question, answered from answer list LL359-1 (clinical-reference.md §7.1).
@dataclass(frozen=True)
class LoincInstrument:
    panel: tuple[str, str]  # (code, display)
    total: tuple[str, str]
    items: Mapping[int, str]  # item number -> LOINC question code
    answers: Mapping[int, str]  # answer value -> LOINC answer code
    difficulty_item: int  # the item answered from DIFFICULTY_ANSWERS instead

    @property
    def all_codes(self) -> frozenset[str]:
        """Every Observation code the instrument's resources carry: panel, total, items."""
        return frozenset({self.panel[0], self.total[0], *self.items.values()})


DIFFICULTY_ANSWERS: Mapping[int, str] = phq9.LOINC["difficulty_answers"]  # type: ignore[assignment]

LOINC_INSTRUMENTS = {
    "phq9": LoincInstrument(
        panel=("44249-1", "PHQ-9 quick depression assessment panel [Reported.PHQ]"),
        total=("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"),
        items=phq9.LOINC["items"],  # type: ignore[arg-type]
        answers=phq9.LOINC["answers"],  # type: ignore[arg-type]
        difficulty_item=10,
    ),
    "gad7": LoincInstrument(
        panel=("69737-5", "Generalized anxiety disorder 7 item (GAD-7)"),
        total=("70274-6", "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]"),
        items=gad7.LOINC["items"],  # type: ignore[arg-type]
        answers=gad7.LOINC["answers"],  # type: ignore[arg-type]
        difficulty_item=8,
    ),
}
