"""Likely duplicate patients (issue 11): one check for every way a patient is registered — the
registration page, the API and the conversion of a consultation request — that warns, lists who
may already be the person (named and linked only where the user may open them) and registers
only after an explicit "register anyway".

Expected values: the matching rules of clinic/patients/duplicates.py's docstring (same name and
date of birth, same e-mail, same phone digits), docs/permissions.md (`patient.create`: clinic
admin and front desk; `patient.directory` lets both open every patient).
"""

from __future__ import annotations

import datetime
import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.core.exceptions import Conflict
from clinic.core.models import AuditEvent
from clinic.patients import services
from clinic.patients.duplicates import (
    MATCH_EMAIL,
    MATCH_NAME_AND_BIRTH,
    MATCH_PHONE,
    PossibleDuplicatePatient,
    find_duplicates,
    phone_digits,
)
from clinic.patients.models import Patient, PatientQuerySet
from clinic.patients.tests.factories import register
from tests.helpers import ACTOR_ORDER
from tests.helpers import client_as as _client
from tests.helpers import status_word as _status_word

pytestmark = pytest.mark.django_db

API = "/api/v1/patients"
BORN = datetime.date(1985, 4, 12)

# The person at the desk, typed exactly as the registered patient (factories.register): the
# issue's "exact duplicate (same name and date of birth)".
SAME_PERSON = {
    "legal_given_name": "Jordan",
    "legal_family_name": "Rivera",
    "date_of_birth": BORN.isoformat(),
    "sex": "female",
    "country": "US",
}


@pytest.fixture
def jordan(front_desk):
    return register(front_desk, email="jordan.rivera@example.org")


def _finds(actor, **typed):
    values = {
        "given_name": "",
        "family_name": "",
        "date_of_birth": None,
        "email": "",
        "phones": (),
        **typed,
    }
    return [(c.patient.pk, c.reasons, c.may_open) for c in find_duplicates(actor=actor, **values)]


# --------------------------------------------------------------------------- the one check


@pytest.mark.parametrize(
    ("typed", "reasons"),
    [
        (
            {"given_name": "Jordan", "family_name": "Rivera", "date_of_birth": BORN},
            (MATCH_NAME_AND_BIRTH,),
        ),
        # Case and spaces do not make another person.
        (
            {"given_name": " jordan ", "family_name": "RIVERA", "date_of_birth": BORN},
            (MATCH_NAME_AND_BIRTH,),
        ),
        ({"email": "Jordan.Rivera@example.org"}, (MATCH_EMAIL,)),
        # The same digits however written, with or without the country code.
        ({"phones": ["555.010.2233"]}, (MATCH_PHONE,)),
        ({"phones": ["+1 (555) 010-2233"]}, (MATCH_PHONE,)),
        ({"phones": ["", "5550102233"]}, (MATCH_PHONE,)),
    ],
)
def test_a_likely_duplicate_is_found_and_says_why(front_desk, jordan, typed, reasons):
    assert _finds(front_desk, **typed) == [(jordan.pk, reasons, True)]


@pytest.mark.parametrize(
    "typed",
    [
        # The same name born on another day is another person.
        {"given_name": "Jordan", "family_name": "Rivera", "date_of_birth": BORN.replace(year=1990)},
        # A name without a date of birth is not enough to say.
        {"given_name": "Jordan", "family_name": "Rivera"},
        # The same last seven digits under another area code; too few digits to identify.
        {"phones": ["(444) 010-2233"]},
        {"phones": ["0102233"[:6]]},
        {},
    ],
)
def test_no_false_positives(front_desk, jordan, typed):
    assert _finds(front_desk, **typed) == []


def test_a_patient_the_actor_may_not_open_is_found_but_not_openable(jordan, make_staff):
    """A nurse reaches only her care team's patients: the duplicate is still a duplicate."""
    nurse = make_staff("nurse", username="nurse_dup")
    found = _finds(nurse, given_name="Jordan", family_name="Rivera", date_of_birth=BORN)
    assert found == [(jordan.pk, (MATCH_NAME_AND_BIRTH,), False)]


def test_the_check_takes_two_queries_however_many_match(front_desk):
    for index in range(5):
        register(front_desk, legal_given_name=f"Jordan{index}", email=f"j{index}@example.org")
    with CaptureQueriesContext(connection) as queries:
        found = find_duplicates(
            actor=front_desk,
            given_name="x",
            family_name="y",
            date_of_birth=None,
            phones=["(555) 010-2233"],
        )
    assert len(found) == 5 and len(queries) == 2


def test_phone_digits():
    assert phone_digits("+1 (555) 010-4477 x12") == "5550104477"
    assert phone_digits("555-010-4477") == "5550104477"


# --------------------------------------------------------------------------- the service


def test_registering_a_likely_duplicate_is_refused_until_confirmed(front_desk, jordan):
    data = {**SAME_PERSON, "date_of_birth": BORN}
    with pytest.raises(PossibleDuplicatePatient) as caught:
        services.patient_register(actor=front_desk, data=data)
    assert isinstance(caught.value, Conflict)
    assert (caught.value.code, caught.value.field) == (
        "possible_duplicate_patient",
        "confirm_new_patient",
    )
    assert [c.patient for c in caught.value.candidates] == [jordan]
    assert Patient.objects.count() == 1
    patient = services.patient_register(actor=front_desk, data=data, confirm_new_patient=True)
    assert Patient.objects.count() == 2
    override = AuditEvent.objects.filter(object_id=str(patient.uuid), action="create").latest("id")
    assert "different person from 1 likely duplicate" in override.summary
    assert override.changes["possible_duplicates"]["after"] == [
        {"patient": str(jordan.uuid), "reasons": [MATCH_NAME_AND_BIRTH]}
    ]


def test_another_person_registers_without_a_question(front_desk, jordan):
    data = {**SAME_PERSON, "legal_given_name": "Noor", "date_of_birth": BORN}
    assert services.patient_register(actor=front_desk, data=data).legal_given_name == "Noor"


# --------------------------------------------------------------------------- the page


def _register_page(client, data):
    return client.post(reverse("patients:patient_create"), data)


# What each actor gets posting an exact duplicate on /patients/new/ (patient.create: the clinic
# admin and the front desk; both may open every patient, so both see who it is).
# fmt: off
PAGE_MATRIX = {
    #              anon     portal admin presc nurse ther desk bill off-team ×3
    "duplicate": ["login", 403, "warned", 403, 403, 403, "warned", 403, 403, 403, 403],
}
# fmt: on


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        pytest.param(who, expected, id=who)
        for who, expected in zip(ACTOR_ORDER, PAGE_MATRIX["duplicate"], strict=True)
    ],
)
def test_the_registration_page_warns_about_an_exact_duplicate(
    client, jordan, actors, who, expected
):
    before = Patient.objects.count()
    got = _register_page(_client(client, actors[who]), SAME_PERSON)
    assert Patient.objects.count() == before, "nothing is registered without a confirmation"
    if expected != "warned":
        assert _status_word(got) == expected
        assert b"Rivera" not in got.content
        return
    assert got.status_code == 200
    html = got.content.decode()
    assert "This person may already be registered" in html
    chart = reverse("patients:patient_chart", args=[jordan.uuid])
    assert f'<a href="{chart}">{jordan.display_name}</a>' in html
    assert f"MRN {jordan.mrn}, born 04/12/1985" in html
    assert MATCH_NAME_AND_BIRTH in html
    assert 'id="id_confirm_new_patient_error"' in html
    assert "Register a new patient anyway" in html
    assert 'value="Rivera"' in html  # what was typed is kept


def test_register_anyway_registers_and_audits_the_override(client, front_desk, jordan):
    client.force_login(front_desk)
    got = _register_page(client, {**SAME_PERSON, "confirm_new_patient": "on"})
    assert got.status_code == 302
    assert Patient.objects.filter(legal_family_name="Rivera").count() == 2
    assert AuditEvent.objects.filter(summary__contains="likely duplicate").count() == 1
    assert (
        AuditEvent.objects.filter(
            action="search", summary="Duplicate check before registering a patient: 1 possible"
        ).exists()
        is False
    )  # confirmed straight away: no list was shown


def test_the_warning_is_audited_as_a_search(client, front_desk, jordan):
    client.force_login(front_desk)
    _register_page(client, SAME_PERSON)
    event = AuditEvent.objects.filter(action="search").latest("id")
    assert event.summary == "Duplicate check before registering a patient: 1 possible"
    assert event.actor == front_desk


def test_a_duplicate_the_user_may_not_open_is_described_without_who_it_is(
    client, front_desk, jordan, monkeypatch
):
    """Were the registering user unable to open the matching patient, the page says why it
    matched and nothing of who it is (no name, MRN, date of birth or link)."""
    monkeypatch.setattr(PatientQuerySet, "visible_to", lambda self, actor: self.none())
    client.force_login(front_desk)
    got = _register_page(client, {**SAME_PERSON, "legal_given_name": "Noor", "email": ""})
    assert got.status_code == 302  # another person: no question
    got = _register_page(client, {**SAME_PERSON, "phone_mobile": "555 010 2233"})
    html = got.content.decode()
    assert "A patient record you may not open" in html and MATCH_PHONE in html
    assert jordan.mrn not in html and str(jordan.uuid) not in html
    assert "04/12/1985" not in html


# --------------------------------------------------------------------------- the API


def _api(user, body):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client.post(API, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("patient_principal", 401),
        ("clinic_admin", 409),
        ("prescriber", 403),
        ("nurse", 403),
        ("therapist", 403),
        ("front_desk", 409),
        ("billing", 403),
        ("prescriber_off_team", 403),
    ],
)
def test_the_api_refuses_an_exact_duplicate_with_409(jordan, actors, who, status):
    before = Patient.objects.count()
    got = _api(actors[who], SAME_PERSON)
    assert got.status_code == status, got.content
    assert Patient.objects.count() == before
    body = got.json()
    if status != 409:
        assert "candidates" not in body
        return
    assert body == {
        "detail": "A patient with matching details is already registered. Open that patient, "
        "or confirm that this is a different person.",
        "code": "possible_duplicate_patient",
        "field": "confirm_new_patient",
        "candidates": [
            {
                "reasons": [MATCH_NAME_AND_BIRTH],
                "patient": {
                    "uuid": str(jordan.uuid),
                    "mrn": jordan.mrn,
                    "legal_given_name": "Jordan",
                    "legal_family_name": "Rivera",
                    "date_of_birth": "1985-04-12",
                    "is_active": True,
                },
            }
        ],
    }


def test_the_api_registers_once_the_caller_confirms(front_desk, jordan):
    got = _api(front_desk, {**SAME_PERSON, "confirm_new_patient": True})
    assert got.status_code == 201, got.content
    assert "confirm_new_patient" not in got.json()
    assert Patient.objects.filter(legal_family_name="Rivera").count() == 2


def test_the_api_hides_who_a_duplicate_is_from_a_caller_who_may_not_open_it(
    front_desk, jordan, monkeypatch
):
    monkeypatch.setattr(PatientQuerySet, "visible_to", lambda self, actor: self.none())
    got = _api(front_desk, SAME_PERSON)
    assert got.status_code == 409
    assert got.json()["candidates"] == [{"reasons": [MATCH_NAME_AND_BIRTH], "patient": None}]
    assert "Rivera" not in json.dumps(got.json()["candidates"])


def test_the_openapi_document_lists_the_409_and_the_flag(client):
    document = client.get("/api/v1/openapi.json").json()
    create = document["paths"]["/api/v1/patients"]["post"]
    assert "409" in create["responses"]
    schema = document["components"]["schemas"]["PatientCreate"]["properties"]
    assert schema["confirm_new_patient"]["default"] is False
