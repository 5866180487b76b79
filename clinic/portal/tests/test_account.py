"""The patient's side of portal access: activating an account from the invitation link,
resetting a forgotten password, the account page, and the optional second factor at sign-in.

Links carry a token once: the first page puts it in the session and redirects at once, so the
token is never in the address a page is shown at (ADR 0003)."""

import datetime
import re

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.accounts.models import User
from clinic.core.exceptions import Conflict
from clinic.core.models import AuditEvent
from clinic.notifications.models import Notification
from clinic.patients import portal_access
from clinic.patients.models import Patient, PortalInvitation
from clinic.patients.tests.factories import register
from conftest import TEST_PASSWORD
from tests.helpers import client_as, status_word, without_csrf

pytestmark = pytest.mark.django_db

EMAIL = "Jordan.Rivera@Example.org"
PASSWORD = "Cobalt-Harbor-4417"
NEW_PASSWORD = "Juniper-Lantern-8826"
SAME_MESSAGE = "This invitation link cannot be used"


@pytest.fixture(autouse=True)
def _clean_cache():
    # The password-reset rate limit counts in the cache, which outlives a test.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def invitee(patient):
    Patient.objects.filter(pk=patient.pk).update(email=EMAIL)
    patient.refresh_from_db()
    return patient


@pytest.fixture
def invitation(invitee, front_desk):
    """A fresh invitation and its plain token (as the e-mail carries it)."""
    return portal_access.portal_invitation_create(actor=front_desk, patient=invitee)


def _account(invitee, front_desk):
    _invitation, token = portal_access.portal_invitation_create(actor=front_desk, patient=invitee)
    return portal_access.portal_account_activate(
        token_digest=portal_access.invitation_token_digest(token), password=PASSWORD
    )


@pytest.fixture
def account(invitee, front_desk):
    """The invitee's activated portal account (username jordan.rivera@example.org)."""
    return _account(invitee, front_desk)


def _open_link(client, token):
    return client.get(reverse("portal:activate_link", args=[token]))


def _activate(client, password=PASSWORD, again=None):
    return client.post(
        reverse("portal:activate"),
        {"new_password1": password, "new_password2": again or password},
    )


def _sign_in(client, username, password):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def _code(device):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


# --- Activation ------------------------------------------------------------------------------


def test_the_token_leaves_the_address_bar_at_once(client, invitation):
    _invitation, token = invitation
    response = _open_link(client, token)
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("portal:activate") == "/portal/activate/"
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert token not in page.content.decode()
    assert token not in str(dict(client.session))  # only the digest is kept


def test_activation_creates_a_linked_account_signs_in_and_lands_on_the_portal_home(
    client, invitation, invitee
):
    stored, token = invitation
    _open_link(client, token)
    page = client.get(reverse("portal:activate")).content.decode()
    assert "Welcome, Jordan" in page
    assert "Your username: <strong>jordan.rivera@example.org</strong>" in page

    response = _activate(client)
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("portal:home")

    user = User.objects.get(role="patient", email="jordan.rivera@example.org")
    invitee.refresh_from_db()
    stored.refresh_from_db()
    assert invitee.user == user
    assert (user.username, user.first_name, user.last_name) == (
        "jordan.rivera@example.org",
        "Jordan",
        "Rivera",
    )
    assert user.check_password(PASSWORD)
    assert stored.used_at is not None and stored.user == user
    assert client.session[SESSION_KEY] == str(user.pk)  # signed in as the new account
    assert "portal_activation" not in client.session
    assert AuditEvent.objects.filter(
        actor=user, action="create", object_type="user", patient=invitee
    ).exists()
    assert AuditEvent.objects.filter(actor=user, action="login").exists()
    # The new account reaches its own account page, and the sign-in form works next time.
    assert client.get(reverse("portal:account")).status_code == 200
    client.logout()
    assert _sign_in(client, "jordan.rivera@example.org", PASSWORD).status_code == 302


def test_a_taken_username_gives_a_generated_one(client, invitation, make_staff):
    make_staff("nurse", username="jordan.rivera@example.org")
    _open_link(client, invitation[1])
    page = client.get(reverse("portal:activate")).content.decode()
    username = re.search(r"Your username: <strong>(patient-[0-9a-f]{8})</strong>", page).group(1)
    _activate(client)
    assert Patient.objects.get(pk=invitation[0].patient_id).user.username == username


def test_the_password_must_pass_the_validators_and_be_typed_twice(client, invitation):
    _open_link(client, invitation[1])
    short = _activate(client, password="short")
    assert "This password is too short. It must contain at least 12 characters." in (
        short.content.decode()
    )
    like_the_email = _activate(client, password="jordan.rivera@example.org")
    assert "The password is too similar to the" in like_the_email.content.decode()
    mismatch = _activate(client, password=PASSWORD, again=PASSWORD + "x")
    assert "The two password fields didn’t match." in mismatch.content.decode()
    assert not User.objects.filter(role="patient").exists()
    assert PortalInvitation.objects.get().used_at is None


def _closed_page(client, token):
    """What a visitor sees after opening a link: the token leaves the URL whatever it is."""
    response = _open_link(client, token)
    assert response.headers["Location"] == "/portal/activate/"
    return client.get("/portal/activate/")


def test_expired_used_revoked_and_unknown_links_all_say_the_same(
    client, invitee, front_desk, django_user_model
):
    pages = {}
    # Expired: 72 hours (PORTAL_INVITATION_VALID_HOURS) and a minute later.
    start = datetime.datetime(2026, 3, 2, 14, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        _inv, token = portal_access.portal_invitation_create(actor=front_desk, patient=invitee)
    with time_machine.travel(start + datetime.timedelta(hours=72, minutes=1), tick=False):
        pages["expired"] = _closed_page(client, token)
    # A minute before the expiry the same link still works.
    with time_machine.travel(start + datetime.timedelta(hours=71, minutes=59), tick=False):
        assert _closed_page(client, token).status_code == 200
    # Revoked.
    revoked, token = portal_access.portal_invitation_create(actor=front_desk, patient=invitee)
    portal_access.portal_invitation_revoke(actor=front_desk, invitation=revoked)
    pages["revoked"] = _closed_page(client, token)
    # Unknown.
    pages["unknown"] = _closed_page(client, "not-a-token-we-ever-sent")
    # Used: activated once, then opened again (signed out).
    _inv, token = portal_access.portal_invitation_create(actor=front_desk, patient=invitee)
    _open_link(client, token)
    assert _activate(client).status_code == 302
    client.logout()
    pages["used"] = _closed_page(client, token)

    bodies = {name: without_csrf(page) for name, page in pages.items()}
    assert {page.status_code for page in pages.values()} == {404}
    assert len(set(bodies.values())) == 1
    assert SAME_MESSAGE in bodies["used"]
    assert "Please ask the clinic for a new invitation." in bodies["used"]
    assert django_user_model.objects.filter(role="patient").count() == 1


def test_posting_with_a_used_link_in_the_session_creates_nothing(client, invitation):
    _open_link(client, invitation[1])
    other = Client()
    _open_link(other, invitation[1])
    assert _activate(client).status_code == 302
    # The second browser had the page open with the same link; its submission is refused.
    response = _activate(other)
    assert response.status_code == 404 and SAME_MESSAGE in response.content.decode()
    assert User.objects.filter(role="patient").count() == 1


def test_a_patient_cannot_activate_a_second_account(client, invitee, front_desk, account):
    # The patient already has an account: no new invitation can be made ...
    with pytest.raises(Conflict):
        portal_access.portal_invitation_create(actor=front_desk, patient=invitee)
    # ... and an invitation left over (here one made before the account was linked) is refused.
    leftover = PortalInvitation.objects.create(
        patient=invitee,
        email=EMAIL,
        token_digest=portal_access.invitation_token_digest("left-over-token"),
        expires_at=account.date_joined + datetime.timedelta(days=30),
    )
    response = _closed_page(client, "left-over-token")
    assert response.status_code == 404 and SAME_MESSAGE in response.content.decode()
    with pytest.raises(portal_access.InvitationNotUsable):
        portal_access.portal_account_activate(token_digest=leftover.token_digest, password=PASSWORD)
    assert User.objects.filter(role="patient").count() == 1


def test_someone_signed_in_is_asked_to_sign_out_first(client, invitation, nurse):
    client.force_login(nurse)
    _open_link(client, invitation[1])
    page = client.get(reverse("portal:activate"))
    assert "first sign out, then open the link in the invitation e-mail again" in (
        page.content.decode()
    )
    assert _activate(client).status_code == 200
    assert not User.objects.filter(role="patient").exists()
    assert client.session[SESSION_KEY] == str(nurse.pk)


# --- Password reset --------------------------------------------------------------------------


def _request_reset(client, email, **extra):
    return client.post(reverse("portal:password_reset"), {"email": email}, **extra)


def _reset_path(notification):
    return re.search(r"https?://[^/]+(/portal/password-reset/[\w-]+/[\w-]+/)", notification.body)[1]


def test_a_patient_gets_a_reset_link_that_works_once(client, account):
    response = _request_reset(client, "JORDAN.rivera@example.org")
    assert response.headers["Location"] == reverse("portal:password_reset_sent")
    notification = Notification.objects.get(subject__contains="reset")
    assert notification.to_email == "JORDAN.rivera@example.org"
    assert notification.body.startswith("Hello Jordan,\n")
    assert "Rivera" not in notification.body  # the username is lower-case; no family name
    path = _reset_path(notification)
    token = path.rstrip("/").rsplit("/", 1)[1]

    jump = client.get(path)
    assert jump.headers["Location"] == reverse("portal:password_reset_confirm")
    form = client.get(jump.headers["Location"])
    assert form.status_code == 200 and token not in form.content.decode()
    done = client.post(
        reverse("portal:password_reset_confirm"),
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert "Your password has been changed" in done.content.decode()
    assert "Sign in now with your username <strong>jordan.rivera@example.org</strong>" in (
        done.content.decode()
    )
    account.refresh_from_db()
    assert account.check_password(NEW_PASSWORD)
    assert _sign_in(client, account.username, NEW_PASSWORD).status_code == 302
    client.logout()
    # The same link a second time: the token depended on the old password.
    client.get(path)
    again = client.get(reverse("portal:password_reset_confirm"))
    assert again.status_code == 404
    assert "This reset link cannot be used" in again.content.decode()
    assert AuditEvent.objects.filter(
        actor=account, summary="Portal password reset with an e-mailed link"
    ).exists()


def test_unknown_and_staff_addresses_get_the_same_answer_and_no_e_mail(client, account, make_staff):
    staff = make_staff("nurse", username="rn.lee", email="rn.lee@example.org")
    answers = [
        _request_reset(client, address, follow=True)
        for address in ("nobody@example.org", "rn.lee@example.org", EMAIL)
    ]
    pages = {without_csrf(answer) for answer in answers}
    assert len(pages) == 1
    assert "If an account exists for that address" in answers[0].content.decode()
    # Only the patient's address got a link; the staff account was left untouched.
    resets = Notification.objects.filter(subject__contains="reset")
    assert list(resets.values_list("to_email", flat=True)) == [EMAIL]
    staff.refresh_from_db()
    assert staff.check_password(TEST_PASSWORD)


def test_a_staff_account_cannot_be_reset_through_the_portal_link(client, nurse):
    from django.contrib.auth.tokens import default_token_generator

    path = reverse(
        "portal:password_reset_link",
        args=[portal_access.password_reset_uid(nurse), default_token_generator.make_token(nurse)],
    )
    client.get(path)
    response = client.post(
        reverse("portal:password_reset_confirm"),
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 404
    nurse.refresh_from_db()
    assert nurse.check_password(TEST_PASSWORD)


def test_a_tampered_reset_link_is_refused(client, account):
    _request_reset(client, EMAIL)
    path = _reset_path(Notification.objects.get(subject__contains="reset"))
    client.get(path[:-3] + "xx/")
    response = client.get(reverse("portal:password_reset_confirm"))
    assert response.status_code == 404
    client.get("/portal/password-reset/not-base64/abc-def/")
    assert client.get(reverse("portal:password_reset_confirm")).status_code == 404


def test_password_reset_requests_are_rate_limited_per_address(client, account, settings):
    settings.PORTAL_PASSWORD_RESET_RATE_LIMIT_COUNT = 3
    for number in range(3):
        response = _request_reset(client, EMAIL, REMOTE_ADDR=f"10.0.0.{number}")
        assert response.status_code == 302
    # A fourth request for the same address, even from elsewhere, is refused and sends nothing.
    limited = _request_reset(client, EMAIL, REMOTE_ADDR="10.0.0.9")
    assert limited.status_code == 429
    assert "Please wait 60 minutes" in limited.content.decode()
    assert Notification.objects.filter(subject__contains="reset").count() == 3
    # The same client, for other addresses, is limited too.
    for number in range(3):
        _request_reset(client, f"someone{number}@example.org", REMOTE_ADDR="10.0.1.1")
    assert _request_reset(client, "other@example.org", REMOTE_ADDR="10.0.1.1").status_code == 429


# --- Account page and permissions ------------------------------------------------------------

ACCOUNT_PAGES = ["account", "second_factor"]


@pytest.mark.parametrize("page", ACCOUNT_PAGES)
@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", "login"),
        ("patient_principal", 403),  # an account with no patient record behind it
        ("clinic_admin", 403),
        ("prescriber", 403),
        ("front_desk", 403),
    ],
)
def test_account_pages_are_for_signed_in_patients(client, actors, who, expected, page):
    response = client_as(client, actors[who]).get(reverse(f"portal:{page}"))
    assert status_word(response) == expected
    assert not TOTPDevice.objects.exists()


@pytest.mark.parametrize("page", ACCOUNT_PAGES)
def test_a_patient_sees_only_their_own_account(client, account, front_desk, page):
    other = register(front_desk, legal_given_name="Avery", email="avery.chen@example.org")
    other_account = _account(other, front_desk)
    client.force_login(account)
    html = client.get(reverse(f"portal:{page}")).content.decode()
    assert other_account.username not in html and "Avery" not in html
    if page == "account":
        assert "jordan.rivera@example.org" in html


def test_a_patient_changes_their_password_and_stays_signed_in(client, account):
    client.force_login(account)
    wrong = client.post(
        reverse("portal:account"),
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert "Your old password was entered incorrectly." in wrong.content.decode()
    response = client.post(
        reverse("portal:account"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert "Your password has been changed." in response.content.decode()
    account.refresh_from_db()
    assert account.check_password(NEW_PASSWORD)
    assert client.get(reverse("portal:account")).status_code == 200
    assert AuditEvent.objects.filter(actor=account, summary="Portal password changed").exists()


# --- Second factor ---------------------------------------------------------------------------


def test_a_patient_sets_up_an_authenticator_and_is_asked_for_a_code_at_sign_in(client, account):
    assert _sign_in(client, account.username, PASSWORD).status_code == 302
    # No device yet: not asked.
    assert client.get(reverse("portal:account")).status_code == 200
    setup = client.get(reverse("portal:second_factor"))
    assert b"<svg" in setup.content  # the QR code, drawn on the server
    device = TOTPDevice.objects.get(user=account, confirmed=False)
    response = client.post(reverse("portal:second_factor"), {"otp_token": _code(device)})
    assert response.headers["Location"] == reverse("portal:account")
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEvent.objects.filter(
        actor=account, action="second_factor", summary="Portal: authenticator app enrolled"
    ).exists()
    client.logout()

    assert _sign_in(client, account.username, PASSWORD).status_code == 302
    for page in ("portal:account", "portal:journal", "portal:second_factor"):
        assert client.get(reverse(page)).headers["Location"] == reverse(
            "accounts:second_factor_verify"
        )
    # A code is good once: the next one shows 30 seconds later.
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=30), tick=False):
        device.refresh_from_db()
        verify = client.post(reverse("accounts:second_factor_verify"), {"otp_token": _code(device)})
        assert verify.status_code == 302
        assert client.get(reverse("portal:account")).status_code == 200


def test_a_patient_removes_the_authenticator_after_confirming_the_password(client, account):
    device = TOTPDevice.objects.create(user=account, name="phone", confirmed=True)
    _sign_in(client, account.username, PASSWORD)
    client.post(reverse("accounts:second_factor_verify"), {"otp_token": _code(device)})
    page = client.get(reverse("portal:second_factor"))
    assert "Turn off two-step sign-in" in page.content.decode()
    wrong = client.post(reverse("portal:second_factor"), {"password": "not-it"})
    assert "That is not your current password." in wrong.content.decode()
    assert TOTPDevice.objects.filter(user=account).exists()
    client.post(reverse("portal:second_factor"), {"password": PASSWORD})
    assert not TOTPDevice.objects.filter(user=account).exists()
    client.logout()
    _sign_in(client, account.username, PASSWORD)
    assert client.get(reverse("portal:account")).status_code == 200


def test_staff_are_unaffected_by_the_patient_rule(client, nurse, settings):
    settings.REQUIRE_STAFF_2FA = False
    TOTPDevice.objects.create(user=nurse, name="phone", confirmed=True)
    _sign_in(client, "nurse", TEST_PASSWORD)
    # With the staff rule off, a staff device is not asked for (as before).
    assert client.get(reverse("patients:patient_list")).status_code == 200


def test_the_patient_sign_in_page_links_to_the_patient_password_reset(client):
    html = client.get(reverse("accounts:patient_login")).content.decode()
    assert f'<a href="{reverse("portal:password_reset")}">Forgot your password?</a>' in html
