"""The sign-in page says whom it is for: patients (the public site's "Patient sign-in", and any
portal page that asks a visitor to sign in) or staff. Whichever page is used, each lands on
their own home, and signing out leads back to their own sign-in page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from clinic.accounts.models import User
from clinic.patients.models import Patient
from conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db

PATIENT_LOGIN = "/accounts/login/patient/"
STAFF_LOGIN = "/accounts/login/"


def _title_and_heading(response) -> tuple[str, str]:
    html = response.content.decode()
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip()
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S).group(1).strip()
    return title, heading


@pytest.fixture
def patient_user(patient):
    user = User.objects.create_user(username="jordan", password=TEST_PASSWORD, role="patient")
    Patient.objects.filter(pk=patient.pk).update(user=user)
    return user


def test_the_patient_sign_in_page_says_it_is_for_patients(client):
    response = client.get(PATIENT_LOGIN)

    assert response.status_code == 200
    assert _title_and_heading(response) == ("Patient sign-in · KetaCare", "Patient sign-in")
    html = response.content.decode()
    assert "Sign in to your patient portal" in html
    assert f'<a href="{reverse("portal:password_reset")}">Forgot your password?</a>' in html
    assert f'<a href="{STAFF_LOGIN}">staff sign-in</a>' in html
    assert "Staff sign-in" not in html


def test_the_staff_sign_in_page_says_it_is_for_staff_and_points_patients_to_theirs(client):
    response = client.get(STAFF_LOGIN)

    assert _title_and_heading(response) == ("Staff sign-in · KetaCare", "Staff sign-in")
    html = response.content.decode()
    assert f'<a href="{PATIENT_LOGIN}">sign in to your patient portal</a>' in html
    assert "Ask your clinic administrator" in html


def test_a_portal_page_sends_a_visitor_to_sign_in_worded_for_patients(client):
    response = client.get(reverse("portal:appointments"), follow=True)

    assert response.redirect_chain[-1][0] == f"{STAFF_LOGIN}?next=/portal/appointments/"
    assert _title_and_heading(response)[1] == "Patient sign-in"


def test_the_public_site_links_patients_to_the_patient_page(client):
    html = client.get("/").content.decode()

    assert f'<a href="{PATIENT_LOGIN}">Patient sign-in</a>' in html
    assert f'<a href="{STAFF_LOGIN}">Staff sign-in</a>' in html


@pytest.mark.parametrize("page", [PATIENT_LOGIN, STAFF_LOGIN])
def test_a_patient_lands_in_the_portal_and_staff_on_their_home_from_either_page(
    client, patient_user, nurse, page
):
    response = client.post(page, {"username": "jordan", "password": TEST_PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("portal:home")
    assert response.status_code == 200

    client.post(reverse("accounts:logout"))
    response = client.post(page, {"username": "nurse", "password": TEST_PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard:home")
    assert "Patient sign-in" not in response.content.decode()


def test_signing_out_leads_each_back_to_their_own_sign_in_page(client, patient_user, nurse):
    client.force_login(patient_user)
    assert client.post(reverse("accounts:logout")).headers["Location"] == PATIENT_LOGIN

    client.force_login(nurse)
    assert client.post(reverse("accounts:logout")).headers["Location"] == STAFF_LOGIN


def test_a_wrong_password_on_the_patient_page_stays_on_the_patient_page(client, patient_user):
    response = client.post(PATIENT_LOGIN, {"username": "jordan", "password": "wrong-password"})

    assert response.status_code == 200
    assert _title_and_heading(response)[1] == "Patient sign-in"
    assert "That username and password do not match" in response.content.decode()
