"""Code systems and codes the FHIR mappers use. Pure: no Django.

Every code comes from ../shared/domain/fhir-loinc.md (its source keys in brackets); instrument
item and answer codes live with each instrument (clinic/assessments/instruments/*.py LOINC).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping
from dataclasses import dataclass

from clinic.assessments.instruments import gad7, phq9

# fhir-loinc.md, "Conventions".
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
# ICD-10-CM (fhir-loinc.md, "Conventions"); codes with their dot, as claims print them.
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
# Encounter.class (fhir-loinc.md §3: "class AMB"), HL7 v3 ActCode.
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
# The identifier type "MR" (medical record number), HL7 v2 table 0203.
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"

# KetaCare's own identifiers and codes (fhir-loinc.md §1.4: a clinic-owned URL, stable once
# published; a LOINC code confirmed later is added beside a local code, never in its place).
# Set by KETACARE_FHIR_BASE (docs/configuration.md), the same variable the Django setting of
# that name reads (config/settings.py; apps.py refuses a mismatch). Read here from the
# environment because this module is pure. Changing it changes every identifier already sent.
DEFAULT_KETACARE_BASE = "https://ketacare.example/fhir"
KETACARE_BASE = (
    os.environ.get("KETACARE_FHIR_BASE", "").strip().rstrip("/") or DEFAULT_KETACARE_BASE
)
MRN_SYSTEM = f"{KETACARE_BASE}/sid/mrn"
STAFF_SYSTEM = f"{KETACARE_BASE}/sid/staff"


def questionnaire_url(instrument_code: str) -> str:
    """The canonical URL of an instrument's Questionnaire (its id is the instrument's code)."""
    return f"{KETACARE_BASE}/Questionnaire/{instrument_code}"


# The NPI (fhir-loinc.md §3: Practitioner's identifier).
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"


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


# PCL-5 (fhir-loinc.md §1.1, [X5]): the panel and the total only; its 20 item codes were not
# retrieved, so its items are not sent. 70221-7 is the older PCL-C (DSM-IV, 17 items): never
# for PCL-5.
PCL5_PANEL = (
    "101697-1",
    "Post traumatic stress disorder checklist - civilian version DSM-5 [PCL-5]",
)
PCL5_TOTAL = ("101698-9", "PTSD PCL-5 score [PCL-5]")

# The C-SSRS screener's result as the US Behavioral Health Profiles IG codes it (fhir-loinc.md
# §1.1, [X4], [X6]); its question and answer codes live with the instrument (cssrs_screen.py).
CSSRS_RISK_LEVEL = ("93374-7", "Suicide risk level")

# Instruments LOINC has no code for (fhir-loinc.md §1.4): one KetaCare CodeSystem, served at
# CodeSystem/instrument, with exactly the codes §1.4 names. A LOINC code confirmed later goes
# beside the local one as a second coding, never in its place.
INSTRUMENT_SYSTEM = f"{KETACARE_BASE}/CodeSystem/instrument"


@dataclass(frozen=True)
class LocalInstrument:
    code: str  # the instrument's own code: its panel, or its one Observation
    total: str = ""  # the total's code, where §1.4 gives one
    items: bool = False  # item codes "<code>-<n>", where §1.4 gives them (MADRS only)


LOCAL_INSTRUMENTS: Mapping[str, LocalInstrument] = {
    "qids-sr16": LocalInstrument("qids-sr16", total="qids-sr16-total"),
    "madrs": LocalInstrument("madrs", total="madrs-total", items=True),
    "cadss": LocalInstrument("cadss"),
    "moaas": LocalInstrument("moaas"),
    "modified-aldrete": LocalInstrument("modified-aldrete"),
}


# Vital signs (fhir-loinc.md §1.2: the FHIR vital-signs value set and US Core's profiles):
# (LOINC code, display, UCUM unit). US Core's pulse oximetry profile needs both SpO2 codings.
BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
SYSTOLIC = ("8480-6", "Systolic blood pressure", "mm[Hg]")
DIASTOLIC = ("8462-4", "Diastolic blood pressure", "mm[Hg]")
HEART_RATE = ("8867-4", "Heart rate", "/min")
RESPIRATORY_RATE = ("9279-1", "Respiratory rate", "/min")
SPO2_CODINGS = (
    ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
    ("2708-6", "Oxygen saturation in Arterial blood"),
)
SPO2_UNIT = "%"
BODY_TEMPERATURE = ("8310-5", "Body temperature", "Cel")
BODY_WEIGHT = ("29463-7", "Body weight", "kg")
BODY_HEIGHT = ("8302-2", "Body height", "cm")
VITAL_SIGN_CODES = frozenset(
    {
        BP_PANEL[0],
        SYSTOLIC[0],
        DIASTOLIC[0],
        HEART_RATE[0],
        RESPIRATORY_RATE[0],
        *(code for code, _ in SPO2_CODINGS),
        BODY_TEMPERATURE[0],
        BODY_WEIGHT[0],
        BODY_HEIGHT[0],
    }
)


# US Core CarePlan (6.1.0; fhir-loinc.md §3 names the profile): its required category.
CAREPLAN_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category"

# AuditEvent (base R4; fhir-loinc.md §3). The type is KetaCare's own action (the binding is
# extensible): one code per AuditAction, so nothing is squeezed into a near miss.
AUDIT_ACTION_SYSTEM = f"{KETACARE_BASE}/CodeSystem/audit-action"
AUDIT_OBSERVER = "KetaCare"


# Medications (fhir-loinc.md §2). Only verified codes: esketamine nasal spray's RxNorm clinical
# drug form [X9]; no RxNorm code for racemic ketamine was confirmed, so a ketamine dose carries
# its product's name as text and the product's NDC when the clinic recorded one.
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NDC = "http://hl7.org/fhir/sid/ndc"
ESKETAMINE_NASAL_SPRAY = ("2201623", "esketamine Nasal Spray")
# Routes of administration, SNOMED CT (fhir-loinc.md §2, [X10]) by KetaCare's route code.
SNOMED = "http://snomed.info/sct"
ROUTES: Mapping[str, tuple[str, str]] = {
    "iv": ("47625008", "Intravenous route"),
    "im": ("78421000", "Intramuscular route"),
    "esketamine": ("46713006", "Nasal route"),
    "sublingual": ("37839007", "Sublingual route"),
}
# MedicationAdministration.performer.function (HL7 med-admin-perform-function).
PERFORM_FUNCTION = "http://terminology.hl7.org/CodeSystem/med-admin-perform-function"
PROVENANCE_PARTICIPANT = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
# R4 Signature.type (ValueSet signature-type): ASTM E1762-95 signature purposes.
SIGNATURE_TYPE = "urn:iso-astm:E1762-95:2013"
AUTHOR_SIGNATURE = ("1.2.840.10065.1.12.1.1", "Author's Signature")


def coding(system: str, code: str, display: str = "") -> dict[str, str]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def last_updated(updated_at: datetime.datetime) -> dict[str, str]:
    """A resource's meta: when its record last changed (what `_lastUpdated` searches)."""
    if updated_at.tzinfo is None:
        raise ValueError("updated_at must be an aware datetime.")
    return {"lastUpdated": updated_at.isoformat()}
