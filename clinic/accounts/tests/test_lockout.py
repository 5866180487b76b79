"""The sign-in lockout cannot be turned against the clinic (issue 13, defect 2).

Behind the reverse proxy docs/configuration.md prescribes (TRUSTED_PROXY_COUNT=1), every request
arrives from the proxy's address; the client is the last X-Forwarded-For entry. An attacker who
fails many times, with made-up usernames and with a real one, locks only their own
username-and-address combinations: the real user at another address still signs in, on the
staff and on the patient sign-in page.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from clinic.accounts.models import User
from clinic.core.models import AuditEvent
from conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"
ATTACKER = "203.0.113.66"
REAL_USER = "198.51.100.7"
PAGES = ["accounts:login", "accounts:patient_login"]


@pytest.fixture(autouse=True)
def behind_one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1


def sign_in(page: str, username: str, password: str, address: str):
    # The proxy connects (REMOTE_ADDR) and appends the client it saw; anything the client sent
    # in the header itself comes first and is not trusted.
    return Client().post(
        reverse(page),
        {"username": username, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=f"{REAL_USER}, {address}",
    )


@pytest.fixture
def portal_user(db):
    return User.objects.create_user(username="rowan", password=TEST_PASSWORD, role="patient")


@pytest.mark.parametrize("page", PAGES)
def test_an_attacker_behind_the_proxy_locks_only_themselves(page, nurse, portal_user, settings):
    real = nurse if page == "accounts:login" else portal_user
    for attempt in range(settings.AXES_FAILURE_LIMIT * 3):
        sign_in(page, f"made-up-{attempt}", "guess", ATTACKER)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(page, real.username, "guess", ATTACKER)

    # The attacker's combination is locked, even with the right password...
    assert sign_in(page, real.username, TEST_PASSWORD, ATTACKER).status_code == 429
    # ...but the real user, at their own address behind the same proxy, signs in.
    assert sign_in(page, real.username, TEST_PASSWORD, REAL_USER).status_code == 302
    assert AuditEvent.objects.filter(action="locked_out").exists()


def test_the_lockout_reads_the_client_address_as_the_audit_trail_does(nurse, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in("accounts:login", "nurse", "guess", ATTACKER)

    failures = AuditEvent.objects.filter(action="login_failed")
    assert failures.count() == settings.AXES_FAILURE_LIMIT
    assert set(failures.values_list("ip_address", flat=True)) == {ATTACKER}
    from axes.models import AccessAttempt

    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}


def test_made_up_usernames_lock_no_one_else_at_the_same_address(nurse, settings):
    for attempt in range(settings.AXES_FAILURE_LIMIT * 3):
        sign_in("accounts:login", f"made-up-{attempt}", "guess", ATTACKER)

    # Same address, real username: not locked, since the lock is per combination.
    assert sign_in("accounts:login", "nurse", TEST_PASSWORD, ATTACKER).status_code == 302


def test_password_spraying_from_many_addresses_locks_that_one_account(nurse, therapist, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_USERNAME = 12
    limit = settings.AXES_FAILURE_LIMIT
    addresses = [f"203.0.113.{n}" for n in range(1, 4)]  # 3 x 5 failures >= 12
    for address in addresses:
        for _ in range(limit):
            sign_in("accounts:login", "nurse", "guess", address)

    assert sign_in("accounts:login", "nurse", TEST_PASSWORD, REAL_USER).status_code == 429
    # Only that account: a colleague behind the same proxy is untouched.
    assert sign_in("accounts:login", "therapist", TEST_PASSWORD, REAL_USER).status_code == 302


def test_below_the_per_username_cap_the_real_user_still_signs_in(nurse, settings):
    settings.LOGIN_FAILURE_LIMIT_PER_USERNAME = 12
    for address in ["203.0.113.1", "203.0.113.2"]:  # 10 failures < 12
        for _ in range(settings.AXES_FAILURE_LIMIT):
            sign_in("accounts:login", "nurse", "guess", address)

    assert sign_in("accounts:login", "nurse", TEST_PASSWORD, REAL_USER).status_code == 302


def test_a_successful_sign_in_clears_only_the_users_own_failures(nurse, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in("accounts:login", "nurse", "guess", ATTACKER)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in("accounts:login", "nurse", "guess", REAL_USER)

    assert sign_in("accounts:login", "nurse", TEST_PASSWORD, REAL_USER).status_code == 302
    # The attacker stays locked after the real user's sign-in.
    assert sign_in("accounts:login", "nurse", TEST_PASSWORD, ATTACKER).status_code == 429
