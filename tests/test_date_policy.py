"""Plausible dates at every door (issue 13, defect 1).

The reported case first (an assessment dated year 1, or 1900 before the patient's birth,
through the API), then the same bounds on every other date the API and the pages accept, the
clinic's date policy, and proof by introspection that every date field of every form carries
the bounds, so a field added later cannot forget them.
"""

from __future__ import annotations

import datetime
import importlib
import inspect
import pkgutil

import pytest
from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse
from django.utils import timezone

import clinic
from clinic.assessments.models import AssessmentResponse
from clinic.core.exceptions import InvalidInput
from clinic.core.forms import BirthDateField, PlausibleDateField, PlausibleDateTimeField
from clinic.core.parsing import (
    EARLIEST_EVENT_DATE,
    birth_date_problem,
    date_problem,
    event_date,
    event_moment,
    planned_moment,
)
from clinic.core.policy import date_policy
from clinic.patients.models import BodyMeasurement, Patient

JSON = "application/json"
PHQ9 = [2, 2, 2, 2, 1, 1, 2, 0, 0]


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# ------------------------------------------------------------------ the reported case


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("taken_at", "words"),
    [
        ("0001-01-01T00:00:00Z", "before the date of birth (04/12/1985)"),
        ("1900-01-01T00:00:00Z", "before the date of birth (04/12/1985)"),
        ("1999-12-31T12:00:00Z", "too far in the past"),
        ("9999-12-31T23:59:00Z", "future"),
        (None, None),
    ],
)
def test_an_assessment_through_the_api_is_dated_plausibly(taken_at, words, patient, nurse):
    body = {"instrument": "phq9", "answers": PHQ9}
    if taken_at:
        body["taken_at"] = taken_at
    response = _client(nurse).post(
        f"/api/v1/patients/{patient.uuid}/assessments", body, content_type=JSON
    )
    if words is None:
        assert response.status_code == 201
        return
    assert response.status_code == 422, response.content
    assert words in response.content.decode()
    assert not AssessmentResponse.objects.exists()


@pytest.mark.django_db
def test_an_assessment_is_never_dated_before_the_patient_was_born(patient, nurse):
    Patient.objects.filter(pk=patient.pk).update(date_of_birth=datetime.date(2005, 6, 1))
    response = _client(nurse).post(
        f"/api/v1/patients/{patient.uuid}/assessments",
        {"instrument": "phq9", "answers": PHQ9, "taken_at": "2004-01-01T10:00:00Z"},
        content_type=JSON,
    )
    assert response.status_code == 422
    assert "before the date of birth (06/01/2005)" in response.content.decode()


@pytest.mark.django_db
def test_a_naive_taken_at_is_refused_not_guessed(patient, nurse):
    response = _client(nurse).post(
        f"/api/v1/patients/{patient.uuid}/assessments",
        {"instrument": "phq9", "answers": PHQ9, "taken_at": "2024-01-01T10:00:00"},
        content_type=JSON,
    )
    assert response.status_code == 422


# ------------------------------------------------------------------ other API dates


@pytest.mark.django_db
@pytest.mark.parametrize("measured_on", ["0001-01-01", "1900-01-01", "1985-04-11", "9999-12-31"])
def test_a_measurement_is_dated_between_birth_and_today(measured_on, patient, nurse):
    response = _client(nurse).post(
        f"/api/v1/patients/{patient.uuid}/measurements",
        {"measured_on": measured_on, "weight_kg": "80.0"},
        content_type=JSON,
    )
    assert response.status_code == 422, response.content
    assert not BodyMeasurement.objects.filter(patient=patient).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("date_of_birth", ["0001-01-01", "1850-01-01", "9999-12-31"])
def test_a_date_of_birth_is_plausible_on_create_and_update(date_of_birth, front_desk, patient):
    client = _client(front_desk)
    body = {
        "legal_given_name": "Rowan",
        "legal_family_name": "Achterberg",
        "date_of_birth": date_of_birth,
        "sex": "male",
    }
    assert client.post("/api/v1/patients", body, content_type=JSON).status_code == 422
    response = client.patch(
        f"/api/v1/patients/{patient.uuid}", {"date_of_birth": date_of_birth}, content_type=JSON
    )
    assert response.status_code == 422
    patient.refresh_from_db()
    assert patient.date_of_birth == datetime.date(1985, 4, 12)


@pytest.mark.django_db
@pytest.mark.parametrize("start_date", ["0001-01-01", "1999-12-31", "9999-12-31"])
def test_a_schedule_calculation_starts_on_a_plausible_date(start_date, nurse):
    response = _client(nurse).post(
        "/api/v1/protocols/iv-induction-3x-weekly/schedule",
        {"start_date": start_date},
        content_type=JSON,
    )
    assert response.status_code == 422, response.content


# ------------------------------------------------------------------ query strings


@pytest.mark.django_db
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_list_pages_survive_an_odd_date_in_the_query_string(day, clinic_admin):
    client = _client(clinic_admin)
    for url in (
        reverse("scheduling:calendar") + f"?date={day}",
        reverse("core:audit_list") + f"?date_from={day}&date_to={day}",
        reverse("controlled_substances:ledger") + f"?date_from={day}&date_to={day}",
    ):
        response = client.get(url)
        assert response.status_code == 200, url


# ------------------------------------------------------------------ the shared helpers


TODAY = datetime.date(2031, 6, 2)
NOW = datetime.datetime(2031, 6, 2, 12, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("value", "kwargs", "problem"),
    [
        (datetime.date(1, 1, 1), {}, "too far in the past"),
        (datetime.date(1999, 12, 31), {}, "too far in the past"),
        (EARLIEST_EVENT_DATE, {}, ""),
        (TODAY, {}, ""),
        (TODAY + datetime.timedelta(days=1), {}, "in the future"),
        (TODAY + datetime.timedelta(days=30), {"days_ahead": 30}, ""),
        (TODAY + datetime.timedelta(days=31), {"days_ahead": 30}, "too far ahead"),
        (datetime.date(9999, 12, 31), {"days_ahead": 3650}, "too far ahead"),
        (datetime.date(2010, 1, 1), {"born_on": datetime.date(2011, 1, 1)}, "date of birth"),
    ],
)
def test_date_problem(value, kwargs, problem):
    found = date_problem(value, today=TODAY, **kwargs)
    assert (problem in found) if problem else found == ""


def test_event_date_refuses_what_is_not_a_date():
    with pytest.raises(InvalidInput):
        event_date("day", "2031-06-02", today=TODAY)
    with pytest.raises(InvalidInput):
        event_date("day", NOW, today=TODAY)
    assert event_date("day", TODAY, today=TODAY) == TODAY


def test_event_moment_refuses_a_time_before_birth():
    with pytest.raises(InvalidInput) as error:
        event_moment(
            "taken_at",
            datetime.datetime(2010, 1, 1, 12, tzinfo=datetime.UTC),
            now=NOW,
            born_on=datetime.date(2011, 1, 1),
        )
    assert "date of birth" in error.value.errors["taken_at"][0]


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (NOW + datetime.timedelta(days=3650), True),
        (NOW + datetime.timedelta(days=3651), False),
        (datetime.datetime(9999, 12, 31, tzinfo=datetime.UTC), False),
        (datetime.datetime(1, 1, 1, tzinfo=datetime.UTC), False),
    ],
)
def test_planned_moment_is_bounded_by_the_booking_horizon(value, ok):
    if ok:
        assert planned_moment("at", value, now=NOW) == value
    else:
        with pytest.raises(InvalidInput):
            planned_moment("at", value, now=NOW)


@pytest.mark.parametrize(
    ("born", "problem"),
    [
        (datetime.date(1906, 6, 2), ""),
        (datetime.date(1905, 1, 1), "over 125"),
        (datetime.date(1, 1, 1), "over 125"),
        (TODAY + datetime.timedelta(days=1), "future"),
    ],
)
def test_birth_date_problem(born, problem):
    found = birth_date_problem(born, today=TODAY)
    assert (problem in found) if problem else found == ""


def test_the_date_policy_is_a_clinic_setting(settings):
    assert date_policy().oldest_patient_age_years == 125
    settings.CLINIC_POLICY = {"dates": {"oldest_patient_age_years": 110, "booking_days_ahead": 90}}
    assert date_policy().oldest_patient_age_years == 110
    assert "over 110" in birth_date_problem(datetime.date(1920, 1, 1), today=TODAY)
    settings.CLINIC_POLICY = {"dates": {"booking_days_ahead": 0}}
    with pytest.raises(ImproperlyConfigured):
        date_policy()
    settings.CLINIC_POLICY = {"dates": {"booking_years": 1}}
    with pytest.raises(ImproperlyConfigured):
        date_policy()


# ------------------------------------------------------------------ every form date field

BOUNDED = (PlausibleDateField, PlausibleDateTimeField, BirthDateField)


def _form_classes():
    for info in pkgutil.walk_packages(clinic.__path__, "clinic."):
        if ".tests" in info.name or ".migrations" in info.name or ".management" in info.name:
            continue
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__:
                yield cls


def test_every_form_date_field_is_bounded():
    missing = [
        f"{cls.__module__}.{cls.__qualname__}.{name}"
        for cls in _form_classes()
        for name, field in cls.base_fields.items()
        if isinstance(field, forms.DateField | forms.DateTimeField)
        and not isinstance(field, BOUNDED)
    ]
    assert missing == [], "Use PlausibleDateField, PlausibleDateTimeField or BirthDateField"


def test_no_form_creates_an_unbounded_date_field():
    """Fields built in a form's __init__ are not in base_fields: read the source too."""
    from pathlib import Path

    root = Path(clinic.__file__).parent
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*.py")
        if "tests" not in path.parts and "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "forms.DateField(" in line
        or "forms.DateTimeField(" in line
        or "forms.SplitDateTimeField(" in line
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        (PlausibleDateField(), "0001-01-01", False),
        (PlausibleDateField(), "9999-12-31", False),
        (PlausibleDateField(), "2020-02-29", True),
        (PlausibleDateField(days_ahead="booking_days_ahead"), "9999-12-31", False),
        (BirthDateField(), "0001-01-01", False),
        (BirthDateField(), "1950-03-04", True),
        (PlausibleDateTimeField(), "0001-01-01T00:00", False),
        (PlausibleDateTimeField(), "9999-12-31T23:00", False),
        (PlausibleDateTimeField(days_ahead="booking_days_ahead"), "9999-12-31T23:00", False),
    ],
)
def test_a_form_date_field_refuses_an_implausible_value(field, value, ok):
    if ok:
        field.clean(value)
    else:
        with pytest.raises(forms.ValidationError):
            field.clean(value)


@pytest.mark.django_db
def test_a_page_refuses_a_year_one_assessment(patient, nurse):
    url = reverse("assessments:response_create", args=[patient.uuid, "phq9"])
    data = {f"item_{i}": "0" for i in range(1, 10)} | {
        "timepoint": "unscheduled",
        "taken_at": "0001-01-01T10:00",
    }
    response = _client(nurse).post(url, data)
    assert not AssessmentResponse.objects.exists()
    assert "too far in the past" in response.content.decode()


def test_now_is_not_hard_coded():
    # The bounds move with the clock: today is always accepted by a past-only field.
    PlausibleDateField().clean(timezone.localdate().isoformat())
