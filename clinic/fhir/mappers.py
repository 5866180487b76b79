"""Pure mappers from KetaCare's records, as plain facts, to FHIR R4 resources. No Django.

The models are fhir.resources' R4B package: R4B validates R4-shaped resources unchanged, and
the package has no R4 4.0.1 models (fhir-loinc.md §5). Each mapper returns validated models;
`.model_dump(mode="json", exclude_none=True)` gives the JSON a client receives. The /fhir/R4/
views (issue 16) read the database through the apps' selectors, build these facts and call
these mappers, so what a resource says is decided here, once, and tested without a database.

Ids: a resource's id is the record's UUID (architecture.md: the public id in URLs, API and
FHIR); the Observations that make up one scored response take the response's UUID with a
suffix ("-total", "-item-3"), so they stay stable for as long as the response does.
"""

from __future__ import annotations

import datetime
import html
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.auditevent import AuditEvent
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from clinic.assessments.instruments import REGISTRY
from clinic.fhir import terminology as t


@dataclass(frozen=True)
class PatientFacts:
    uuid: str
    mrn: str
    legal_given_name: str
    legal_family_name: str
    date_of_birth: datetime.date
    sex: Literal["female", "male", "other", "unknown"]  # AdministrativeGender already
    legal_middle_name: str = ""
    preferred_name: str = ""
    phone_mobile: str = ""
    phone_home: str = ""
    email: str = ""
    address_line1: str = ""
    address_line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""
    is_active: bool = True


def patient_resource(facts: PatientFacts) -> Patient:
    """US Core Patient (fhir-loinc.md §3): the MRN as identifier, the legal name as the
    official name and a preferred name as the usual one, administrative gender, birth date,
    phones, e-mail and the home address. Blank fields are left out, never sent empty."""
    given = [n for n in (facts.legal_given_name, facts.legal_middle_name) if n]
    official = {"use": "official", "family": facts.legal_family_name, "given": given}
    names: list[dict[str, Any]] = [official]
    if facts.preferred_name:
        names.append({"use": "usual", "given": [facts.preferred_name]})
    telecom = [
        {"system": "phone", "value": value, "use": use}
        for value, use in ((facts.phone_mobile, "mobile"), (facts.phone_home, "home"))
        if value
    ]
    if facts.email:
        telecom.append({"system": "email", "value": facts.email})
    lines = [line for line in (facts.address_line1, facts.address_line2) if line]
    place = {
        "line": lines,
        "city": facts.city,
        "state": facts.region,
        "postalCode": facts.postal_code,
        "country": facts.country,
    }
    address = {key: value for key, value in place.items() if value}
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": facts.uuid,
        "identifier": [
            {
                "use": "usual",
                "type": {"coding": [{"system": t.IDENTIFIER_TYPE, "code": "MR"}]},
                "system": t.MRN_SYSTEM,
                "value": facts.mrn,
            }
        ],
        "active": facts.is_active,
        "name": names,
        "gender": facts.sex,
        "birthDate": facts.date_of_birth.isoformat(),
    }
    if telecom:
        resource["telecom"] = telecom
    if address:
        resource["address"] = [{"use": "home", **address}]
    return Patient.model_validate(resource)


@dataclass(frozen=True)
class ScoredResponseFacts:
    uuid: str
    patient_uuid: str
    instrument_code: str
    answers: tuple[int | None, ...]  # one per item, in order; None when not answered
    total: int | None  # None when incomplete: no total is sent
    taken_at: datetime.datetime
    entered_in_error: bool = False


def _coding(system: str, code: str, display: str = "") -> dict[str, str]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def scored_instrument_observations(facts: ScoredResponseFacts) -> list[Observation]:
    """A scored instrument as US Core screening-assessment Observations (fhir-loinc.md §1.3):
    the panel, whose `hasMember` lists one Observation per answered item and one for the
    total; each item carries its LOINC answer code, the total a number (`valueInteger`, not
    the string of the US Core example). The panel comes first. PHQ-9 and GAD-7 so far: the
    instruments with verified LOINC codes for every part."""
    codes = t.LOINC_INSTRUMENTS.get(facts.instrument_code)
    if codes is None:
        raise ValueError(f"No FHIR mapping for instrument {facts.instrument_code!r} yet.")
    instrument = REGISTRY[facts.instrument_code]
    status = "entered-in-error" if facts.entered_in_error else "final"
    if facts.taken_at.tzinfo is None:
        raise ValueError("taken_at must be an aware datetime.")
    common: dict[str, Any] = {
        "resourceType": "Observation",
        "status": status,
        "category": [
            {
                "coding": [_coding(t.OBSERVATION_CATEGORY, "survey", "Survey")],
            }
        ],
        "subject": {"reference": f"Patient/{facts.patient_uuid}"},
        "effectiveDateTime": facts.taken_at.isoformat(),
    }
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
                    "coding": [_coding(t.LOINC, codes.items[item.number])],
                    "text": item.text,
                },
                "valueCodeableConcept": {
                    "coding": [_coding(t.LOINC, _answer_code(codes, item.number, value), label)],
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
                "code": {"coding": [_coding(t.LOINC, total_code, total_display)]},
                "valueInteger": facts.total,
            }
        )
    panel_code, panel_display = codes.panel
    panel: dict[str, Any] = {
        **common,
        "id": facts.uuid,
        "code": {"coding": [_coding(t.LOINC, panel_code, panel_display)], "text": instrument.name},
        "hasMember": [{"reference": f"Observation/{member['id']}"} for member in members],
        "derivedFrom": [{"reference": f"QuestionnaireResponse/{facts.uuid}"}],
    }
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


@dataclass(frozen=True)
class BodyMeasurementFacts:
    uuid: str
    patient_uuid: str
    measured_on: datetime.date
    weight_kg: Decimal | None = None
    height_cm: Decimal | None = None


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
    common = _vital_common(facts.uuid, facts.patient_uuid)
    common["effectiveDateTime"] = facts.taken_at.isoformat()
    if facts.encounter_uuid:
        common["encounter"] = {"reference": f"Encounter/{facts.encounter_uuid}"}
    found = []
    if facts.systolic_mmhg is not None or facts.diastolic_mmhg is not None:
        components = [
            {
                "code": {"coding": [_coding(t.LOINC, code, display)]},
                "valueQuantity": _quantity(value, unit),
            }
            for (code, display, unit), value in (
                (t.SYSTOLIC, facts.systolic_mmhg),
                (t.DIASTOLIC, facts.diastolic_mmhg),
            )
            if value is not None
        ]
        panel = _vital(common, "bp", [_coding(t.LOINC, *t.BP_PANEL)])
        found.append({**panel, "component": components})
    for suffix, (code, display, unit), value in (
        ("hr", t.HEART_RATE, facts.heart_rate_bpm),
        ("rr", t.RESPIRATORY_RATE, facts.respiratory_rate_per_min),
        ("temp", t.BODY_TEMPERATURE, facts.temperature_c),
    ):
        if value is not None:
            found.append(
                {
                    **_vital(common, suffix, [_coding(t.LOINC, code, display)]),
                    "valueQuantity": _quantity(value, unit),
                }
            )
    if facts.spo2_percent is not None:
        codings = [_coding(t.LOINC, code, display) for code, display in t.SPO2_CODINGS]
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
    common = _vital_common(facts.uuid, facts.patient_uuid)
    common["effectiveDateTime"] = facts.measured_on.isoformat()
    found = [
        {
            **_vital(common, suffix, [_coding(t.LOINC, code, display)]),
            "valueQuantity": _quantity(value, unit),
        }
        for suffix, (code, display, unit), value in (
            ("weight", t.BODY_WEIGHT, facts.weight_kg),
            ("height", t.BODY_HEIGHT, facts.height_cm),
        )
        if value is not None
    ]
    return [Observation.model_validate(resource) for resource in found]


def _vital_common(uuid: str, patient_uuid: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": uuid,
        "status": "final",
        "category": [{"coding": [_coding(t.OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")]}],
        "subject": {"reference": f"Patient/{patient_uuid}"},
    }


@dataclass(frozen=True)
class EncounterFacts:
    """One treatment session: a visit to the clinic's chair."""

    uuid: str
    patient_uuid: str
    kind: str  # what the visit was, in words ("IV infusion treatment session")
    started_at: datetime.datetime
    ended_at: datetime.datetime | None  # None while the patient is still in the chair
    nurse_name: str = ""
    nurse_uuid: str = ""


def encounter_resource(facts: EncounterFacts) -> Encounter:
    """US Core Encounter (fhir-loinc.md §3: one per treatment session, class AMB): in progress
    while the patient is in the chair, finished once discharged or stopped. The assigned nurse
    is its participant."""
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": facts.uuid,
        "status": "in-progress" if facts.ended_at is None else "finished",
        "class": _coding(t.ACT_CODE, "AMB", "ambulatory"),
        "type": [{"text": facts.kind}],
        "subject": {"reference": f"Patient/{facts.patient_uuid}"},
        "period": {"start": facts.started_at.isoformat()},
    }
    if facts.ended_at is not None:
        resource["period"]["end"] = facts.ended_at.isoformat()
    if facts.nurse_uuid:
        resource["participant"] = [
            {
                "individual": {
                    "reference": f"Practitioner/{facts.nurse_uuid}",
                    "display": facts.nurse_name,
                }
            }
        ]
    return Encounter.model_validate(resource)


@dataclass(frozen=True)
class PractitionerFacts:
    uuid: str
    given_name: str
    family_name: str
    username: str
    credentials: str = ""
    npi: str = ""
    is_active: bool = True


def practitioner_resource(facts: PractitionerFacts) -> Practitioner:
    """US Core Practitioner (fhir-loinc.md §3): the NPI when the clinician has one, and always
    KetaCare's own staff identifier (US Core asks for at least one); the name with the
    credentials as its suffix."""
    identifiers = [{"system": t.STAFF_SYSTEM, "value": facts.uuid}]
    if facts.npi:
        identifiers.insert(0, {"system": t.NPI_SYSTEM, "value": facts.npi})
    name: dict[str, Any] = {"use": "official"}
    if facts.family_name:
        name["family"] = facts.family_name
    if facts.given_name:
        name["given"] = [facts.given_name]
    if facts.credentials:
        name["suffix"] = [facts.credentials]
    if "family" not in name and "given" not in name:
        name["text"] = facts.username
    return Practitioner.model_validate(
        {
            "resourceType": "Practitioner",
            "id": facts.uuid,
            "identifier": identifiers,
            "active": facts.is_active,
            "name": [name],
        }
    )


@dataclass(frozen=True)
class ConditionFacts:
    """One entry of the problem list."""

    uuid: str
    patient_uuid: str
    icd10_code: str  # with its dot: "F33.2"
    description: str  # the code set's words when the entry was made
    active: bool
    recorded_at: datetime.datetime
    onset_date: datetime.date | None = None
    resolved_on: datetime.date | None = None


def condition_resource(facts: ConditionFacts) -> Condition:
    """US Core Condition (problems and health concerns; fhir-loinc.md §3): the ICD-10-CM code
    with the words it was recorded with, active or resolved, confirmed, on the problem list."""
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": facts.uuid,
        "clinicalStatus": {
            "coding": [_coding(t.CONDITION_CLINICAL, "active" if facts.active else "resolved")]
        },
        "verificationStatus": {"coding": [_coding(t.CONDITION_VERIFICATION, "confirmed")]},
        "category": [
            {"coding": [_coding(t.CONDITION_CATEGORY, "problem-list-item", "Problem List Item")]}
        ],
        "code": {
            "coding": [_coding(t.ICD10CM, facts.icd10_code, facts.description)],
            "text": facts.description,
        },
        "subject": {"reference": f"Patient/{facts.patient_uuid}"},
        "recordedDate": facts.recorded_at.isoformat(),
    }
    if facts.onset_date is not None:
        resource["onsetDateTime"] = facts.onset_date.isoformat()
    if facts.resolved_on is not None and not facts.active:
        resource["abatementDateTime"] = facts.resolved_on.isoformat()
    return Condition.model_validate(resource)


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
            "code": [_coding(t.LOINC, codes.items[item.number])],
            "text": item.text,
            "type": "choice",
            "required": item.required,
            "answerOption": [
                {
                    "valueCoding": _coding(
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
            "code": [_coding(t.LOINC, *codes.panel)],
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
        coding = _coding(t.LOINC, _answer_code(codes, item.number, value), label)
        items.append(
            {"linkId": str(item.number), "text": item.text, "answer": [{"valueCoding": coding}]}
        )
    if facts.entered_in_error:
        status = "entered-in-error"
    else:
        status = "completed" if facts.total is not None else "in-progress"
    return QuestionnaireResponse.model_validate(
        {
            "resourceType": "QuestionnaireResponse",
            "id": facts.uuid,
            "questionnaire": t.questionnaire_url(facts.instrument_code),
            "status": status,
            "subject": {"reference": f"Patient/{facts.patient_uuid}"},
            "authored": facts.taken_at.isoformat(),
            "item": items,
        }
    )


# Appointment.status (FHIR R4 AppointmentStatus) for each of the schedule's statuses.
APPOINTMENT_STATUS = {
    "booked": "booked",
    "checked_in": "checked-in",
    "completed": "fulfilled",
    "cancelled": "cancelled",
    "no_show": "noshow",
}


@dataclass(frozen=True)
class AppointmentFacts:
    uuid: str
    patient_uuid: str
    status: str  # the schedule's status: booked, checked_in, completed, cancelled, no_show
    kind: str  # in words: "IV infusion"
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    nurse_uuid: str
    nurse_name: str
    status_reason: str = ""


def appointment_resource(facts: AppointmentFacts) -> Appointment:
    """A booked chair time as an Appointment (base R4; US Core has no profile): the patient and
    the nurse as its participants, what it is for, its times, and why it was cancelled."""
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": facts.uuid,
        "status": APPOINTMENT_STATUS[facts.status],
        "serviceType": [{"text": facts.kind}],
        "start": facts.starts_at.isoformat(),
        "end": facts.ends_at.isoformat(),
        "participant": [
            {"actor": {"reference": f"Patient/{facts.patient_uuid}"}, "status": "accepted"},
            {
                "actor": {
                    "reference": f"Practitioner/{facts.nurse_uuid}",
                    "display": facts.nurse_name,
                },
                "status": "accepted",
            },
        ],
    }
    if facts.status_reason and facts.status in ("cancelled", "no_show"):
        resource["cancelationReason"] = {"text": facts.status_reason}
    return Appointment.model_validate(resource)


# CarePlan.status for each of the plan's statuses.
CAREPLAN_STATUS = {
    "draft": "draft",
    "active": "active",
    "completed": "completed",
    "discontinued": "revoked",
}


@dataclass(frozen=True)
class CarePlanFacts:
    """A treatment plan: what it is, how many sessions, and the dose as prescribed."""

    uuid: str
    patient_uuid: str
    status: str  # the plan's status: draft, active, completed, discontinued
    title: str  # the protocol's name
    route: str  # in words: "IV infusion"
    session_count: int
    start_date: datetime.date
    prescriber_uuid: str
    prescriber_name: str
    dose: str = ""  # as prescribed, with its units ("0.50 mg/kg over 40 min")
    ended_on: datetime.date | None = None
    end_reason: str = ""


def careplan_resource(facts: CarePlanFacts) -> CarePlan:
    """US Core CarePlan (fhir-loinc.md §3: the induction or maintenance plan): its required
    narrative states the plan in words, with the `assess-plan` category, the period and the
    prescriber as author."""
    sessions = f"{facts.session_count} session{'' if facts.session_count == 1 else 's'}"
    words = f"{facts.route}: {facts.title}, {sessions}"
    if facts.dose:
        words += f", {facts.dose}"
    if facts.end_reason:
        words += f". Ended: {facts.end_reason}"
    period: dict[str, str] = {"start": facts.start_date.isoformat()}
    if facts.ended_on is not None:
        period["end"] = facts.ended_on.isoformat()
    return CarePlan.model_validate(
        {
            "resourceType": "CarePlan",
            "id": facts.uuid,
            "text": {
                "status": "generated",
                "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{html.escape(words)}</div>',
            },
            "status": CAREPLAN_STATUS[facts.status],
            "intent": "plan",
            "category": [{"coding": [_coding(t.CAREPLAN_CATEGORY, "assess-plan")]}],
            "title": facts.title,
            "description": words,
            "subject": {"reference": f"Patient/{facts.patient_uuid}"},
            "period": period,
            "author": {
                "reference": f"Practitioner/{facts.prescriber_uuid}",
                "display": facts.prescriber_name,
            },
        }
    )


# AuditEvent.action (R4 AuditEventAction: C create, R read, U update, E execute) for each of
# the trail's actions; sign-ins, tokens and refusals are executions of a function.
AUDIT_EVENT_ACTION = {
    "view": "R",
    "list": "R",
    "search": "E",
    "export": "R",
    "create": "C",
    "update": "U",
}


@dataclass(frozen=True)
class AuditFacts:
    """One event of the audit trail, as the trail keeps it (snapshots of who, not links)."""

    id: int
    occurred_at: datetime.datetime
    action: str
    action_label: str
    actor_username: str
    actor_role: str
    summary: str
    object_type: str = ""
    object_id: str = ""
    patient_uuid: str = ""
    actor_practitioner_uuid: str = ""  # when the actor is a clinician served as Practitioner
    channel: str = ""


def audit_event_resource(facts: AuditFacts) -> AuditEvent:
    """An event of the audit trail as an AuditEvent (base R4): KetaCare's action as its type,
    success, or a minor failure (4) for a refusal; the person by reference when they are a
    clinician and by name always; the patient and the record it was about."""
    who: dict[str, Any] = {"display": f"{facts.actor_username} ({facts.actor_role})"}
    if facts.actor_practitioner_uuid:
        who["reference"] = f"Practitioner/{facts.actor_practitioner_uuid}"
    entities: list[dict[str, Any]] = []
    if facts.patient_uuid:
        entities.append({"what": {"reference": f"Patient/{facts.patient_uuid}"}})
    if facts.object_type:
        record: dict[str, Any] = {"what": {"display": facts.object_type}}
        if facts.object_id:
            record["what"]["identifier"] = {"value": facts.object_id}
        entities.append(record)
    resource: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(facts.id),
        "type": _coding(t.AUDIT_ACTION_SYSTEM, facts.action, facts.action_label),
        "action": AUDIT_EVENT_ACTION.get(facts.action, "E"),
        "recorded": facts.occurred_at.isoformat(),
        "outcome": "4" if facts.action == "denied" else "0",
        "outcomeDesc": facts.summary,
        "agent": [{"who": who, "requestor": True}],
        "source": {"observer": {"display": t.AUDIT_OBSERVER}},
    }
    if entities:
        resource["entity"] = entities
    return AuditEvent.model_validate(resource)
