"""What `_include` adds to a search at /fhir/R4/ (issue 16): the resources the matches refer
to, read in bulk through the owning apps' actor-checked, audited selectors (one query and one
audit event per kind, however many rows the page holds), never one read per row. Each
includer takes (actor, patient, the matches as JSON, the values asked, purpose)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from clinic.accounts import selectors as accounts
from clinic.accounts.models import User
from clinic.fhir.http import dump
from clinic.fhir.mappers import encounter_resource, practitioner_resource
from clinic.fhir.medications import medication_request_resource
from clinic.fhir.records import encounter_facts, medication_order_facts, practitioner_facts
from clinic.patients.models import Patient
from clinic.protocols import selectors as protocols
from clinic.treatment_sessions.selectors_vital_signs import sessions_named

Resource = dict[str, Any]


def _ids(references: Iterable[str | None], resource_type: str) -> list[str]:
    prefix = f"{resource_type}/"
    return list(dict.fromkeys(r[len(prefix) :] for r in references if r and r.startswith(prefix)))


def encounter_participants(
    actor: User, patient: Patient, found: list[Resource], wanted: set[str], purpose: str
) -> list[Resource]:
    """Encounter:participant: the Practitioners the Encounters name."""
    references = (
        participant.get("individual", {}).get("reference")
        for encounter in found
        for participant in encounter.get("participant", [])
    )
    uuids = _ids(references, "Practitioner")
    if not uuids:
        return []
    users = accounts.practitioners_get(actor=actor, practitioner_uuids=uuids, purpose=purpose)
    return [dump(practitioner_resource(practitioner_facts(user))) for user in users]


def administration_requests(
    actor: User, patient: Patient, found: list[Resource], wanted: set[str], purpose: str
) -> list[Resource]:
    """MedicationAdministration:request: the MedicationRequests (the plans) the doses name.
    A patient has a few plans, read whole in one query and kept to those named."""
    uuids = set(
        _ids((dose.get("request", {}).get("reference") for dose in found), "MedicationRequest")
    )
    if not uuids:
        return []
    plans = protocols.plans_read(actor=actor, patient=patient, purpose=purpose)
    return [
        dump(medication_request_resource(medication_order_facts(plan, str(patient.uuid))))
        for plan in plans
        if str(plan.uuid) in uuids
    ]


def observation_encounters(
    actor: User, patient: Patient, found: list[Resource], wanted: set[str], purpose: str
) -> list[Resource]:
    """Observation:encounter: the Encounters (sessions) the readings and in-session scales
    were taken in."""
    uuids = _ids((o.get("encounter", {}).get("reference") for o in found), "Encounter")
    if not uuids:
        return []
    sessions = sessions_named(actor=actor, patient=patient, session_uuids=uuids, purpose=purpose)
    return [dump(encounter_resource(encounter_facts(s, str(patient.uuid)))) for s in sessions]


def last_updated_within(
    found: list[Resource],
    bounds: tuple[datetime.datetime | None, datetime.datetime | None],
) -> list[Resource]:
    """The resources of a whole, unpaged list (a patient's plans, problem list) whose
    meta.lastUpdated lies in [after, before): the list was read whole anyway, so narrowing it
    here answers exactly what narrowing in the database would."""
    after, before = bounds
    if after is None and before is None:
        return found
    kept = []
    for resource in found:
        updated = datetime.datetime.fromisoformat(resource["meta"]["lastUpdated"])
        if (after is None or updated >= after) and (before is None or updated < before):
            kept.append(resource)
    return kept
