"""Pure mappers to FHIR Observations and the questionnaires behind them. No Django.

A scored instrument (PHQ-9, GAD-7) as its Questionnaire, the answers as a QuestionnaireResponse
and the scores as US Core screening-assessment Observations; a chair-side reading and a body
measurement as US Core vital-sign Observations. Ids: an Observation that is one part of a
record takes the record's UUID with a suffix ("-total", "-item-3", "-bp", "-weight"), so it
stays stable for as long as the record does; a panel takes the response's UUID alone.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from clinic.assessments.instruments import REGISTRY
from clinic.fhir import terminology as t


@dataclass(frozen=True)
class ScoredResponseFacts:
    uuid: str
    patient_uuid: str
    instrument_code: str
    answers: tuple[int | None, ...]  # one per item, in order; None when not answered
    total: int | None  # None when incomplete: no total is sent
    taken_at: datetime.datetime
    entered_in_error: bool = False
    severity: str = ""  # the instrument's own result word: the C-SSRS screener's risk level
    encounter_uuid: str = ""  # the treatment session an in-session scale was rated in
    updated_at: datetime.datetime | None = None  # the record's last change: meta.lastUpdated
    # False for a total imported from a previous system: no item answers, so no
    # QuestionnaireResponse for a panel to be derived from.
    answers_known: bool = True


def survey_common(facts: ScoredResponseFacts) -> dict[str, Any]:
    """What every Observation of one response shares: status, category survey, the patient,
    when it was taken and, for a scale rated in a session, that session."""
    if facts.taken_at.tzinfo is None:
        raise ValueError("taken_at must be an aware datetime.")
    common: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "entered-in-error" if facts.entered_in_error else "final",
        "category": [{"coding": [t.coding(t.OBSERVATION_CATEGORY, "survey", "Survey")]}],
        "subject": {"reference": f"Patient/{facts.patient_uuid}"},
        "effectiveDateTime": facts.taken_at.isoformat(),
    }
    if facts.encounter_uuid:
        common["encounter"] = {"reference": f"Encounter/{facts.encounter_uuid}"}
    if facts.updated_at is not None:
        common["meta"] = t.last_updated(facts.updated_at)
    return common


def scored_instrument_observations(facts: ScoredResponseFacts) -> list[Observation]:
    """A scored instrument as US Core screening-assessment Observations (fhir-loinc.md §1.3):
    the panel, whose `hasMember` lists one Observation per answered item and one for the
    total; each item carries its LOINC answer code, the total a number (`valueInteger`, not
    the string of the US Core example). The panel comes first. PHQ-9 and GAD-7: the
    instruments with verified LOINC codes for every part (the others:
    instrument_observations.py)."""
    codes = t.LOINC_INSTRUMENTS.get(facts.instrument_code)
    if codes is None:
        raise ValueError(f"No FHIR mapping for instrument {facts.instrument_code!r} yet.")
    instrument = REGISTRY[facts.instrument_code]
    common = survey_common(facts)
    members: list[dict[str, Any]] = []
    for item, value in zip(instrument.items, facts.answers, strict=False):
        if value is None:
            continue
        label = next(o.label for o in item.options if o.value == value)
        members.append(
            {
                **common,
                "id": f"{facts.uuid}-item-{item.number}",
                "code": {
                    "coding": [t.coding(t.LOINC, codes.items[item.number])],
                    "text": item.text,
                },
                "valueCodeableConcept": {
                    "coding": [t.coding(t.LOINC, _answer_code(codes, item.number, value), label)],
                    "text": label,
                },
            }
        )
    if facts.total is not None:
        total_code, total_display = codes.total
        members.append(
            {
                **common,
                "id": f"{facts.uuid}-total",
                "code": {"coding": [t.coding(t.LOINC, total_code, total_display)]},
                "valueInteger": facts.total,
            }
        )
    panel_code, panel_display = codes.panel
    panel: dict[str, Any] = {
        **common,
        "id": facts.uuid,
        "code": {"coding": [t.coding(t.LOINC, panel_code, panel_display)], "text": instrument.name},
        "hasMember": [{"reference": f"Observation/{member['id']}"} for member in members],
    }
    if facts.answers_known:
        panel["derivedFrom"] = [{"reference": f"QuestionnaireResponse/{facts.uuid}"}]
    return [Observation.model_validate(resource) for resource in (panel, *members)]


@dataclass(frozen=True)
class VitalsFacts:
    """One chair-side reading: any of its measures may be missing."""

    uuid: str
    patient_uuid: str
    taken_at: datetime.datetime
    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    heart_rate_bpm: int | None = None
    respiratory_rate_per_min: int | None = None
    spo2_percent: int | None = None
    temperature_c: Decimal | None = None
    encounter_uuid: str = ""  # the treatment session it was taken in
    updated_at: datetime.datetime | None = None  # the record's last change: meta.lastUpdated


@dataclass(frozen=True)
class BodyMeasurementFacts:
    uuid: str
    patient_uuid: str
    measured_on: datetime.date
    weight_kg: Decimal | None = None
    height_cm: Decimal | None = None
    updated_at: datetime.datetime | None = None  # the record's last change: meta.lastUpdated


def _quantity(value: int | Decimal, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": t.UCUM, "code": unit}


def _vital(common: dict[str, Any], suffix: str, codings: list[dict[str, str]]) -> dict[str, Any]:
    return {**common, "id": f"{common['id']}-{suffix}", "code": {"coding": codings}}


def vital_sign_observations(facts: VitalsFacts) -> list[Observation]:
    """A reading as US Core vital-sign Observations (fhir-loinc.md §1.2): the blood pressure
    panel with its systolic and diastolic components, heart rate, respiratory rate, SpO2
    with both the pulse-oximetry and the arterial codings, and temperature; one per measure
    taken, each with its UCUM unit. Ids: the reading's UUID with the measure's suffix."""
    if facts.taken_at.tzinfo is None:
        raise ValueError("taken_at must be an aware datetime.")
    common = _vital_common(facts.uuid, facts.patient_uuid, facts.updated_at)
    common["effectiveDateTime"] = facts.taken_at.isoformat()
    if facts.encounter_uuid:
        common["encounter"] = {"reference": f"Encounter/{facts.encounter_uuid}"}
    found = []
    if facts.systolic_mmhg is not None or facts.diastolic_mmhg is not None:
        components = [
            {
                "code": {"coding": [t.coding(t.LOINC, code, display)]},
                "valueQuantity": _quantity(value, unit),
            }
            for (code, display, unit), value in (
                (t.SYSTOLIC, facts.systolic_mmhg),
                (t.DIASTOLIC, facts.diastolic_mmhg),
            )
            if value is not None
        ]
        panel = _vital(common, "bp", [t.coding(t.LOINC, *t.BP_PANEL)])
        found.append({**panel, "component": components})
    for suffix, (code, display, unit), value in (
        ("hr", t.HEART_RATE, facts.heart_rate_bpm),
        ("rr", t.RESPIRATORY_RATE, facts.respiratory_rate_per_min),
        ("temp", t.BODY_TEMPERATURE, facts.temperature_c),
    ):
        if value is not None:
            found.append(
                {
                    **_vital(common, suffix, [t.coding(t.LOINC, code, display)]),
                    "valueQuantity": _quantity(value, unit),
                }
            )
    if facts.spo2_percent is not None:
        codings = [t.coding(t.LOINC, code, display) for code, display in t.SPO2_CODINGS]
        found.append(
            {
                **_vital(common, "spo2", codings),
                "valueQuantity": _quantity(facts.spo2_percent, t.SPO2_UNIT),
            }
        )
    return [Observation.model_validate(resource) for resource in found]


def body_measurement_observations(facts: BodyMeasurementFacts) -> list[Observation]:
    """Weight and height as US Core body-weight and body-height Observations, dated by the day
    they were measured."""
    common = _vital_common(facts.uuid, facts.patient_uuid, facts.updated_at)
    common["effectiveDateTime"] = facts.measured_on.isoformat()
    found = [
        {
            **_vital(common, suffix, [t.coding(t.LOINC, code, display)]),
            "valueQuantity": _quantity(value, unit),
        }
        for suffix, (code, display, unit), value in (
            ("weight", t.BODY_WEIGHT, facts.weight_kg),
            ("height", t.BODY_HEIGHT, facts.height_cm),
        )
        if value is not None
    ]
    return [Observation.model_validate(resource) for resource in found]


def _vital_common(
    uuid: str, patient_uuid: str, updated_at: datetime.datetime | None
) -> dict[str, Any]:
    common: dict[str, Any] = {
        "resourceType": "Observation",
        "id": uuid,
        "status": "final",
        "category": [{"coding": [t.coding(t.OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")]}],
        "subject": {"reference": f"Patient/{patient_uuid}"},
    }
    if updated_at is not None:
        common["meta"] = t.last_updated(updated_at)
    return common


def _answer_code(codes: t.LoincInstrument, item_number: int, value: int) -> str:
    answers = t.DIFFICULTY_ANSWERS if item_number == codes.difficulty_item else codes.answers
    return answers[value]


def questionnaire_resource(instrument_code: str) -> Questionnaire:
    """The instrument as a Questionnaire (base R4): its LOINC panel code, and each item with its
    LOINC question code, its published words and its answers as LOINC answer codes. The id is
    the instrument's API code; the canonical URL is KetaCare's."""
    codes = t.LOINC_INSTRUMENTS.get(instrument_code)
    if codes is None:
        raise ValueError(f"No FHIR mapping for instrument {instrument_code!r} yet.")
    instrument = REGISTRY[instrument_code]
    items = [
        {
            "linkId": str(item.number),
            "code": [t.coding(t.LOINC, codes.items[item.number])],
            "text": item.text,
            "type": "choice",
            "required": item.required,
            "answerOption": [
                {
                    "valueCoding": t.coding(
                        t.LOINC, _answer_code(codes, item.number, option.value), option.label
                    )
                }
                for option in item.options
            ],
        }
        for item in instrument.items
    ]
    return Questionnaire.model_validate(
        {
            "resourceType": "Questionnaire",
            "id": instrument_code,
            "url": t.questionnaire_url(instrument_code),
            "name": instrument_code.upper().replace("-", ""),
            "title": instrument.name,
            "status": "active",
            "code": [t.coding(t.LOINC, *codes.panel)],
            "description": instrument.stem,
            "item": items,
        }
    )


def questionnaire_response_resource(facts: ScoredResponseFacts) -> QuestionnaireResponse:
    """The answers as given (US Core QuestionnaireResponse, fhir-loinc.md §3): each answered
    item by its linkId with its LOINC answer code; completed when scored in full, in progress
    otherwise; the response's Observations are derived from it."""
    codes = t.LOINC_INSTRUMENTS.get(facts.instrument_code)
    if codes is None:
        raise ValueError(f"No FHIR mapping for instrument {facts.instrument_code!r} yet.")
    if facts.taken_at.tzinfo is None:
        raise ValueError("taken_at must be an aware datetime.")
    instrument = REGISTRY[facts.instrument_code]
    items = []
    for item, value in zip(instrument.items, facts.answers, strict=False):
        if value is None:
            continue
        label = next(o.label for o in item.options if o.value == value)
        coding = t.coding(t.LOINC, _answer_code(codes, item.number, value), label)
        items.append(
            {"linkId": str(item.number), "text": item.text, "answer": [{"valueCoding": coding}]}
        )
    if facts.entered_in_error:
        status = "entered-in-error"
    else:
        status = "completed" if facts.total is not None else "in-progress"
    meta = {"meta": t.last_updated(facts.updated_at)} if facts.updated_at is not None else {}
    return QuestionnaireResponse.model_validate(
        {
            **meta,
            "resourceType": "QuestionnaireResponse",
            "id": facts.uuid,
            "questionnaire": t.questionnaire_url(facts.instrument_code),
            "status": status,
            "subject": {"reference": f"Patient/{facts.patient_uuid}"},
            "authored": facts.taken_at.isoformat(),
            "item": items,
        }
    )
