"""The public consultation form: stored when valid, errors next to fields, a honeypot and a
rate limit against programs, CSRF, and a thank-you page that reveals nothing: not what was
typed, and not whether the person is already a patient."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.core.exceptions import InvalidInput
from clinic.core.models import AuditEvent
from clinic.core.text import CONTROL_CHARACTER_MESSAGE
from clinic.patients.tests.factories import register
from clinic.screening.models import ConsultationRequest
from clinic.screening.services import consultation_request_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


def form_url():
    return reverse("public_site:consultation_request")


def thanks_url():
    return reverse("public_site:consultation_thanks")


def valid(**overrides):
    data = {
        "given_name": "Maribel",
        "family_name": "Achterberg",
        "email": "maribel.achterberg@example.org",
        "phone": "(555) 010-7788",
        "preferred_contact": "email",
        "date_of_birth": "1988-02-14",
        "seeking_help_with": "ptsd",
        "message": "Two antidepressants have not helped.\nEvenings are best.",
        "heard_about": "A friend from my running club",
        "consent_to_contact": "on",
        "website": "",
    }
    data.update(overrides)
    return {name: value for name, value in data.items() if value is not None}


def _errors(response):
    """The fields that show an error next to them."""
    return set(re.findall(r'id="id_(\w+)_error"', response.content.decode()))


# --- The page ------------------------------------------------------------------------------


def test_the_form_opens_without_an_account(client):
    response = client.get(form_url())
    html = response.content.decode()

    assert response.status_code == 200
    assert 'name="csrfmiddlewaretoken"' in html
    assert "no-store" in response["Cache-Control"]
    # The honeypot is hidden from sight and from screen readers, and never autofilled.
    honeypot = re.search(r'<div class="visually-hidden" aria-hidden="true">(.*?)</div>', html, re.S)
    assert honeypot is not None
    assert re.search(r'<input[^>]*name="website"[^>]*autocomplete="off"', honeypot.group(1))
    assert 'tabindex="-1"' in honeypot.group(1)


def test_the_choices_are_the_conditions_treated_and_not_sure_yet(client):
    html = client.get(form_url()).content.decode()
    select = re.search(r'<select name="seeking_help_with".*?</select>', html, re.S).group(0)
    options = re.findall(r'<option value="([^"]*)"', select)

    assert options == [
        "",
        "treatment_resistant_depression",
        "depression_with_suicidal_ideation",
        "ptsd",
        "generalized_anxiety",
        "social_anxiety",
        "chronic_pain",
        "ocd",
        "bipolar_depression",
        "not_sure",
    ]
    assert "Not sure yet" in select


# --- Valid and invalid submissions ---------------------------------------------------------


def test_a_valid_request_is_stored_and_the_visitor_is_redirected_to_thanks(client):
    response = client.post(form_url(), valid(), REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 302
    assert response["Location"] == thanks_url()
    stored = ConsultationRequest.objects.get()
    assert (stored.given_name, stored.family_name) == ("Maribel", "Achterberg")
    assert stored.email == "maribel.achterberg@example.org"
    assert stored.phone == "(555) 010-7788"
    assert stored.preferred_contact == "email"
    assert stored.date_of_birth == datetime.date(1988, 2, 14)
    assert stored.seeking_help_with == "ptsd"
    assert stored.message == "Two antidepressants have not helped.\nEvenings are best."
    assert stored.heard_about == "A friend from my running club"
    assert stored.consent_to_contact is True
    assert stored.status == "new"
    assert stored.patient is None


def test_the_stored_request_is_audited_without_an_actor_and_without_personal_data(client):
    client.post(form_url(), valid(), REMOTE_ADDR="203.0.113.9")
    stored = ConsultationRequest.objects.get()
    event = AuditEvent.objects.get(object_type="consultation_request")

    assert event.action == "create"
    assert event.actor is None and event.actor_username == ""
    assert event.patient is None
    assert event.object_id == str(stored.uuid)
    assert event.ip_address == "203.0.113.9"
    recorded = f"{event.summary} {event.changes}".lower()
    for value in ("maribel", "achterberg", "example.org", "7788", "1988", "ptsd", "running"):
        assert value not in recorded


def test_optional_fields_may_be_left_empty(client):
    response = client.post(
        form_url(),
        valid(email="", preferred_contact="text", date_of_birth="", message="", heard_about=""),
    )

    assert response.status_code == 302
    stored = ConsultationRequest.objects.get()
    assert (stored.email, stored.date_of_birth, stored.message) == ("", None, "")


def test_missing_consent_is_refused_next_to_the_box(client):
    response = client.post(form_url(), valid(consent_to_contact=None))

    assert response.status_code == 200
    assert _errors(response) == {"consent_to_contact"}
    assert "Please agree to be contacted" in response.content.decode()
    assert not ConsultationRequest.objects.exists()


def test_neither_e_mail_nor_phone_is_refused(client):
    response = client.post(form_url(), valid(email="", phone=""))

    assert response.status_code == 200
    assert _errors(response) == {"email", "phone"}
    assert "Give an e-mail address or a phone number" in response.content.decode()
    assert not ConsultationRequest.objects.exists()


@pytest.mark.parametrize(
    ("method", "email", "phone", "message"),
    [
        ("phone", "maribel@example.org", "", "You chose a phone call: please give a phone number."),
        (
            "text",
            "maribel@example.org",
            "",
            "You chose a text message: please give a mobile number.",
        ),
        ("email", "", "(555) 010-7788", "You chose e-mail: please give an e-mail address."),
    ],
)
def test_a_preferred_method_without_its_contact_detail_is_refused(
    client, method, email, phone, message
):
    response = client.post(form_url(), valid(preferred_contact=method, email=email, phone=phone))

    assert response.status_code == 200
    assert _errors(response) == {"preferred_contact"}
    assert message in response.content.decode()
    assert not ConsultationRequest.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"given_name": ""}, "given_name"),
        ({"family_name": "   "}, "family_name"),
        ({"email": "maribel@"}, "email"),
        ({"phone": "call me maybe"}, "phone"),
        ({"phone": "123"}, "phone"),
        ({"preferred_contact": ""}, "preferred_contact"),
        ({"preferred_contact": "pigeon"}, "preferred_contact"),
        ({"seeking_help_with": ""}, "seeking_help_with"),
        ({"seeking_help_with": "everything"}, "seeking_help_with"),
        ({"date_of_birth": "14/02/1988x"}, "date_of_birth"),
        ({"heard_about": "x" * 201}, "heard_about"),
    ],
)
def test_each_invalid_field_is_marked_and_nothing_is_stored(client, overrides, field):
    response = client.post(form_url(), valid(**overrides))

    assert response.status_code == 200
    assert _errors(response) == {field}
    assert not ConsultationRequest.objects.exists()


def test_a_date_of_birth_in_the_future_is_refused(client):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = client.post(form_url(), valid(date_of_birth=tomorrow.isoformat()))

    assert _errors(response) == {"date_of_birth"}
    assert "cannot be in the future" in response.content.decode()
    assert not ConsultationRequest.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("given_name", "Mari\x07bel"),
        ("family_name", "Achter\x1bberg"),
        ("message", "Hello\x1b[31m there"),
        ("heard_about", "web\x0csearch"),
    ],
)
def test_control_characters_are_refused(client, field, value):
    response = client.post(form_url(), valid(**{field: value}))

    assert response.status_code == 200
    assert _errors(response) == {field}
    assert CONTROL_CHARACTER_MESSAGE in response.content.decode()
    assert not ConsultationRequest.objects.exists()


def test_the_service_refuses_control_characters_and_missing_consent_on_its_own():
    data = {
        "given_name": "Maribel",
        "family_name": "Achterberg",
        "email": "maribel@example.org",
        "preferred_contact": "email",
        "seeking_help_with": "not_sure",
        "message": "nul\x00byte",
        "consent_to_contact": False,
    }
    with pytest.raises(InvalidInput) as raised:
        consultation_request_create(data=data)

    assert set(raised.value.errors) == {"message", "consent_to_contact"}
    assert not ConsultationRequest.objects.exists()
    assert not AuditEvent.objects.filter(object_type="consultation_request").exists()


def test_on_an_error_the_visitor_keeps_what_they_typed(client):
    response = client.post(form_url(), valid(consent_to_contact=None))

    assert 'value="Achterberg"' in response.content.decode()


# --- Programs and forgeries ----------------------------------------------------------------


def test_a_filled_honeypot_stores_nothing_but_thanks_all_the_same(client):
    response = client.post(form_url(), valid(website="https://spam.example"), follow=True)

    assert response.redirect_chain == [(thanks_url(), 302)]
    assert response.status_code == 200
    assert "Thank you" in response.content.decode()
    assert not ConsultationRequest.objects.exists()
    assert not AuditEvent.objects.exists()


def test_over_the_rate_limit_a_polite_429_and_nothing_stored(client, settings):
    settings.CONSULTATION_RATE_LIMIT_COUNT = 3
    settings.CONSULTATION_RATE_LIMIT_WINDOW_MIN = 30
    for i in range(3):
        response = client.post(
            form_url(), valid(family_name=f"Family{i}"), REMOTE_ADDR="198.51.100.7"
        )
        assert response.status_code == 302

    refused = client.post(form_url(), valid(family_name="Family3"), REMOTE_ADDR="198.51.100.7")

    assert refused.status_code == 429
    html = refused.content.decode()
    assert "Please try again later" in html and "30 minutes" in html
    assert "Family3" not in html
    assert ConsultationRequest.objects.count() == 3
    # Another address is not held back, and the form itself still opens.
    assert client.post(form_url(), valid(), REMOTE_ADDR="198.51.100.8").status_code == 302
    assert client.get(form_url(), REMOTE_ADDR="198.51.100.7").status_code == 200


def test_honeypot_submissions_count_towards_the_rate_limit(client, settings):
    settings.CONSULTATION_RATE_LIMIT_COUNT = 2
    for _ in range(2):
        client.post(form_url(), valid(website="spam"), REMOTE_ADDR="198.51.100.9")

    assert client.post(form_url(), valid(), REMOTE_ADDR="198.51.100.9").status_code == 429
    assert not ConsultationRequest.objects.exists()


def test_the_rate_limit_follows_the_forwarded_address_only_behind_a_trusted_proxy(client, settings):
    settings.CONSULTATION_RATE_LIMIT_COUNT = 1
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    assert (
        client.post(form_url(), valid(), HTTP_X_FORWARDED_FOR="203.0.113.1", **proxy).status_code
        == 302
    )
    assert (
        client.post(form_url(), valid(), HTTP_X_FORWARDED_FOR="203.0.113.2", **proxy).status_code
        == 302
    )
    assert (
        client.post(form_url(), valid(), HTTP_X_FORWARDED_FOR="203.0.113.1", **proxy).status_code
        == 429
    )


def test_csrf_is_enforced():
    client = Client(enforce_csrf_checks=True)

    forged = client.post(form_url(), valid())
    assert forged.status_code == 403
    assert not ConsultationRequest.objects.exists()

    html = client.get(form_url()).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    genuine = client.post(form_url(), {**valid(), "csrfmiddlewaretoken": token})
    assert genuine.status_code == 302
    assert ConsultationRequest.objects.count() == 1


# --- The thank-you page reveals nothing ----------------------------------------------------


def test_the_thank_you_page_shows_none_of_the_submitted_values(client):
    data = valid()
    response = client.post(form_url(), data, follow=True)
    html = response.content.decode()

    assert response.redirect_chain == [(thanks_url(), 302)]
    assert "Thank you" in html
    for name in ("given_name", "family_name", "email", "phone", "date_of_birth", "heard_about"):
        assert data[name] not in html, name
    assert "02/14/1988" not in html
    for line in data["message"].splitlines():
        assert line not in html
    assert "PTSD" not in html
    assert "010-7788" not in html


_CSRF = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]+(")')


def _journey(data) -> list[tuple[int, str, bytes]]:
    """A new visitor opens the form, sends it and reads the answer; what the browser sees."""
    client = Client()
    seen = []
    opened = client.get(form_url())
    seen.append((opened.status_code, opened.get("Location", ""), opened.content))
    sent = client.post(form_url(), data)
    seen.append((sent.status_code, sent.get("Location", ""), sent.content))
    thanks = client.get(sent["Location"])
    seen.append((thanks.status_code, thanks.get("Location", ""), thanks.content))
    return [(status, location, _CSRF.sub(rb"\1\2", body)) for status, location, body in seen]


def test_an_existing_patient_gets_exactly_the_answer_a_new_person_gets(front_desk):
    register(
        front_desk,
        legal_given_name="Jordan",
        legal_family_name="Rivera",
        date_of_birth=datetime.date(1985, 4, 12),
        email="jordan.rivera@example.org",
        phone_mobile="(555) 010-2233",
    )
    existing = valid(
        given_name="Jordan",
        family_name="Rivera",
        date_of_birth="1985-04-12",
        email="jordan.rivera@example.org",
        phone="(555) 010-2233",
    )
    newcomer = valid(
        given_name="Priya",
        family_name="Venkataraman",
        date_of_birth="1992-11-30",
        email="priya.v@example.org",
        phone="(555) 010-4411",
    )

    assert _journey(existing) == _journey(newcomer)
    assert ConsultationRequest.objects.count() == 2


def test_the_public_pages_never_read_patient_records(client, front_desk):
    register(front_desk, legal_given_name="Maribel", legal_family_name="Achterberg")
    with CaptureQueriesContext(connection) as captured:
        client.get(form_url())
        client.post(form_url(), valid(), follow=True)
        client.post(form_url(), valid(consent_to_contact=None))
        client.post(form_url(), valid(website="spam"), follow=True)

    assert ConsultationRequest.objects.count() == 1
    patient_table = '"patients_patient"'
    assert not [q["sql"] for q in captured.captured_queries if patient_table in q["sql"]]
    assert not [q["sql"] for q in captured.captured_queries if "patients_" in q["sql"]]
