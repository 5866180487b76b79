"""API token lifecycle (issue 13, defect 9): every token expires, records its last use, is
only for staff who have a second factor when REQUIRE_STAFF_2FA is on (at creation and at every
use), stops working for a deactivated user, and can be revoked by its owner, a clinic
administrator or `manage.py revokeapitoken`; every creation and revocation is audited."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.accounts.exceptions import SecondFactorRequired
from clinic.accounts.models import ApiToken
from clinic.accounts.services import (
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
    api_tokens_revoke_all,
)
from clinic.core.exceptions import InvalidInput, PermissionDenied
from clinic.core.models import AuditEvent

pytestmark = pytest.mark.django_db

PATIENTS = "/api/v1/patients"


def bearer(plain: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


def enrol(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def token_events(prefix: str):
    return AuditEvent.objects.filter(action="token", object_type="api_token", object_id=prefix)


# --------------------------------------------------------------------------- expiry


def test_a_new_token_expires_after_the_clinic_setting(nurse, settings):
    settings.API_TOKEN_EXPIRY_DAYS = 30
    before = timezone.now()

    token, _ = api_token_create(actor=nurse, user=nurse, name="script")

    expected = before + datetime.timedelta(days=30)
    assert expected <= token.expires_at <= timezone.now() + datetime.timedelta(days=30)
    assert token.status == "active"


def test_by_default_a_token_lasts_ninety_days(nurse):
    from django.conf import settings

    assert settings.API_TOKEN_EXPIRY_DAYS == 90


def test_an_expired_token_is_refused_and_shows_as_expired(nurse):
    token, plain = api_token_create(actor=nurse, user=nurse)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now())
    token.refresh_from_db()

    assert api_token_authenticate(plain) is None
    assert Client().get(PATIENTS, **bearer(plain)).status_code == 401
    assert token.status == "expired"


# --------------------------------------------------------------------------- last use


def test_last_use_is_recorded_at_most_once_a_minute(nurse, django_assert_num_queries):
    token, plain = api_token_create(actor=nurse, user=nurse)

    assert api_token_authenticate(plain) == nurse
    token.refresh_from_db()
    first_use = token.last_used_at
    assert first_use is not None
    # Used again at once: one read, no write.
    with django_assert_num_queries(1):
        assert api_token_authenticate(plain) == nurse
    token.refresh_from_db()
    assert token.last_used_at == first_use

    ApiToken.objects.filter(pk=token.pk).update(
        last_used_at=first_use - datetime.timedelta(minutes=5)
    )
    api_token_authenticate(plain)
    token.refresh_from_db()
    assert token.last_used_at > first_use - datetime.timedelta(minutes=5)


# --------------------------------------------------------------------------- second factor


def test_with_2fa_required_no_token_for_staff_without_a_second_factor(nurse, settings):
    settings.REQUIRE_STAFF_2FA = True

    with pytest.raises(SecondFactorRequired):
        api_token_create(actor=nurse, user=nurse)
    assert not ApiToken.objects.exists()
    assert not AuditEvent.objects.filter(action="token").exists()


def test_with_2fa_required_an_enrolled_staff_member_gets_a_working_token(nurse, settings):
    settings.REQUIRE_STAFF_2FA = True
    enrol(nurse)

    _, plain = api_token_create(actor=nurse, user=nurse)

    assert Client().get(PATIENTS, **bearer(plain)).status_code == 200


def test_a_token_stops_working_when_its_owners_second_factor_is_removed(nurse, settings):
    settings.REQUIRE_STAFF_2FA = True
    device = enrol(nurse)
    _, plain = api_token_create(actor=nurse, user=nurse)

    device.delete()  # e.g. a reset second factor

    assert api_token_authenticate(plain) is None
    assert Client().get(PATIENTS, **bearer(plain)).status_code == 401


def test_a_token_made_while_2fa_was_off_is_refused_once_it_is_on(nurse, settings):
    _, plain = api_token_create(actor=nurse, user=nurse)
    settings.REQUIRE_STAFF_2FA = True

    assert Client().get(PATIENTS, **bearer(plain)).status_code == 401


def test_an_unconfirmed_device_is_not_a_second_factor(nurse, settings):
    settings.REQUIRE_STAFF_2FA = True
    TOTPDevice.objects.create(user=nurse, name="phone", confirmed=False)

    with pytest.raises(SecondFactorRequired):
        api_token_create(actor=nurse, user=nurse)


# --------------------------------------------------------------------------- who


def test_an_inactive_users_token_is_refused(nurse):
    _, plain = api_token_create(actor=nurse, user=nurse)
    nurse.is_active = False
    nurse.save(update_fields=["is_active"])

    assert api_token_authenticate(plain) is None
    assert Client().get(PATIENTS, **bearer(plain)).status_code == 401


def test_a_plain_queryset_revocation_takes_effect_at_once(nurse):
    # How staff management cuts a deactivated user's tokens.
    _, plain = api_token_create(actor=nurse, user=nurse)
    ApiToken.objects.filter(user=nurse).update(revoked_at=timezone.now())

    assert api_token_authenticate(plain) is None


def test_no_one_creates_a_token_for_someone_else(clinic_admin, nurse):
    with pytest.raises(PermissionDenied):
        api_token_create(actor=clinic_admin, user=nurse)
    assert not ApiToken.objects.exists()


def test_no_token_for_an_inactive_user(nurse):
    nurse.is_active = False
    nurse.save(update_fields=["is_active"])
    with pytest.raises(PermissionDenied):
        api_token_create(actor=None, user=nurse)


def test_a_token_name_with_control_characters_is_refused(nurse):
    with pytest.raises(InvalidInput):
        api_token_create(actor=nurse, user=nurse, name="bad\x00name")


# --------------------------------------------------------------------------- revoke


def test_creation_and_revocation_are_audited(nurse):
    token, _ = api_token_create(actor=nurse, user=nurse, name="script")
    created = token_events(token.prefix).get()
    assert created.actor == nurse and created.changes["owner"] == "nurse"

    assert api_token_revoke(actor=nurse, token=token) is True

    revoked = token_events(token.prefix).exclude(pk=created.pk).get()
    assert revoked.actor == nurse and "revoked" in revoked.summary
    token.refresh_from_db()
    assert token.status == "revoked"


def test_revoking_twice_changes_nothing_and_audits_once(nurse):
    token, _ = api_token_create(actor=nurse, user=nurse)
    api_token_revoke(actor=nurse, token=token)
    first = ApiToken.objects.get(pk=token.pk).revoked_at

    assert api_token_revoke(actor=nurse, token=token) is False

    assert ApiToken.objects.get(pk=token.pk).revoked_at == first
    assert token_events(token.prefix).count() == 2


def test_the_clinic_admin_revokes_anyones_token(clinic_admin, nurse):
    token, plain = api_token_create(actor=nurse, user=nurse)

    assert api_token_revoke(actor=clinic_admin, token=token)

    assert api_token_authenticate(plain) is None
    assert token_events(token.prefix).filter(actor=clinic_admin).exists()


@pytest.mark.parametrize("role", ["prescriber", "therapist", "front_desk", "billing"])
def test_other_staff_may_not_revoke_a_colleagues_token(make_staff, nurse, role):
    token, plain = api_token_create(actor=nurse, user=nurse)

    with pytest.raises(PermissionDenied):
        api_token_revoke(actor=make_staff(role), token=token)

    assert api_token_authenticate(plain) == nurse
    assert token_events(token.prefix).count() == 1


def test_revoke_all_revokes_only_that_users_open_tokens(clinic_admin, nurse, therapist):
    mine = [api_token_create(actor=nurse, user=nurse)[0] for _ in range(3)]
    api_token_revoke(actor=nurse, token=mine[0])
    _, theirs = api_token_create(actor=therapist, user=therapist)

    assert api_tokens_revoke_all(actor=clinic_admin, user=nurse) == 2

    assert not ApiToken.objects.usable().filter(user=nurse).exists()
    assert api_token_authenticate(theirs) == therapist


# --------------------------------------------------------------------------- commands


def test_revokeapitoken_by_prefix(nurse):
    token, plain = api_token_create(actor=nurse, user=nurse)
    out = StringIO()

    call_command("revokeapitoken", token.prefix, stdout=out)

    assert "Revoked" in out.getvalue()
    assert api_token_authenticate(plain) is None
    event = token_events(token.prefix).filter(summary__contains="revoked").get()
    assert event.channel == "command" and event.actor is None


def test_revokeapitoken_accepts_the_prefix_as_the_page_shows_it(nurse):
    token, plain = api_token_create(actor=nurse, user=nurse)

    call_command("revokeapitoken", f"kc_{token.prefix}…", stdout=StringIO())

    assert api_token_authenticate(plain) is None


def test_revokeapitoken_for_every_token_of_a_user(nurse, therapist):
    plains = [api_token_create(actor=nurse, user=nurse)[1] for _ in range(2)]
    _, theirs = api_token_create(actor=therapist, user=therapist)
    out = StringIO()

    call_command("revokeapitoken", "--user", "nurse", stdout=out)

    assert "Revoked 2 API tokens" in out.getvalue()
    assert all(api_token_authenticate(plain) is None for plain in plains)
    assert api_token_authenticate(theirs) == therapist


def test_revokeapitoken_refuses_unknown_prefixes_and_users(nurse):
    with pytest.raises(CommandError):
        call_command("revokeapitoken", "deadbeef", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("revokeapitoken", "--user", "nobody", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("revokeapitoken", stdout=StringIO())


def test_revokeapitoken_on_a_revoked_token_says_so(nurse):
    token, _ = api_token_create(actor=nurse, user=nurse)
    call_command("revokeapitoken", token.prefix, stdout=StringIO())
    out = StringIO()

    call_command("revokeapitoken", token.prefix, stdout=out)

    assert "already revoked" in out.getvalue()


def test_createapitoken_refuses_staff_without_a_second_factor_when_required(nurse, settings):
    settings.REQUIRE_STAFF_2FA = True
    with pytest.raises(CommandError, match="authenticator"):
        call_command("createapitoken", "nurse", stdout=StringIO(), stderr=StringIO())

    enrol(nurse)
    out, err = StringIO(), StringIO()
    call_command("createapitoken", "nurse", stdout=out, stderr=err)
    assert Client().get(PATIENTS, **bearer(out.getvalue().strip())).status_code == 200
    assert "Expires" in err.getvalue()
