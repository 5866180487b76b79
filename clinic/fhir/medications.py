"""Pure mappers for the doses given and the plans that ordered them: MedicationAdministration
and MedicationRequest (fhir-loinc.md §3). No Django.

Every route is served together, so a client never reads "no ketamine given" for a patient
whose doses went in another way: an IV infusion (its start, pauses, rate changes and stop in
the dosage's words, the period from start to stop), an IM injection, each esketamine device,
and the at-home sublingual doses the patient logged (the patient as performer).

Ids: a dose's id is its record's UUID (a chair-side administration or an at-home log); a
MedicationRequest's id is its treatment plan's UUID, the same id as its CarePlan.
"""

from __future__ import annotations

import datetime
import html
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.medicationadministration import MedicationAdministration
from fhir.resources.R4B.medicationrequest import MedicationRequest

from clinic.fhir import terminology as t

ESKETAMINE = "esketamine"


@dataclass(frozen=True)
class DoseFacts:
    """One dose as recorded: at the chair by a nurse, or at home by the patient."""

    uuid: str
    patient_uuid: str
    route: str  # KetaCare's route code: iv, im, esketamine, sublingual
    medication_name: str  # the product's name, or the plan's words for an at-home dose
    given_mg: Decimal | None  # None while an infusion runs, or when none ran in
    given_at: datetime.datetime | None  # for an infusion, when it was stopped; None while it runs
    infusion_started_at: datetime.datetime | None = None
    course: tuple[str, ...] = ()  # an infusion's events in words, in order
    rate_ml_per_h: Decimal | None = None  # an infusion's first rate
    lot_number: str = ""
    lot_expiry: datetime.date | None = None
    ndc: str = ""
    im_site: str = ""  # in words
    device_number: int | None = None
    encounter_uuid: str = ""
    performer_uuid: str = ""  # the nurse; empty with taken_at_home
    performer_name: str = ""
    taken_at_home: bool = False
    plan_uuid: str = ""
    note: str = ""
    # completed; in-progress while an infusion runs; not-done when it was stopped before any
    # ran in (R4 MedicationAdministration status), with the reason in status_reason.
    status: str = "completed"
    status_reason: str = ""
    planned_mg: Decimal | None = None  # a running infusion's planned dose, in its words
    drawn_mg: Decimal | None = None
    updated_at: datetime.datetime | None = None  # the record's last change: meta.lastUpdated


def _medication_code(route: str, name: str, ndc: str) -> dict[str, Any]:
    codings = []
    if route == ESKETAMINE:
        codings.append(t.coding(t.RXNORM, *t.ESKETAMINE_NASAL_SPRAY))
    if ndc:
        codings.append(t.coding(t.NDC, ndc))
    concept: dict[str, Any] = {"text": name}
    if codings:
        concept["coding"] = codings
    return concept


def _route(route: str) -> dict[str, Any]:
    code, display = t.ROUTES[route]
    return {"coding": [t.coding(t.SNOMED, code, display)]}


def _mg(amount: Decimal) -> dict[str, Any]:
    return {"value": amount, "unit": "mg", "system": t.UCUM, "code": "mg"}


def _amount(facts: DoseFacts) -> str:
    if facts.given_mg is not None:
        return f"{facts.given_mg.normalize():f} mg"
    running = facts.status == "in-progress"
    words = "Infusion running" if running else "Stopped before any was given"
    if facts.planned_mg is not None:
        words += f", {facts.planned_mg.normalize():f} mg planned"
    if facts.drawn_mg is not None:
        words += f", {facts.drawn_mg.normalize():f} mg drawn"
    return words + ":"


def _dose_words(facts: DoseFacts) -> str:
    words = f"{_amount(facts)} {t.ROUTES[facts.route][1].lower()}"
    if facts.device_number is not None:
        words += f", device {facts.device_number}"
    if facts.im_site:
        words += f", {facts.im_site}"
    if facts.course:
        course = "; ".join(facts.course)
        words += ". " + course[:1].upper() + course[1:]
    if facts.taken_at_home:
        words += ". Taken at home, recorded by the patient"
    return words


def medication_administration_resource(facts: DoseFacts) -> MedicationAdministration:
    """A dose given: the medication (with its lot and expiry in a contained Medication when the
    ledger knows them, the REMS form needs the lot), the amount in mg, the route, the time (an
    infusion's period from start to stop), who gave it and the session it belongs to. A
    running infusion is `in-progress`, without an amount or an end; one stopped before any ran
    in is `not-done`, with the reason: neither may read as "nothing happened"."""
    resource: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": facts.uuid,
        "status": facts.status,
        "subject": {"reference": f"Patient/{facts.patient_uuid}"},
        "dosage": {"text": _dose_words(facts), "route": _route(facts.route)},
    }
    if facts.given_mg is not None:
        resource["dosage"]["dose"] = _mg(facts.given_mg)
    if facts.status_reason:
        resource["statusReason"] = [{"text": facts.status_reason}]
    medication = _medication_code(facts.route, facts.medication_name, facts.ndc)
    if facts.lot_number:
        batch: dict[str, Any] = {"lotNumber": facts.lot_number}
        if facts.lot_expiry is not None:
            batch["expirationDate"] = facts.lot_expiry.isoformat()
        resource["contained"] = [
            {"resourceType": "Medication", "id": "given", "code": medication, "batch": batch}
        ]
        resource["medicationReference"] = {"reference": "#given", "display": facts.medication_name}
    else:
        resource["medicationCodeableConcept"] = medication
    if facts.infusion_started_at is not None:
        # A running infusion's period has no end yet.
        period = {"start": facts.infusion_started_at.isoformat()}
        if facts.given_at is not None:
            period["end"] = facts.given_at.isoformat()
        resource["effectivePeriod"] = period
    elif facts.given_at is not None:
        resource["effectiveDateTime"] = facts.given_at.isoformat()
    else:
        raise ValueError("A dose given at once has its time.")
    if facts.rate_ml_per_h is not None:
        resource["dosage"]["rateQuantity"] = {
            "value": facts.rate_ml_per_h,
            "unit": "mL/h",
            "system": t.UCUM,
            "code": "mL/h",
        }
    if facts.taken_at_home:
        performer = {"reference": f"Patient/{facts.patient_uuid}"}
    elif facts.performer_uuid:
        performer = {
            "reference": f"Practitioner/{facts.performer_uuid}",
            "display": facts.performer_name,
        }
    else:
        performer = {}
    if performer:
        resource["performer"] = [
            {
                "function": {"coding": [t.coding(t.PERFORM_FUNCTION, "performer", "Performer")]},
                "actor": performer,
            }
        ]
    if facts.encounter_uuid:
        resource["context"] = {"reference": f"Encounter/{facts.encounter_uuid}"}
    if facts.plan_uuid:
        resource["request"] = {"reference": f"MedicationRequest/{facts.plan_uuid}"}
    if facts.note:
        resource["note"] = [{"text": facts.note}]
    if facts.updated_at is not None:
        resource["meta"] = t.last_updated(facts.updated_at)
    return MedicationAdministration.model_validate(resource)


# MedicationRequest.status for each of the plan's statuses (R4 medicationrequest-status).
MEDICATION_REQUEST_STATUS = {
    "draft": "draft",
    "active": "active",
    "completed": "completed",
    "discontinued": "stopped",
}


@dataclass(frozen=True)
class MedicationOrderFacts:
    """A treatment plan as the order for its doses."""

    uuid: str
    patient_uuid: str
    status: str  # the plan's status
    route: str  # KetaCare's route code
    title: str
    authored_at: datetime.datetime
    prescriber_uuid: str
    prescriber_name: str
    session_count: int
    fixed_dose_mg: int | None = None  # esketamine, or an at-home sublingual dose
    dose_mg_per_kg: Decimal | None = None
    infusion_minutes: int | None = None
    maintenance_interval_weeks: int | None = None
    start_date: datetime.date | None = None
    ended_on: datetime.date | None = None
    end_reason: str = ""
    updated_at: datetime.datetime | None = None  # the record's last change: meta.lastUpdated


def plan_dose_words(
    fixed_dose_mg: int | None, dose_mg_per_kg: Decimal | None, infusion_minutes: int | None
) -> str:
    """A plan's dose as prescribed, with its units ("56 mg", "0.50 mg/kg over 40 min"); empty
    when each session's dose is set on its own. The CarePlan and the MedicationRequest say it
    the same way."""
    if fixed_dose_mg is not None:
        return f"{fixed_dose_mg} mg"
    if dose_mg_per_kg is None:
        return ""
    dose = f"{dose_mg_per_kg} mg/kg"
    if infusion_minutes:
        dose += f" over {infusion_minutes} min"
    return dose


def _order_words(facts: MedicationOrderFacts) -> str:
    route = t.ROUTES[facts.route][1].lower()
    dose = (
        plan_dose_words(facts.fixed_dose_mg, facts.dose_mg_per_kg, facts.infusion_minutes)
        or "dose set per session"
    )
    sessions = f"{facts.session_count} session{'' if facts.session_count == 1 else 's'}"
    words = f"{facts.title}: {dose}, {route}, {sessions}"
    if facts.maintenance_interval_weeks:
        words += f", then every {facts.maintenance_interval_weeks} weeks"
    return words


def medication_request_resource(facts: MedicationOrderFacts) -> MedicationRequest:
    """US Core MedicationRequest (fhir-loinc.md §3): the plan's order for its doses, with the
    dose (fixed mg for esketamine, mg/kg for weight-based ketamine), the route, the number of
    sessions and the prescriber; the whole order in words as the dosage text."""
    dosage: dict[str, Any] = {"text": _order_words(facts), "route": _route(facts.route)}
    if facts.fixed_dose_mg is not None:
        dosage["doseAndRate"] = [{"doseQuantity": _mg(Decimal(facts.fixed_dose_mg))}]
    elif facts.dose_mg_per_kg is not None:
        dosage["doseAndRate"] = [
            {
                "doseQuantity": {
                    "value": facts.dose_mg_per_kg,
                    "unit": "mg/kg",
                    "system": t.UCUM,
                    "code": "mg/kg",
                }
            }
        ]
    repeat: dict[str, Any] = {"count": facts.session_count}
    if facts.infusion_minutes:
        repeat |= {"duration": facts.infusion_minutes, "durationUnit": "min"}
    if facts.start_date is not None:
        bounds = {"start": facts.start_date.isoformat()}
        if facts.ended_on is not None:
            bounds["end"] = facts.ended_on.isoformat()
        repeat["boundsPeriod"] = bounds
    dosage["timing"] = {"repeat": repeat}
    name = "Esketamine nasal spray" if facts.route == ESKETAMINE else "Ketamine"
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": facts.uuid,
        "text": {
            "status": "generated",
            "div": f'<div xmlns="http://www.w3.org/1999/xhtml">'
            f"{html.escape(_order_words(facts))}</div>",
        },
        "status": MEDICATION_REQUEST_STATUS[facts.status],
        "intent": "order",
        "reportedBoolean": False,
        "medicationCodeableConcept": _medication_code(facts.route, name, ""),
        "subject": {"reference": f"Patient/{facts.patient_uuid}"},
        "authoredOn": facts.authored_at.isoformat(),
        "requester": {
            "reference": f"Practitioner/{facts.prescriber_uuid}",
            "display": facts.prescriber_name,
        },
        "dosageInstruction": [dosage],
    }
    if facts.end_reason:
        resource["statusReason"] = {"text": facts.end_reason}
    if facts.updated_at is not None:
        resource["meta"] = t.last_updated(facts.updated_at)
    return MedicationRequest.model_validate(resource)
