"""Helpers shared by the patient API's tests (test_api*.py): a client per user, one call per
endpoint, patients registered through the real service, and the rows an endpoint may write."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.test import Client
from django.utils import timezone

from clinic.accounts.models import User
from clinic.patients import services
from clinic.patients.models import BodyMeasurement, CareTeamMember, Patient

API = "/api/v1/patients"
JSON = "application/json"

NEW_PATIENT = {
    "legal_given_name": "Rowan",
    "legal_family_name": "Achterberg",
    "date_of_birth": "1975-03-02",
    "sex": "male",
}


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def call(client: Client, method: str, path: str, body=None):
    if method == "get":
        return client.get(path)
    return getattr(client, method)(path, body if body is not None else {}, content_type=JSON)


def register(actor: User, **overrides) -> Patient:
    """A patient registered through the real service, as the front desk would."""
    data = {
        "legal_given_name": "Avery",
        "legal_family_name": "Lindqvist",
        "date_of_birth": datetime.date(1980, 5, 17),
        "sex": "female",
        "city": "Saint Paul",
        "phone_mobile": "(555) 010-4477",
        **overrides,
    }
    return services.patient_create(actor=actor, data=data)


def add_member(patient: Patient, staff: User, team_role: str) -> CareTeamMember:
    return CareTeamMember.objects.create(patient=patient, staff=staff, team_role=team_role)


def add_measurement(patient: Patient, by: User, days_ago: int, weight=None, height=None):
    return BodyMeasurement.objects.create(
        patient=patient,
        measured_on=timezone.localdate() - datetime.timedelta(days=days_ago),
        weight_kg=None if weight is None else Decimal(weight),
        height_cm=None if height is None else Decimal(height),
        recorded_by=by,
    )


def db_state() -> dict[str, list[dict]]:
    """Every row and field a patient endpoint may write (the audit trail aside)."""
    return {
        "patients": list(Patient.objects.order_by("pk").values()),
        "care_team": list(CareTeamMember.objects.order_by("pk").values()),
        "measurements": list(BodyMeasurement.objects.order_by("pk").values()),
    }


def error_fields(response) -> list[str]:
    """The last element of each `loc` of a 422's `detail` list."""
    detail = response.json()["detail"]
    assert isinstance(detail, list), detail
    return [str(item["loc"][-1]) for item in detail]


def as_decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def years_before(day: datetime.date, years: int) -> datetime.date:
    # Safe for leap days: `years` is a multiple of four in every use here and the
    # years involved (1960–2139) contain no skipped century leap year.
    return day.replace(year=day.year - years)
