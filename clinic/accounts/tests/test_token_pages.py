"""The API token pages: every staff member sees, creates (shown once) and revokes their own
tokens; the clinic administrator sees and revokes everyone's; patients and anonymous visitors
never reach them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.accounts.models import ApiToken
from clinic.accounts.services import api_token_authenticate, api_token_create
from clinic.core.models import AuditEvent

pytestmark = pytest.mark.django_db

OWN = reverse("accounts:token_list")
ALL = reverse("accounts:token_all")
STAFF = ["clinic_admin", "prescriber", "nurse", "therapist", "front_desk", "billing"]


def as_(client, user):
    if user is not None:
        client.force_login(user)
    return client


def revoke_url(token: ApiToken) -> str:
    return reverse("accounts:token_revoke", args=[token.prefix])


# --------------------------------------------------------------------------- permission matrix


@pytest.mark.parametrize("who", ["anonymous", "patient_principal", *STAFF])
def test_own_tokens_page_is_for_every_staff_role(client, actors, who):
    response = as_(client, actors[who]).get(OWN)

    if who == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif who == "patient_principal":
        assert response.status_code == 403
    else:
        assert response.status_code == 200
        assert "Your API tokens" in response.content.decode()


@pytest.mark.parametrize("who", ["anonymous", "patient_principal", *STAFF])
def test_every_staff_members_tokens_page_is_the_clinic_admins(client, actors, who):
    response = as_(client, actors[who]).get(ALL)

    if who == "anonymous":
        assert response.status_code == 302
    elif who == "clinic_admin":
        assert response.status_code == 200
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("who", ["anonymous", "patient_principal", *STAFF])
def test_only_the_owner_or_the_clinic_admin_revokes_a_token(client, actors, who):
    owner = actors["nurse_off_team"]
    token, plain = api_token_create(actor=owner, user=owner)

    response = as_(client, actors[who]).post(revoke_url(token))

    if who == "clinic_admin":
        assert response.status_code == 302
        assert api_token_authenticate(plain) is None
    else:
        # Someone else's token looks as if it did not exist.
        assert response.status_code in {"anonymous": (302,), "patient_principal": (403,)}.get(
            who, (404,)
        )
        assert api_token_authenticate(plain) == owner


@pytest.mark.parametrize("who", ["anonymous", "patient_principal", "nurse"])
def test_no_one_creates_a_token_without_being_staff(client, actors, who):
    as_(client, actors[who]).post(OWN, {"name": "script"})

    expected = 1 if who == "nurse" else 0
    assert ApiToken.objects.count() == expected


def test_revoke_is_post_only(client, nurse):
    token, _ = api_token_create(actor=nurse, user=nurse)
    assert as_(client, nurse).get(revoke_url(token)).status_code == 405


def test_the_admin_page_is_linked_only_for_the_clinic_admin(client, clinic_admin, nurse):
    assert ALL in as_(client, clinic_admin).get(OWN).content.decode()
    client.logout()
    assert ALL not in as_(client, nurse).get(OWN).content.decode()


def test_staff_find_their_tokens_from_the_top_bar(client, nurse):
    home = as_(client, nurse).get(reverse("dashboard:home")).content.decode()
    assert f'href="{OWN}"' in home


# --------------------------------------------------------------------------- create, shown once


def test_a_new_token_is_shown_once_and_works(client, nurse):
    response = as_(client, nurse).post(OWN, {"name": "Lab import"})

    assert response.status_code == 200
    token = ApiToken.objects.get(user=nurse)
    plain = response.context["new_plain"]
    page = response.content.decode()
    assert plain in page and "only time it is shown" in page
    assert response["Cache-Control"] == "no-store, private"
    assert api_token_authenticate(plain) == nurse
    assert token.name == "Lab import"
    # Never again: not on the list, and no part of the page holds the stored digest.
    again = client.get(OWN).content.decode()
    assert plain not in again and token.digest_sha256 not in again + page
    assert f"{token.prefix}…" in again and "Lab import" in again


def test_a_token_needs_a_name(client, nurse):
    response = as_(client, nurse).post(OWN, {"name": "  "})

    assert response.status_code == 200 and response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_the_list_shows_created_last_used_expiry_and_status(client, nurse):
    token, plain = api_token_create(actor=nurse, user=nurse, name="Nightly export")
    api_token_authenticate(plain)
    revoked, _ = api_token_create(actor=nurse, user=nurse, name="Old laptop")
    as_(client, nurse).post(revoke_url(revoked))

    page = client.get(OWN).content.decode()

    for heading in ("Name", "Token", "Created", "Last used", "Expires", "Status"):
        assert f'<th scope="col">{heading}</th>' in page
    assert "Nightly export" in page and "Active" in page and "Revoked" in page
    # A revoked token has no revoke button any more.
    assert revoke_url(token) in page and revoke_url(revoked) not in page


def test_a_staff_member_sees_only_their_own_tokens(client, nurse, therapist):
    theirs, _ = api_token_create(actor=therapist, user=therapist, name="Therapist script")
    page = as_(client, nurse).get(OWN).content.decode()
    assert theirs.prefix not in page and "Therapist script" not in page


# --------------------------------------------------------------------------- revoke


def test_revoking_ones_own_token_from_the_page(client, nurse):
    token, plain = api_token_create(actor=nurse, user=nurse)

    response = as_(client, nurse).post(revoke_url(token), follow=True)

    assert response.redirect_chain[-1][0] == OWN
    assert "revoked" in response.content.decode()
    assert api_token_authenticate(plain) is None
    assert AuditEvent.objects.filter(
        action="token", object_id=token.prefix, actor=nurse, summary__contains="revoked"
    ).exists()


def test_the_clinic_admin_sees_and_revokes_everyones_tokens(client, clinic_admin, nurse, billing):
    nurse_token, plain = api_token_create(actor=nurse, user=nurse, name="Nurse script")
    api_token_create(actor=billing, user=billing, name="Billing export")

    page = as_(client, clinic_admin).get(ALL).content.decode()
    assert "Nurse script" in page and "Billing export" in page
    assert nurse_token.digest_sha256 not in page

    response = client.post(revoke_url(nurse_token), {"from": "all"})
    assert response.status_code == 302 and response["Location"] == ALL
    assert api_token_authenticate(plain) is None


def test_from_all_sends_a_non_admin_back_to_their_own_page(client, nurse):
    token, _ = api_token_create(actor=nurse, user=nurse)
    response = as_(client, nurse).post(revoke_url(token), {"from": "all"})
    assert response["Location"] == OWN


# --------------------------------------------------------------------------- query counts


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_own_list_costs_the_same_queries_for_one_token_or_many(client, nurse):
    api_token_create(actor=nurse, user=nurse)
    as_(client, nurse)
    one = _queries(client, OWN)
    for _ in range(6):
        api_token_create(actor=nurse, user=nurse)
    assert _queries(client, OWN) == one


def test_the_admin_list_costs_the_same_queries_for_one_owner_or_many(
    client, clinic_admin, make_staff
):
    first = make_staff("nurse")
    api_token_create(actor=first, user=first)
    as_(client, clinic_admin)
    one = _queries(client, ALL)
    for role in ("prescriber", "therapist", "billing", "front_desk"):
        user = make_staff(role)
        api_token_create(actor=user, user=user)
    assert _queries(client, ALL) == one
