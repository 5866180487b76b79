"""Pure mappers for who signed a record and for whom: Provenance (US Core Provenance) and the
clinic as its Organization (US Core Organization). No Django.

A signed treatment session is one Provenance (its id is the session's UUID): the session's
Encounter and the doses and readings the signature covered are its targets, the signing
prescriber its author, on behalf of the clinic. US Core's provenance-1 requires `onBehalfOf`
when the agent is a Practitioner, and that reference must resolve, so the clinic is served as
one Organization (id "clinic") built from its settings.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.provenance import Provenance

from clinic.fhir import terminology as t

CLINIC_ORGANIZATION_ID = "clinic"


@dataclass(frozen=True)
class ClinicFacts:
    name: str
    phone: str = ""


def organization_resource(facts: ClinicFacts) -> Organization:
    """US Core Organization: the clinic by its name (and telephone when set). No identifier:
    the clinic's own NPI is not configured as such (the billing NPI may be another entity's)."""
    resource: dict[str, Any] = {
        "resourceType": "Organization",
        "id": CLINIC_ORGANIZATION_ID,
        "active": True,
        "name": facts.name,
    }
    if facts.phone:
        resource["telecom"] = [{"system": "phone", "value": facts.phone, "use": "work"}]
    return Organization.model_validate(resource)


@dataclass(frozen=True)
class SignatureFacts:
    """A signed record: when, by whom, and the resources the signature covers."""

    uuid: str
    signed_at: datetime.datetime
    signer_uuid: str
    signer_name: str
    clinic_name: str
    targets: tuple[str, ...]  # references, "Encounter/<id>" first


def provenance_resource(facts: SignatureFacts) -> Provenance:
    """US Core Provenance of a signature: `recorded` is when it was signed; the signer is the
    author agent (a Practitioner, so on behalf of the clinic); and the signature itself, an
    author's signature with its time and signer. The signature carries no `data`: the sign-off
    is an electronic attestation in the app, not a cryptographic signature, and the record's
    SHA-256 is a digest of the signed content, not a signature, so it is not sent as one."""
    if facts.signed_at.tzinfo is None:
        raise ValueError("signed_at must be an aware datetime.")
    if not facts.targets:
        raise ValueError("A Provenance has at least one target.")
    signer = {"reference": f"Practitioner/{facts.signer_uuid}", "display": facts.signer_name}
    clinic = {
        "reference": f"Organization/{CLINIC_ORGANIZATION_ID}",
        "display": facts.clinic_name,
    }
    return Provenance.model_validate(
        {
            "resourceType": "Provenance",
            "id": facts.uuid,
            "target": [{"reference": target} for target in facts.targets],
            "recorded": facts.signed_at.isoformat(),
            "agent": [
                {
                    "type": {"coding": [t.coding(t.PROVENANCE_PARTICIPANT, "author", "Author")]},
                    "who": signer,
                    "onBehalfOf": clinic,
                }
            ],
            "signature": [
                {
                    "type": [t.coding(t.SIGNATURE_TYPE, *t.AUTHOR_SIGNATURE)],
                    "when": facts.signed_at.isoformat(),
                    "who": signer,
                }
            ],
        }
    )
