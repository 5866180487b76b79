"""Sign-in: lockout after repeated failures, the TOTP second factor, and the audit of both."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.accounts.models import User
from clinic.core.models import AuditEvent
from conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _login(client, username, password):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_sign_in_lands_on_the_home_page_and_is_audited(client, nurse):
    response = _login(client, "nurse", TEST_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == reverse("dashboard:home")
    assert AuditEvent.objects.filter(action="login", actor=nurse).exists()


def test_wrong_password_is_refused_with_a_clear_message_and_audited(client, nurse):
    response = _login(client, "nurse", "wrong-password")
    assert response.status_code == 200
    assert "That username and password do not match" in response.content.decode()
    event = AuditEvent.objects.get(action="login_failed")
    assert event.summary == "nurse" and event.actor is None
    assert "wrong-password" not in str(event.changes) + event.summary


def test_repeated_failures_lock_the_account_even_with_the_right_password(client, nurse, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "nurse", "wrong-password")
    response = _login(client, "nurse", TEST_PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert AuditEvent.objects.filter(action="locked_out").exists()
    assert not AuditEvent.objects.filter(action="login").exists()


def test_one_failure_short_of_the_limit_still_signs_in(client, nurse, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "nurse", "wrong-password")
    assert _login(client, "nurse", TEST_PASSWORD).status_code == 302


def test_sign_out_is_a_post_and_is_audited(client, nurse):
    client.force_login(nurse)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="logout", actor=nurse).exists()
    # Signed out, "/" is the public home page again, and staff pages ask to sign in.
    home = client.get(reverse("dashboard:home"))
    assert home.status_code == 200 and "Staff sign-in" in home.content.decode()
    assert "My patients" not in home.content.decode()
    assert client.get(reverse("patients:patient_list")).status_code == 302


def test_weak_passwords_are_refused_by_the_validators(db):
    with pytest.raises(CommandError) as caught:
        call_command("createstaff", "newnurse", role="nurse", password="password1")
    assert "too common" in str(caught.value) or "too short" in str(caught.value)
    assert not User.objects.filter(username="newnurse").exists()


def test_createstaff_creates_an_account_that_can_sign_in(client):
    out = io.StringIO()
    call_command(
        "createstaff",
        "okafor",
        role="prescriber",
        password="Cobalt-Harbor-4417",
        email="m@example.org",
        stdout=out,
    )
    user = User.objects.get(username="okafor")
    assert (user.role, user.email, user.is_clinic_staff) == ("prescriber", "m@example.org", True)
    assert _login(client, "okafor", "Cobalt-Harbor-4417").status_code == 302
    assert AuditEvent.objects.filter(
        action="create", object_type="user", channel="command"
    ).exists()


def test_createstaff_refuses_duplicates_and_unknown_roles(nurse):
    with pytest.raises(CommandError):
        call_command("createstaff", "nurse", role="nurse", password="Cobalt-Harbor-4417")
    with pytest.raises(CommandError):
        call_command("createstaff", "someone", role="surgeon")


def test_createapitoken_refuses_unknown_users(db):
    with pytest.raises(CommandError):
        call_command("createapitoken", "nobody")


@pytest.fixture
def two_factor(settings):
    settings.REQUIRE_STAFF_2FA = True


def _code(device):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


def test_with_2fa_required_staff_without_a_device_must_enrol_first(client, nurse, two_factor):
    _login(client, "nurse", TEST_PASSWORD)
    response = client.get(reverse("patients:patient_list"))
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("accounts:second_factor_setup")
    setup = client.get(reverse("accounts:second_factor_setup"))
    assert b"<svg" in setup.content  # the QR code, drawn on the server
    device = TOTPDevice.objects.get(user=nurse, confirmed=False)
    wrong = client.post(
        reverse("accounts:second_factor_setup"),
        {"otp_token": "000000" if _code(device) != "000000" else "111111"},
    )
    assert "did not match" in wrong.content.decode()
    # Straight after a wrong code django-otp backs off; the page says so.
    throttled = client.post(reverse("accounts:second_factor_setup"), {"otp_token": _code(device)})
    assert "Too many wrong codes" in throttled.content.decode()
    device.refresh_from_db()
    device.throttle_reset()  # as if the back-off had passed
    client.post(reverse("accounts:second_factor_setup"), {"otp_token": _code(device)})
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("patients:patient_list")).status_code == 200
    assert AuditEvent.objects.filter(action="second_factor", actor=nurse).exists()


def test_with_2fa_required_an_enrolled_user_verifies_each_sign_in(client, nurse, two_factor):
    device = TOTPDevice.objects.create(user=nurse, name="phone", confirmed=True)
    _login(client, "nurse", TEST_PASSWORD)
    assert client.get(reverse("dashboard:home")).headers["Location"] == reverse(
        "accounts:second_factor_verify"
    )
    # The API refuses the unverified session as well.
    assert client.get("/api/v1/patients").status_code == 401
    client.post(reverse("accounts:second_factor_verify"), {"otp_token": _code(device)})
    assert client.get(reverse("dashboard:home")).status_code == 200
    assert client.get("/api/v1/patients").status_code == 200


def test_second_factor_codes_must_be_six_digits(client, nurse, two_factor):
    TOTPDevice.objects.create(user=nurse, name="phone", confirmed=True)
    _login(client, "nurse", TEST_PASSWORD)
    response = client.post(reverse("accounts:second_factor_verify"), {"otp_token": "12ab56"})
    assert "Enter the six digits" in response.content.decode()


def test_production_default_requires_the_second_factor():
    from config import settings as production

    assert production.REQUIRE_STAFF_2FA is True or "REQUIRE_STAFF_2FA" in __import__("os").environ
