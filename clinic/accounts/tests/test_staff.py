"""Staff management (accounts/staff.py, views_staff.py): the invitation and its link, roles,
deactivation cutting sessions and tokens at once, the last clinic administrator, resetting a
second factor; every change audited with before and after; the pages' permission matrix and
flat query counts."""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.accounts import staff
from clinic.accounts.models import ApiToken, User
from clinic.accounts.services import api_token_create
from clinic.core.exceptions import Conflict, InvalidInput, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.notifications.models import Notification
from conftest import TEST_PASSWORD
from tests.helpers import ACTOR_ORDER, client_as, status_word

pytestmark = pytest.mark.django_db

STRONG = "a-long-Staff-passphrase-42"


def _invite(actor, username="newnurse", **kwargs):
    data = {
        "username": username,
        "email": f"{username}@clinic.example",
        "role": "nurse",
        "first_name": "Robin",
        "last_name": "Lee",
        "credentials": "RN",
    }
    data.update(kwargs)
    return staff.staff_invite(actor=actor, **data)


def _link_of(notification: Notification) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/welcome/[^\s]+/)", notification.body)
    assert match, notification.body
    return match.group(1)


# --- Services ----------------------------------------------------------------------------------


def test_invite_creates_a_passwordless_account_and_queues_the_link(clinic_admin):
    invited = _invite(clinic_admin)

    assert invited.role == "nurse" and invited.is_active
    assert not invited.has_usable_password()
    mail = Notification.objects.get(recipient=invited)
    assert "/accounts/welcome/" in mail.body and invited.username in mail.body
    # The token is in the e-mail only, never in the audit trail.
    token = _link_of(mail).rstrip("/").split("/")[-1]
    assert not AuditEvent.objects.filter(summary__contains=token).exists()
    assert AuditEvent.objects.filter(
        object_id=str(invited.uuid), summary__startswith="Staff invitation e-mailed"
    ).exists()


def test_invite_needs_an_email_and_the_right(clinic_admin, nurse):
    with pytest.raises(InvalidInput):
        _invite(clinic_admin, email="")
    with pytest.raises(PermissionDenied):
        _invite(nurse)
    assert not User.objects.filter(username="newnurse").exists()


def test_the_invitation_link_sets_a_password_once(client, clinic_admin):
    invited = _invite(clinic_admin)
    link = _link_of(Notification.objects.get(recipient=invited))

    response = client.get(link)
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("accounts:staff_invitation_accept")
    page = client.get(reverse("accounts:staff_invitation_accept"))
    assert page.status_code == 200 and b"newnurse" in page.content
    done = client.post(
        reverse("accounts:staff_invitation_accept"),
        {"new_password1": STRONG, "new_password2": STRONG},
    )
    assert done.status_code == 302 and done.headers["Location"] == reverse("accounts:login")
    invited.refresh_from_db()
    assert invited.check_password(STRONG)

    # The same link again: no longer good.
    again = Client()
    again.get(link)
    assert again.get(reverse("accounts:staff_invitation_accept")).status_code == 404


def test_a_weak_password_is_refused_and_a_deactivated_invitee_cannot_use_the_link(
    client, clinic_admin
):
    invited = _invite(clinic_admin)
    link = _link_of(Notification.objects.get(recipient=invited))
    client.get(link)
    weak = client.post(
        reverse("accounts:staff_invitation_accept"),
        {"new_password1": "password", "new_password2": "password"},
    )
    assert weak.status_code == 200
    staff.staff_deactivate(actor=clinic_admin, staff=invited)
    assert client.get(reverse("accounts:staff_invitation_accept")).status_code == 404


def test_after_the_password_the_first_sign_in_asks_for_a_second_factor(
    client, clinic_admin, settings
):
    settings.REQUIRE_STAFF_2FA = True
    invited = _invite(clinic_admin)
    client.get(_link_of(Notification.objects.get(recipient=invited)))
    client.post(
        reverse("accounts:staff_invitation_accept"),
        {"new_password1": STRONG, "new_password2": STRONG},
    )
    client.post(reverse("accounts:login"), {"username": "newnurse", "password": STRONG})
    response = client.get(reverse("dashboard:home"))
    assert response.headers["Location"] == reverse("accounts:second_factor_setup")


def test_role_and_credentials_change_is_audited_before_and_after(clinic_admin, nurse):
    staff.staff_update(
        actor=clinic_admin,
        staff=nurse,
        role="prescriber",
        credentials="NP",
        first_name=nurse.first_name,
        last_name=nurse.last_name,
        email=nurse.email,
    )
    nurse.refresh_from_db()
    assert nurse.role == "prescriber" and nurse.credentials == "NP"
    event = AuditEvent.objects.filter(object_id=str(nurse.uuid), action="update").latest("id")
    assert event.changes == {
        "credentials": {"before": "RN", "after": "NP"},
        "role": {"before": "nurse", "after": "prescriber"},
    }


def test_the_last_clinic_admin_stays(clinic_admin, make_staff):
    with pytest.raises(Conflict):
        staff.staff_deactivate(actor=clinic_admin, staff=clinic_admin)
    with pytest.raises(Conflict):
        staff.staff_update(
            actor=clinic_admin,
            staff=clinic_admin,
            role="nurse",
            credentials="",
            first_name="",
            last_name="",
            email="",
        )
    second = make_staff("clinic_admin", username="admin2")
    # Two admins: one may deactivate the other, but not the last one left.
    staff.staff_deactivate(actor=clinic_admin, staff=second)
    staff.staff_reactivate(actor=clinic_admin, staff=second)
    staff.staff_update(
        actor=second,
        staff=clinic_admin,
        role="billing",
        credentials="",
        first_name="",
        last_name="",
        email="",
    )
    clinic_admin.refresh_from_db()
    with pytest.raises(Conflict):
        # second is now the only active admin; a demoted colleague cannot remove them, and
        # they cannot deactivate themselves.
        staff.staff_deactivate(actor=second, staff=second)
    assert User.objects.filter(role="clinic_admin", is_active=True).count() == 1


def test_deactivation_ends_sessions_and_revokes_tokens_at_once(clinic_admin, nurse, prescriber):
    nurse_browser, prescriber_browser = Client(), Client()
    nurse_browser.force_login(nurse)
    prescriber_browser.force_login(prescriber)
    _, plain = api_token_create(actor=None, user=nurse)
    api_token_create(actor=None, user=prescriber)
    assert nurse_browser.get(reverse("dashboard:home")).status_code == 200

    result = staff.staff_deactivate(actor=clinic_admin, staff=nurse)

    assert result.sessions_ended == 1 and result.tokens_revoked == 1
    assert status_word(nurse_browser.get(reverse("patients:patient_list"))) == "login"
    assert prescriber_browser.get(reverse("patients:patient_list")).status_code == 200
    assert not ApiToken.objects.usable().filter(user=nurse).exists()
    assert ApiToken.objects.usable().filter(user=prescriber).exists()
    api = Client().get("/api/v1/patients", headers={"Authorization": f"Bearer {plain}"})
    assert api.status_code == 401
    assert Session.objects.count() == 1
    event = AuditEvent.objects.filter(object_id=str(nurse.uuid)).latest("id")
    assert event.changes == {"is_active": {"before": True, "after": False}}
    assert "1 session(s) ended, 1 API token(s) revoked" in event.summary
    # Reactivated, they sign in again; revoked tokens stay revoked.
    staff.staff_reactivate(actor=clinic_admin, staff=nurse)
    signed_in = Client().post(
        reverse("accounts:login"), {"username": nurse.username, "password": TEST_PASSWORD}
    )
    assert signed_in.status_code == 302
    assert not ApiToken.objects.usable().filter(user=nurse).exists()


def test_ended_sessions_stay_ended_when_sessions_are_cached(clinic_admin, nurse, settings):
    # With REDIS_URL sessions are "cached_db": a copy in the shared cache must go as well,
    # or a browser whose second factor was reset would stay signed in from the cache.
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    browser = Client()
    browser.force_login(nurse)
    assert browser.get(reverse("dashboard:home")).status_code == 200

    staff.staff_second_factor_reset(actor=clinic_admin, staff=nurse)

    assert status_word(browser.get(reverse("patients:patient_list"))) == "login"
    assert not Session.objects.exists()


def test_second_factor_reset_removes_devices_and_asks_to_enrol(
    client, clinic_admin, nurse, settings
):
    settings.REQUIRE_STAFF_2FA = True
    TOTPDevice.objects.create(user=nurse, name="phone", confirmed=True)
    assert staff.staff_second_factor_reset(actor=clinic_admin, staff=nurse) == 1
    assert not TOTPDevice.objects.filter(user=nurse).exists()
    event = AuditEvent.objects.filter(object_id=str(nurse.uuid), action="second_factor").get()
    assert event.actor == clinic_admin
    client.post(reverse("accounts:login"), {"username": nurse.username, "password": TEST_PASSWORD})
    response = client.get(reverse("dashboard:home"))
    assert response.headers["Location"] == reverse("accounts:second_factor_setup")


# --- Pages -------------------------------------------------------------------------------------


def _pages(member):
    return {
        "list": reverse("accounts:staff_list"),
        "invite": reverse("accounts:staff_invite"),
        "detail": reverse("accounts:staff_detail", args=[member.uuid]),
    }


# GET status per actor, in ACTOR_ORDER, for list, invite and detail.
MATRIX = {
    "anonymous": ["login"] * 3,
    "patient_principal": [403] * 3,
    "clinic_admin": [200] * 3,
    **{
        who: [403] * 3
        for who in ACTOR_ORDER
        if who not in {"anonymous", "patient_principal", "clinic_admin"}
    },
}
POSTS = ["deactivate", "reactivate", "second_factor_reset", "invitation_resend", "sign_in_unlock"]


@pytest.mark.parametrize("who", ACTOR_ORDER)
def test_staff_pages_permission_matrix(client, actors, billing, who):
    client = client_as(client, actors[who])
    pages = _pages(billing)
    got = [status_word(client.get(pages[name])) for name in ("list", "invite", "detail")]
    assert got == MATRIX[who]
    before = AuditEvent.objects.filter(action="update", object_type="user").count()
    for action in POSTS:
        url = reverse(f"accounts:staff_{action}", args=[billing.uuid])
        response = client.post(url)
        if who != "clinic_admin":
            assert status_word(response) in ("login", 403), (who, action)
    if who != "clinic_admin":
        billing.refresh_from_db()
        assert billing.is_active
        assert AuditEvent.objects.filter(action="update", object_type="user").count() == before


def test_admin_pages_invite_edit_deactivate(client, clinic_admin, nurse):
    client.force_login(clinic_admin)
    response = client.post(
        reverse("accounts:staff_invite"),
        {
            "username": "newtherapist",
            "first_name": "Ari",
            "last_name": "Moss",
            "email": "ari@clinic.example",
            "role": "therapist",
            "credentials": "LCSW",
        },
    )
    invited = User.objects.get(username="newtherapist")
    assert response.headers["Location"] == reverse("accounts:staff_detail", args=[invited.uuid])
    assert Notification.objects.filter(recipient=invited).count() == 1
    detail = client.get(response.headers["Location"])
    assert b"Invited" in detail.content and b"Send the invitation again" in detail.content

    client.post(
        reverse("accounts:staff_detail", args=[nurse.uuid]),
        {
            "first_name": "N",
            "last_name": "Urse",
            "email": "n@clinic.example",
            "role": "nurse",
            "credentials": "BSN, RN",
        },
    )
    nurse.refresh_from_db()
    assert nurse.credentials == "BSN, RN"
    client.post(reverse("accounts:staff_deactivate", args=[nurse.uuid]))
    nurse.refresh_from_db()
    assert not nurse.is_active
    # Themselves: refused with a message, nothing changes.
    client.post(reverse("accounts:staff_deactivate", args=[clinic_admin.uuid]))
    clinic_admin.refresh_from_db()
    assert clinic_admin.is_active


def test_staff_list_query_count_is_flat(client, clinic_admin, make_staff):
    client.force_login(clinic_admin)
    for index in range(3):
        make_staff("nurse", username=f"n{index}")
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("accounts:staff_list")).status_code == 200
    for index in range(10):
        member = make_staff("prescriber", username=f"p{index}")
        TOTPDevice.objects.create(user=member, name="phone", confirmed=True)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("accounts:staff_list"))
    assert response.status_code == 200 and b"p9" in response.content
    assert len(many) == len(few)


def test_admin_clears_a_sign_in_lock_from_the_staff_page(client, clinic_admin, nurse, settings):
    """A nurse locked out by failed sign-ins (locked_out.html sends her to the clinic
    administrator) signs in as soon as the administrator clears the lock; the clearing is
    audited, and the page says how many failures were on record."""
    settings.LOGIN_FAILURE_LIMIT_PER_USERNAME = 0
    attempt = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt.post(reverse("accounts:login"), {"username": nurse.username, "password": "wrong"})
    locked = attempt.post(
        reverse("accounts:login"), {"username": nurse.username, "password": TEST_PASSWORD}
    )
    assert locked.status_code == 429

    client.force_login(clinic_admin)
    page = client.get(reverse("accounts:staff_detail", args=[nurse.uuid]))
    # axes counts the refused attempt as well as the failures before it.
    recorded = sum(
        AccessAttempt.objects.filter(username=nurse.username).values_list(
            "failures_since_start", flat=True
        )
    )
    assert recorded >= settings.AXES_FAILURE_LIMIT
    assert f"{recorded} recorded".encode() in page.content
    assert b"Clear the sign-in lock" in page.content
    client.post(reverse("accounts:staff_sign_in_unlock", args=[nurse.uuid]))

    signed_in = attempt.post(
        reverse("accounts:login"), {"username": nurse.username, "password": TEST_PASSWORD}
    )
    assert signed_in.status_code == 302
    event = AuditEvent.objects.get(object_id=str(nurse.uuid), summary__startswith="Sign-in lock")
    assert event.actor == clinic_admin
    assert event.changes == {"failed_sign_ins": {"before": recorded, "after": 0}}
    page = client.get(reverse("accounts:staff_detail", args=[nurse.uuid]))
    assert b"None recorded" in page.content and b"Clear the sign-in lock" not in page.content


def test_a_clinicians_npi_is_checked_and_audited(clinic_admin, prescriber):
    details = dict(
        role="prescriber",
        credentials="MD",
        first_name=prescriber.first_name,
        last_name=prescriber.last_name,
        email=prescriber.email,
    )
    with pytest.raises(InvalidInput) as error:
        staff.staff_update(actor=clinic_admin, staff=prescriber, npi="1234567890", **details)
    assert error.value.errors == {
        "npi": ["This NPI's check digit is wrong: check each digit against NPPES."]
    }
    # CMS's worked example of a valid NPI.
    staff.staff_update(actor=clinic_admin, staff=prescriber, npi="1234567893", **details)
    prescriber.refresh_from_db()
    assert prescriber.npi == "1234567893"
    event = AuditEvent.objects.filter(object_id=str(prescriber.uuid), action="update").latest("id")
    assert event.changes == {"npi": {"before": "", "after": "1234567893"}}
    # Saved without an NPI given, it stays.
    staff.staff_update(actor=clinic_admin, staff=prescriber, **details)
    prescriber.refresh_from_db()
    assert prescriber.npi == "1234567893"
