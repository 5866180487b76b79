"""Oversized bodies, too many fields and too many files are a 413 (issue 13, defect 3): the
API's envelope under /api/, the 413 page elsewhere, a warning in the log, never a traceback,
and nothing saved."""

from __future__ import annotations

import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from clinic.accounts.services import api_token_create
from clinic.patients.models import Patient

pytestmark = pytest.mark.django_db

PATIENTS = "/api/v1/patients"


@pytest.fixture
def small_limits(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 20
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2


def no_traceback(caplog) -> None:
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def assert_envelope_413(response) -> None:
    assert response.status_code == 413, response.content
    body = response.json()
    assert set(body) == {"detail", "code"} and body["code"] == "request_too_large"


@pytest.fixture
def api_client(front_desk) -> Client:
    _, plain = api_token_create(actor=None, user=front_desk, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {plain}")


def test_api_oversized_json_body_is_413(api_client, small_limits, caplog):
    body = {"legal_given_name": "R" * 20_000, "legal_family_name": "A"}
    response = api_client.post(PATIENTS, body, content_type="application/json")

    assert_envelope_413(response)
    assert "larger" in response.json()["detail"]
    assert not Patient.objects.exists()
    no_traceback(caplog)


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_api_oversized_body_is_413_for_every_method(api_client, small_limits, method):
    response = getattr(api_client, method)(
        f"{PATIENTS}/00000000-0000-0000-0000-000000000000",
        '{"x": "' + "y" * 20_000 + '"}',
        content_type="application/json",
    )
    assert_envelope_413(response)


def test_api_too_many_form_fields_is_413(api_client, small_limits, caplog):
    fields = {f"f{n}": "x" for n in range(50)}
    assert_envelope_413(api_client.post(PATIENTS, fields))
    no_traceback(caplog)


def test_api_too_many_files_is_413(api_client, small_limits):
    files = {f"file{n}": SimpleUploadedFile(f"{n}.txt", b"x") for n in range(5)}
    response = api_client.post(PATIENTS, files)
    assert_envelope_413(response)
    assert "files" in response.json()["detail"]


def test_api_anonymous_oversized_body_is_413_not_500(small_limits):
    response = Client().post(PATIENTS, {"x": "y" * 20_000}, content_type="application/json")
    assert_envelope_413(response)


def test_page_oversized_form_is_the_413_page(client, front_desk, small_limits, caplog):
    client.force_login(front_desk)
    response = client.post(reverse("patients:patient_create"), {"legal_given_name": "R" * 20_000})

    assert response.status_code == 413
    assert "Too much at once" in response.content.decode()
    assert not Patient.objects.exists()
    no_traceback(caplog)


def test_page_too_many_fields_is_the_413_page(client, front_desk, small_limits):
    client.force_login(front_desk)
    fields = {f"f{n}": "x" for n in range(50)}
    response = client.post(reverse("patients:patient_create"), fields)
    assert response.status_code == 413
    assert "more fields" in response.content.decode()


def test_page_too_many_files_is_the_413_page(client, front_desk, small_limits):
    client.force_login(front_desk)
    files = {f"file{n}": SimpleUploadedFile(f"{n}.txt", b"x") for n in range(5)}
    response = client.post(reverse("patients:patient_create"), files)
    assert response.status_code == 413
    assert "more files" in response.content.decode()


def test_sign_in_page_oversized_body_is_413_for_anonymous_visitors(small_limits):
    response = Client().post(reverse("accounts:login"), {"username": "u" * 20_000, "password": "x"})
    assert response.status_code == 413
    assert "Too much at once" in response.content.decode()


def test_a_body_within_the_limits_is_untouched(client, front_desk, small_limits):
    client.force_login(front_desk)
    response = client.post(reverse("accounts:login"), {"username": "x", "password": "y"})
    assert response.status_code in (200, 302)


def test_api_too_many_query_fields_is_413(api_client, small_limits):
    query = "&".join(f"q{n}=x" for n in range(50))
    assert_envelope_413(api_client.get(f"{PATIENTS}?{query}"))


def test_page_too_many_query_fields_is_the_413_page(client, front_desk, small_limits):
    client.force_login(front_desk)
    query = "&".join(f"q{n}=x" for n in range(50))
    response = client.get(f"{reverse('patients:patient_list')}?{query}")
    assert response.status_code == 413 and "more fields" in response.content.decode()


BROKEN_MULTIPART = "multipart/form-data"  # no boundary: Django cannot parse it


def test_api_unreadable_multipart_body_is_400_in_the_envelope(api_client, caplog):
    response = api_client.post(PATIENTS, "--x\r\ngarbage", content_type=BROKEN_MULTIPART)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "bad_request"
    no_traceback(caplog)


def test_page_unreadable_multipart_body_is_the_400_page(client, front_desk):
    client.force_login(front_desk)
    response = client.post(
        reverse("patients:patient_create"), "--x\r\ngarbage", content_type=BROKEN_MULTIPART
    )
    assert response.status_code == 400
    assert "Could not read the request" in response.content.decode()


def test_djangos_own_400_page_renders(client, settings):
    # Django's handler400 (a disallowed host, for one) renders 400.html without a request.
    settings.DEBUG = False
    response = client.get("/", HTTP_HOST="not-this-clinic.example")
    assert response.status_code == 400
    assert "Could not read the request" in response.content.decode()


def test_api_a_multipart_body_to_a_json_operation_is_refused_not_500(api_client, caplog):
    response = api_client.post(PATIENTS, {"legal_given_name": "Rowan"})  # multipart
    assert 400 <= response.status_code < 500, response.content
    assert "code" in response.json()
    no_traceback(caplog)
