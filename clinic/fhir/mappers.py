"""Pure mappers from KetaCare's records, as plain facts, to FHIR R4 resources. No Django.

The models are fhir.resources' R4B package: R4B validates R4-shaped resources unchanged, and
the package has no R4 4.0.1 models (fhir-loinc.md §5). Each mapper returns validated models;
`.model_dump(mode="json", exclude_none=True)` gives the JSON a client receives. The /fhir/R4/
views (issue 16) read the database through the apps' selectors, build these facts and call
these mappers, so what a resource says is decided here, once, and tested without a database.

Ids: a resource's id is the record's UUID (architecture.md: the public id in URLs, API and
FHIR). Observations and the questionnaires behind them are in observations.py.
"""

from __future__ import annotations

import datetime
import html
from dataclasses import dataclass
from typing import Any, Literal

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.auditevent import AuditEvent
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitioner import Practitioner

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
    updated_at: datetime.datetime | None = None  # the record's last change: meta.lastUpdated


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
    if facts.updated_at is not None:
        resource["meta"] = t.last_updated(facts.updated_at)
    return Patient.model_validate(resource)


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
    updated_at: datetime.datetime | None = None  # the record's last change: meta.lastUpdated


def encounter_resource(facts: EncounterFacts) -> Encounter:
    """US Core Encounter (fhir-loinc.md §3: one per treatment session, class AMB): in progress
    while the patient is in the chair, finished once discharged or stopped. The assigned nurse
    is its participant."""
    resource: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": facts.uuid,
        "status": "in-progress" if facts.ended_at is None else "finished",
        "class": t.coding(t.ACT_CODE, "AMB", "ambulatory"),
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
    if facts.updated_at is not None:
        resource["meta"] = t.last_updated(facts.updated_at)
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
    updated_at: datetime.datetime | None = None  # the record's last change: meta.lastUpdated


def condition_resource(facts: ConditionFacts) -> Condition:
    """US Core Condition (problems and health concerns; fhir-loinc.md §3): the ICD-10-CM code
    with the words it was recorded with, active or resolved, confirmed, on the problem list."""
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": facts.uuid,
        "clinicalStatus": {
            "coding": [t.coding(t.CONDITION_CLINICAL, "active" if facts.active else "resolved")]
        },
        "verificationStatus": {"coding": [t.coding(t.CONDITION_VERIFICATION, "confirmed")]},
        "category": [
            {"coding": [t.coding(t.CONDITION_CATEGORY, "problem-list-item", "Problem List Item")]}
        ],
        "code": {
            "coding": [t.coding(t.ICD10CM, facts.icd10_code, facts.description)],
            "text": facts.description,
        },
        "subject": {"reference": f"Patient/{facts.patient_uuid}"},
        "recordedDate": facts.recorded_at.isoformat(),
    }
    if facts.onset_date is not None:
        resource["onsetDateTime"] = facts.onset_date.isoformat()
    if facts.resolved_on is not None and not facts.active:
        resource["abatementDateTime"] = facts.resolved_on.isoformat()
    if facts.updated_at is not None:
        resource["meta"] = t.last_updated(facts.updated_at)
    return Condition.model_validate(resource)


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
    updated_at: datetime.datetime | None = None  # the record's last change: meta.lastUpdated


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
    if facts.updated_at is not None:
        resource["meta"] = t.last_updated(facts.updated_at)
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
    updated_at: datetime.datetime | None = None  # the record's last change: meta.lastUpdated


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
    meta = {"meta": t.last_updated(facts.updated_at)} if facts.updated_at is not None else {}
    return CarePlan.model_validate(
        {
            **meta,
            "resourceType": "CarePlan",
            "id": facts.uuid,
            "text": {
                "status": "generated",
                "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{html.escape(words)}</div>',
            },
            "status": CAREPLAN_STATUS[facts.status],
            "intent": "plan",
            "category": [{"coding": [t.coding(t.CAREPLAN_CATEGORY, "assess-plan")]}],
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
        "type": t.coding(t.AUDIT_ACTION_SYSTEM, facts.action, facts.action_label),
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
