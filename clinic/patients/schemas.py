from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import WithJsonSchema

from clinic.core.api_pages import DEFAULT_LIMIT, MAX_LIMIT
from clinic.core.api_schemas import RequestBody
from clinic.core.text import MultiLine, OneLine
from clinic.patients.duplicates import PossibleDuplicatePatient

SexCode = Literal["female", "male", "other", "unknown"]

# A JSON number or a plain decimal string ("72.4"): the published schema says exactly what the
# parser takes (pydantic's own says any string, and "" or "1e" would then be refused).
DecimalIn = Annotated[
    Decimal,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number"},
                {"type": "string", "pattern": r"^[+-]?(\d+\.?\d*|\.\d+)$"},
            ]
        }
    ),
]


class _Demographics(Schema):
    legal_middle_name: OneLine = Field("", max_length=100)
    preferred_name: OneLine = Field("", max_length=100)
    pronouns: OneLine = Field("", max_length=40)
    email: OneLine = Field("", max_length=254)
    phone_mobile: OneLine = Field("", max_length=32)
    phone_home: OneLine = Field("", max_length=32)
    address_line1: OneLine = Field("", max_length=200)
    address_line2: OneLine = Field("", max_length=200)
    city: OneLine = Field("", max_length=100)
    region: OneLine = Field("", max_length=100)
    postal_code: OneLine = Field("", max_length=20)
    country: OneLine = Field("US", max_length=2)
    emergency_contact_name: OneLine = Field("", max_length=200)
    emergency_contact_relationship: OneLine = Field("", max_length=60)
    emergency_contact_phone: OneLine = Field("", max_length=32)


class _DemographicsRead(Schema):
    """Plain text on the way out: a value stored before the text policy must still be read."""

    legal_middle_name: str = Field("", max_length=100)
    preferred_name: str = Field("", max_length=100)
    pronouns: str = Field("", max_length=40)
    email: str = Field("", max_length=254)
    phone_mobile: str = Field("", max_length=32)
    phone_home: str = Field("", max_length=32)
    address_line1: str = Field("", max_length=200)
    address_line2: str = Field("", max_length=200)
    city: str = Field("", max_length=100)
    region: str = Field("", max_length=100)
    postal_code: str = Field("", max_length=20)
    country: str = Field("US", max_length=2)
    emergency_contact_name: str = Field("", max_length=200)
    emergency_contact_relationship: str = Field("", max_length=60)
    emergency_contact_phone: str = Field("", max_length=32)


class PatientCreate(RequestBody, _Demographics):
    legal_given_name: OneLine = Field(..., min_length=1, max_length=100)
    legal_family_name: OneLine = Field(..., min_length=1, max_length=100)
    date_of_birth: datetime.date
    sex: SexCode
    confirm_new_patient: bool = Field(
        False,
        description=(
            "Set true only after checking the likely duplicates a 409 "
            "`possible_duplicate_patient` listed: this is a different person, register anyway."
        ),
    )


class DuplicatePatientRef(Schema):
    uuid: uuid.UUID
    mrn: str
    legal_given_name: str
    legal_family_name: str
    date_of_birth: datetime.date
    is_active: bool


class DuplicateCandidateRead(Schema):
    reasons: list[Literal["same name and date of birth", "same e-mail", "same phone number"]]
    patient: DuplicatePatientRef | None = Field(
        description="Who it is, when the caller may open that patient; null otherwise."
    )


class PatientDuplicateConflict(Schema):
    detail: str
    code: Literal["possible_duplicate_patient"]
    field: Literal["confirm_new_patient"]
    candidates: list[DuplicateCandidateRead]


def duplicate_conflict(error: PossibleDuplicatePatient) -> dict:
    """The 409 body of every registration the API offers (a patient, a consultation request
    converted): each likely duplicate with why it matched, and who it is only where the caller
    may open that patient."""
    return {
        "detail": error.message,
        "code": error.code,
        "field": error.field,
        "candidates": [
            {
                "reasons": list(candidate.reasons),
                "patient": {
                    "uuid": candidate.patient.uuid,
                    "mrn": candidate.patient.mrn,
                    "legal_given_name": candidate.patient.legal_given_name,
                    "legal_family_name": candidate.patient.legal_family_name,
                    "date_of_birth": candidate.patient.date_of_birth,
                    "is_active": candidate.patient.is_active,
                }
                if candidate.may_open
                else None,
            }
            for candidate in error.candidates
        ],
    }


class PatientUpdate(RequestBody):
    """Send only the fields that change."""

    # Left out: unchanged. A name, the date of birth and sex can change but never be emptied,
    # so null is refused for them by the schema itself.
    legal_given_name: OneLine = Field(None, min_length=1, max_length=100)  # type: ignore[assignment]
    legal_middle_name: OneLine | None = Field(None, max_length=100)
    legal_family_name: OneLine = Field(None, min_length=1, max_length=100)  # type: ignore[assignment]
    preferred_name: OneLine | None = Field(None, max_length=100)
    pronouns: OneLine | None = Field(None, max_length=40)
    date_of_birth: datetime.date = None  # type: ignore[assignment]
    sex: SexCode = None  # type: ignore[assignment]
    email: OneLine | None = Field(None, max_length=254)
    phone_mobile: OneLine | None = Field(None, max_length=32)
    phone_home: OneLine | None = Field(None, max_length=32)
    address_line1: OneLine | None = Field(None, max_length=200)
    address_line2: OneLine | None = Field(None, max_length=200)
    city: OneLine | None = Field(None, max_length=100)
    region: OneLine | None = Field(None, max_length=100)
    postal_code: OneLine | None = Field(None, max_length=20)
    country: OneLine | None = Field(None, max_length=2)
    emergency_contact_name: OneLine | None = Field(None, max_length=200)
    emergency_contact_relationship: OneLine | None = Field(None, max_length=60)
    emergency_contact_phone: OneLine | None = Field(None, max_length=32)


class StaffRef(Schema):
    uuid: uuid.UUID
    name: str
    role: str


class CareTeamMemberRead(Schema):
    team_role: str
    staff: StaffRef


class PatientSummary(Schema):
    uuid: uuid.UUID
    mrn: str
    legal_given_name: str
    legal_family_name: str
    preferred_name: str
    date_of_birth: datetime.date
    age_years: int
    sex: str
    is_active: bool


class PatientRead(_DemographicsRead, PatientSummary):
    care_team: list[CareTeamMemberRead]
    created_at: datetime.datetime
    updated_at: datetime.datetime


class PatientPage(Schema):
    """A cursor page (clinic/core/api_pages.py), by family then given name."""

    items: list[PatientSummary]
    next_cursor: str | None = Field(
        description="Send it back as `cursor` for the next page; null on the last page."
    )


class PatientSearch(RequestBody):
    query: OneLine = Field(
        ..., min_length=1, max_length=200, description="Name, MRN or date of birth"
    )
    cursor: OneLine | None = Field(
        None,
        max_length=1000,
        description="`next_cursor` of the previous page of this search; left out: the first.",
    )
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Patients per page.")


class CareTeamWrite(RequestBody):
    """The whole care team: a PUT names every slot it replaces (null or [] to empty one), so a
    body that names none of them is refused, not read as "no one"."""

    primary_prescriber: uuid.UUID | None = Field(..., description="null for none")
    prescribers: list[uuid.UUID] = Field(..., max_length=50)
    nurses: list[uuid.UUID] = Field(..., max_length=50)
    therapists: list[uuid.UUID] = Field(..., max_length=50)


class MeasurementCreate(RequestBody):
    measured_on: datetime.date
    weight_kg: DecimalIn | None = Field(None, description="Kilograms, one decimal")
    height_cm: DecimalIn | None = Field(None, description="Centimetres, one decimal")


class MeasurementRead(Schema):
    uuid: uuid.UUID
    measured_on: datetime.date
    weight_kg: Decimal | None
    height_cm: Decimal | None
    recorded_by: str
    entered_in_error: bool
    entered_in_error_reason: str


class MeasurementsRead(Schema):
    current_weight_kg: Decimal | None
    current_height_cm: Decimal | None
    bmi_kg_m2: Decimal | None
    measurements: list[MeasurementRead]


class EnteredInError(RequestBody):
    reason: MultiLine = Field(..., min_length=1, max_length=300)
