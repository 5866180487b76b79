"""What /fhir/R4/ serves, declared once: the CapabilityStatement is built from this table and
every search accepts exactly the parameters listed here (views.py), so the statement cannot
promise a parameter the server ignores, nor the server accept one the statement hides. Pure:
no Django."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clinic.fhir.terminology import INSTRUMENT_SYSTEM, MRN_SYSTEM

US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # the FHIR search parameter type: token, reference, date, number
    documentation: str = ""


@dataclass(frozen=True)
class Operation:
    name: str
    definition: str  # the OperationDefinition's canonical URL
    documentation: str = ""


@dataclass(frozen=True)
class Served:
    type: str
    interactions: tuple[str, ...]  # read, search-type
    profiles: tuple[str, ...] = ()  # US Core profile names
    documentation: str = ""
    params: tuple[Param, ...] = ()
    operations: tuple[Operation, ...] = ()
    includes: tuple[str, ...] = ()  # the `_include` values a search answers, "Type:param"


PATIENT_REFERENCE = Param("patient", "reference")
# FHIR Bulk Data Access IG: the patient-level export (views_bulk.py).
PATIENT_EXPORT = Operation(
    "export",
    "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
    "Bulk Data export, asynchronous (Prefer: respond-async): GET [base]/Patient/$export for "
    "every patient (the clinic administrator only), or GET [base]/Patient/[id]/$export for one "
    "(the patient's care team), each patient's whole record as the patient's own download "
    "builds it. _outputFormat application/fhir+ndjson only; _type narrows to Patient, "
    "Practitioner, Condition, CarePlan, MedicationRequest, Appointment, Encounter, "
    "MedicationAdministration, QuestionnaireResponse and Observation; _since (a FHIR instant "
    "with its time zone, not in the future) keeps only the resources whose meta.lastUpdated "
    "is at or after it (a Practitioner, which has none, is always kept). Only the requester "
    "may poll, download or cancel; the files need the bearer token and expire (clinic "
    "policy, a day by default). Group-level export is not served: KetaCare has no Group.",
)
COUNT = Param("_count", "number")
DAY_DATE = "eq, ge, gt, le and lt; a plain date is a day in the clinic's time zone."
# Only where the selector can narrow in the database by the record's own updated_at, which is
# also what meta.lastUpdated says.
LAST_UPDATED = Param(
    "_lastUpdated", "date", "When the record itself last changed (meta.lastUpdated). " + DAY_DATE
)

SERVED = (
    Served(
        "Patient",
        ("read", "search-type"),
        ("us-core-patient",),
        params=(
            Param("_id", "token"),
            Param(
                "identifier",
                "token",
                f"The MRN ({MRN_SYSTEM}|value or value), by POST [base]/Patient/_search "
                "only: an MRN is never sent in a URL.",
            ),
            LAST_UPDATED,
            COUNT,
        ),
        operations=(PATIENT_EXPORT,),
    ),
    Served(
        "Practitioner",
        ("read",),
        ("us-core-practitioner",),
        "The clinic's prescribers, nurses and therapists.",
    ),
    Served(
        "Encounter",
        ("read", "search-type"),
        ("us-core-encounter",),
        "One per treatment session. A search names the patient.",
        (
            PATIENT_REFERENCE,
            Param("date", "date", "When the patient was checked in."),
            LAST_UPDATED,
            COUNT,
        ),
        includes=("Encounter:participant",),
    ),
    Served(
        "Appointment",
        ("read", "search-type"),
        documentation="Chair times, every status. A search names the patient.",
        params=(PATIENT_REFERENCE, Param("date", "date", "The start."), LAST_UPDATED, COUNT),
    ),
    Served(
        "Questionnaire",
        ("read",),
        documentation="PHQ-9 (id phq9) and GAD-7 (id gad7), with their LOINC codes.",
    ),
    Served(
        "CodeSystem",
        ("read",),
        documentation=f"KetaCare's instrument codes (id instrument, {INSTRUMENT_SYSTEM}) for "
        "the instruments LOINC has no code for: QIDS-SR16, MADRS, CADSS, MOAA/S and the "
        "modified Aldrete score.",
    ),
    Served(
        "QuestionnaireResponse",
        ("read", "search-type"),
        ("us-core-questionnaireresponse",),
        "PHQ-9 and GAD-7 answers. A search names the patient; responses marked entered in "
        "error are left out of it.",
        (
            PATIENT_REFERENCE,
            Param("questionnaire", "reference"),
            Param("authored", "date", DAY_DATE),
            LAST_UPDATED,
            COUNT,
        ),
    ),
    Served(
        "CarePlan",
        ("search-type",),
        ("us-core-careplan",),
        "The treatment plans. A search names the patient and returns every plan, newest first.",
        (PATIENT_REFERENCE, Param("category", "token"), Param("status", "token"), LAST_UPDATED),
    ),
    Served(
        "AuditEvent",
        ("search-type",),
        documentation="The audit trail, for the clinic administrator: newest first; date "
        "matches whole days in the clinic's time zone.",
        params=(PATIENT_REFERENCE, Param("date", "date"), COUNT),
    ),
    Served(
        "Condition",
        ("search-type",),
        ("us-core-condition-problems-health-concerns",),
        "The problem list (ICD-10-CM). A search names the patient and returns the whole "
        "list; entries marked entered in error are left out.",
        (PATIENT_REFERENCE, Param("clinical-status", "token"), LAST_UPDATED),
    ),
    Served(
        "MedicationAdministration",
        ("read", "search-type"),
        documentation="Every dose, newest first: IV infusions (the period from start to stop, "
        "the first rate, pauses and rate changes in the dosage text), IM injections, each "
        "esketamine device, with lot and expiry; and at-home sublingual doses the patient "
        "logged (the patient as performer). A search names the patient.",
        params=(
            PATIENT_REFERENCE,
            Param(
                "effective-time",
                "date",
                "When the dose was given (an infusion: when it stopped). " + DAY_DATE,
            ),
            Param(
                "_lastUpdated",
                "date",
                "When the dose's own record last changed (meta.lastUpdated): the "
                "administration, a running infusion's session, or the at-home log. " + DAY_DATE,
            ),
            COUNT,
        ),
        includes=("MedicationAdministration:request",),
    ),
    Served(
        "MedicationRequest",
        ("read", "search-type"),
        ("us-core-medicationrequest",),
        "Each treatment plan as the order for its doses (the same id as its CarePlan). A "
        "search names the patient and returns every plan, newest first.",
        (PATIENT_REFERENCE, Param("status", "token"), Param("intent", "token"), LAST_UPDATED),
    ),
    Served(
        "Observation",
        ("read", "search-type"),
        (
            "us-core-observation-screening-assessment",
            "us-core-blood-pressure",
            "us-core-heart-rate",
            "us-core-respiratory-rate",
            "us-core-pulse-oximetry",
            "us-core-body-temperature",
            "us-core-body-weight",
            "us-core-body-height",
        ),
        "category survey: every scored instrument. PHQ-9 and GAD-7 (LOINC) each as its panel, "
        "its answered items and its total; PCL-5 its LOINC panel and total (its item codes are "
        "not verified, so no items); the C-SSRS screener each question asked (LOINC, answers "
        "LA32-8/LA33-6; a question the screener skipped is absent) and its risk level "
        "(93374-7, in words), under a panel named in text; QIDS-SR16 its panel and total, and "
        f"MADRS its panel, items and total, in KetaCare's codes ({INSTRUMENT_SYSTEM}); "
        "CADSS, MOAA/S and the modified Aldrete score one Observation each, the instrument's "
        "local code with its total, and the session as encounter when rated in one. "
        "category vital-signs: the chair-side readings (blood pressure, heart rate, "
        "respiratory rate, SpO2, temperature) and the chart's weights and heights. A search "
        "names the patient and a category or a code (system|code or code). _count counts "
        "responses or readings, each of which brings one or several Observations, so no total "
        "is given. Records marked entered in error are left out.",
        (
            PATIENT_REFERENCE,
            Param("category", "token"),
            Param("code", "token"),
            Param("date", "date", DAY_DATE),
            LAST_UPDATED,
            COUNT,
        ),
        includes=("Observation:encounter",),
    ),
    Served(
        "Provenance",
        ("read", "search-type"),
        ("us-core-provenance",),
        "One per signed treatment session (the same id as its Encounter): when it was signed, "
        "the signing prescriber as author on behalf of the clinic, and as targets the "
        "Encounter, its MedicationAdministrations and the Observations of its valid readings "
        "and in-session scales. The signature has its type, time and signer but no data: the "
        "sign-off is an electronic attestation, not a cryptographic signature. A search names "
        "the patient or a target (Encounter, MedicationAdministration or Observation).",
        (
            PATIENT_REFERENCE,
            Param(
                "target",
                "reference",
                "Encounter/<id>, MedicationAdministration/<id> or Observation/<id>.",
            ),
            COUNT,
        ),
    ),
    Served(
        "Organization",
        ("read",),
        ("us-core-organization",),
        "The clinic (id clinic): what every Provenance's author acts on behalf of.",
    ),
)


def search_params(resource_type: str) -> set[str]:
    """The parameters a search of this type accepts: those declared, `_page` (the paging
    links' own) where `_count` is, and `_include` where the search answers any."""
    served = next(s for s in SERVED if s.type == resource_type)
    names = {param.name for param in served.params}
    if "_count" in names:
        names.add("_page")
    if served.includes:
        names.add("_include")
    return names


def search_includes(resource_type: str) -> frozenset[str]:
    """The `_include` values a search of this type answers."""
    return frozenset(next(s for s in SERVED if s.type == resource_type).includes)


def capability_statement(*, base_url: str, date: str) -> dict[str, Any]:
    resources = []
    for served in SERVED:
        resource: dict[str, Any] = {
            "type": served.type,
            "interaction": [{"code": code} for code in served.interactions],
        }
        if served.profiles:
            resource["supportedProfile"] = [US_CORE + name for name in served.profiles]
        if served.documentation:
            resource["documentation"] = served.documentation
        if served.params:
            resource["searchParam"] = [
                {"name": p.name, "type": p.type}
                | ({"documentation": p.documentation} if p.documentation else {})
                for p in served.params
            ]
        if served.includes:
            resource["searchInclude"] = list(served.includes)
        if served.operations:
            resource["operation"] = [
                {"name": o.name, "definition": o.definition}
                | ({"documentation": o.documentation} if o.documentation else {})
                for o in served.operations
            ]
        resources.append(resource)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "kind": "instance",
        "software": {"name": "KetaCare"},
        "implementation": {"description": "KetaCare FHIR R4 read API", "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "A personal API token (the API tokens page) as the bearer. "
                    "Each token reaches the patients its user reaches in the app.",
                },
                "resource": resources,
            }
        ],
    }
