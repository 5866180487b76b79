"""The portal's "Your API tokens" page (/portal/account/api-tokens/): the patient makes a token,
sees it once, finds it listed by its prefix only, and revokes it; another patient's token is the
same 404 as none. Only the signed-in patient opens the page (clinic/portal/access.py: anonymous
visitors sign in, staff and an account without a patient record are refused); a patient with
two-step sign-in on gives their code first (accounts/middleware.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.accounts.models import ApiToken, User
from clinic.accounts.services import (
    api_token_create,
    patient_api_token_authenticate,
    patient_api_token_create,
)
from clinic.core.models import AuditEvent
from clinic.patients.models import Patient
from tests.helpers import ACTOR_ORDER, client_as, status_word

pytestmark = pytest.mark.django_db

PAGE = "/portal/account/api-tokens/"
# fmt: off
#         anon     portal admin presc nurse ther desk bill off-team presc/nurse/ther
OTHERS = ["login", 403,  403,  403,  403,  403, 403, 403, 403, 403, 403]
# fmt: on


@pytest.fixture
def jordan(patient):
    user = User.objects.create_user(username="jordan", password="x" * 12, role="patient")
    Patient.objects.filter(pk=patient.pk).update(user=user)
    return user


@pytest.fixture
def casey(front_desk):
    from clinic.patients.tests.factories import register

    other = register(front_desk, legal_given_name="Casey", legal_family_name="Morgan")
    user = User.objects.create_user(username="casey", password="x" * 12, role="patient")
    Patient.objects.filter(pk=other.pk).update(user=user)
    return user


@pytest.mark.parametrize(
    ("who", "expected"), list(zip(ACTOR_ORDER, OTHERS, strict=True)), ids=ACTOR_ORDER
)
def test_only_the_patient_opens_the_page(client, actors, who, expected):
    # `patient_principal` is an account without a patient record: refused as on every page.
    assert status_word(client_as(client, actors[who]).get(PAGE)) == expected


def test_a_token_is_made_shown_once_and_listed_by_its_prefix(client, jordan, settings):
    settings.API_TOKEN_EXPIRY_DAYS = 90
    client.force_login(jordan)
    page = client.get(PAGE).content.decode()
    assert "You have no tokens." in page
    assert "90 days after you make it" in page
    assert "cannot open the clinic staff" in page

    response = client.post(PAGE, {"name": "Mood app"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=jordan)
    assert token.audience == "patient" and token.name == "Mood app"
    plain = response.context["new_plain"]
    assert plain in response.content.decode()
    assert patient_api_token_authenticate(plain) == jordan
    assert AuditEvent.objects.filter(action="token", object_id=token.prefix).count() == 1

    again = client.get(PAGE).content.decode()
    assert plain not in again
    assert f"{token.prefix}…" in again and "Mood app" in again


def test_a_token_needs_a_name(client, jordan):
    client.force_login(jordan)
    response = client.post(PAGE, {"name": "  "})
    assert response.status_code == 200
    assert "Give the token a name, so you know it again." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_patient_revokes_their_token(client, jordan):
    token, plain = patient_api_token_create(actor=jordan, name="Mood app")
    client.force_login(jordan)
    response = client.post(reverse("portal:api_token_revoke", args=[token.prefix]))
    assert response.status_code == 302 and response["Location"] == PAGE
    assert patient_api_token_authenticate(plain) is None
    page = client.get(PAGE).content.decode()
    assert "is revoked. It no longer works." in page and "Revoked" in page
    assert AuditEvent.objects.filter(
        action="token", object_id=token.prefix, summary__contains="revoked"
    ).exists()


def test_another_patients_or_a_staff_token_is_not_found(client, jordan, casey, nurse):
    theirs, theirs_plain = patient_api_token_create(actor=casey, name="Casey's app")
    staff, staff_plain = api_token_create(actor=nurse, user=nurse, name="Script")
    client.force_login(jordan)
    for token in (theirs, staff):
        response = client.post(reverse("portal:api_token_revoke", args=[token.prefix]))
        assert response.status_code == 404
    assert not ApiToken.objects.filter(revoked_at__isnull=False).exists()
    assert "Casey's app" not in client.get(PAGE).content.decode()


def test_with_two_step_sign_in_on_the_code_comes_first(client, jordan):
    TOTPDevice.objects.create(user=jordan, name="phone", confirmed=True)
    client.force_login(jordan)  # signed in with the password, no code given yet
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:second_factor_verify")
    assert client.post(PAGE, {"name": "Mood app"}).status_code == 302
    assert not ApiToken.objects.exists()


def test_the_account_page_links_to_the_tokens(client, jordan):
    client.force_login(jordan)
    page = client.get(reverse("portal:account")).content.decode()
    assert f'href="{PAGE}"' in page
