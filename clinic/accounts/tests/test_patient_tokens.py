"""A patient's own API token: made by the patient alone, stored as a digest, expiring after
API_TOKEN_EXPIRY_DAYS, revoked by its owner, audited as a staff token is; and each audience's
doors only. A patient token is refused (401) by every staff operation in the OpenAPI document
and by FHIR; a staff token, a clinic administrator's included, by every operation under /me."""

from __future__ import annotations

import datetime
import hashlib
import re
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from clinic.accounts import selectors
from clinic.accounts.models import ApiToken, User
from clinic.accounts.services import (
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
    patient_api_token_authenticate,
    patient_api_token_create,
)
from clinic.core.exceptions import NotFound, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.patients.models import Patient

pytestmark = pytest.mark.django_db

ME_ENTRIES = "/api/v1/me/journal/entries"


def bearer(plain: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


@pytest.fixture
def patient_user(patient):
    user = User.objects.create_user(username="jordan", password="x" * 12, role="patient")
    Patient.objects.filter(pk=patient.pk).update(user=user)
    return user


@pytest.fixture
def other_patient_user(front_desk):
    from clinic.patients.tests.factories import register

    other = register(front_desk, legal_given_name="Casey", legal_family_name="Morgan")
    user = User.objects.create_user(username="casey", password="x" * 12, role="patient")
    Patient.objects.filter(pk=other.pk).update(user=user)
    return user


# --------------------------------------------------------------------------- lifecycle


def test_a_patient_token_is_stored_as_a_digest_expires_and_is_audited(
    patient, patient_user, settings, client
):
    settings.API_TOKEN_EXPIRY_DAYS = 30
    before = timezone.now()
    token, plain = patient_api_token_create(actor=patient_user, name="Mood app")
    assert token.audience == "patient"
    assert re.fullmatch(rf"kc_{token.prefix}_[A-Za-z0-9_-]+", plain)
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert stored["digest_sha256"] == hashlib.sha256(plain.encode()).hexdigest()
    assert plain not in str(stored)
    assert before + datetime.timedelta(days=30) <= token.expires_at
    assert token.expires_at <= timezone.now() + datetime.timedelta(days=30)
    event = AuditEvent.objects.get(action="token", object_id=token.prefix)
    assert event.actor == patient_user
    assert event.changes["audience"] == "patient"

    assert client.get(ME_ENTRIES, **bearer(plain)).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_revoked_expired_or_deactivated_the_token_no_longer_works(patient, patient_user, client):
    revoked, revoked_plain = patient_api_token_create(actor=patient_user, name="a")
    expired, expired_plain = patient_api_token_create(actor=patient_user, name="b")
    _, live_plain = patient_api_token_create(actor=patient_user, name="c")
    assert api_token_revoke(actor=patient_user, token=revoked) is True
    assert AuditEvent.objects.filter(
        action="token", object_id=revoked.prefix, summary__contains="revoked"
    ).exists()
    ApiToken.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert client.get(ME_ENTRIES, **bearer(revoked_plain)).status_code == 401
    assert client.get(ME_ENTRIES, **bearer(expired_plain)).status_code == 401
    assert client.get(ME_ENTRIES, **bearer(live_plain)).status_code == 200
    # A patient record closed (no active record): the token speaks for no one.
    Patient.objects.filter(pk=patient.pk).update(is_active=False)
    assert client.get(ME_ENTRIES, **bearer(live_plain)).status_code == 401
    Patient.objects.filter(pk=patient.pk).update(is_active=True)
    User.objects.filter(pk=patient_user.pk).update(is_active=False)
    assert client.get(ME_ENTRIES, **bearer(live_plain)).status_code == 401


def test_the_portals_second_factor_is_optional_so_the_staff_rule_does_not_apply(
    patient, patient_user, settings, client
):
    settings.REQUIRE_STAFF_2FA = True
    _, plain = patient_api_token_create(actor=patient_user, name="Mood app")
    assert client.get(ME_ENTRIES, **bearer(plain)).status_code == 200


def test_only_a_patient_makes_a_patient_token_and_only_staff_a_staff_token(
    patient_user, nurse, clinic_admin
):
    for staff in (nurse, clinic_admin):
        with pytest.raises(PermissionDenied):
            patient_api_token_create(actor=staff, name="x")
    with pytest.raises(PermissionDenied):
        api_token_create(actor=patient_user, user=patient_user, name="x")
    with pytest.raises(PermissionDenied):
        api_token_create(actor=None, user=patient_user, name="x")
    assert not ApiToken.objects.exists()


def test_a_patient_sees_and_revokes_only_their_own_tokens(
    patient_user, other_patient_user, nurse, clinic_admin
):
    mine, _ = patient_api_token_create(actor=patient_user, name="mine")
    theirs, _ = patient_api_token_create(actor=other_patient_user, name="theirs")
    staff, _ = api_token_create(actor=nurse, user=nurse, name="staff")
    assert list(selectors.patient_api_tokens_own(actor=patient_user)) == [mine]
    for prefix in (theirs.prefix, staff.prefix):
        with pytest.raises(NotFound):
            selectors.patient_api_token_for_revoke(actor=patient_user, prefix=prefix)
    with pytest.raises(PermissionDenied):
        api_token_revoke(actor=patient_user, token=theirs)
    # The administrator's page lists staff tokens; patients' are theirs to see.
    assert list(selectors.api_tokens_all(actor=clinic_admin)) == [staff]


# --------------------------------------------------------------------------- audiences


def test_each_authenticator_accepts_only_its_own_audience(patient_user, nurse):
    _, patient_plain = patient_api_token_create(actor=patient_user, name="p")
    _, staff_plain = api_token_create(actor=nurse, user=nurse, name="s")
    assert api_token_authenticate(patient_plain) is None
    assert patient_api_token_authenticate(staff_plain) is None
    assert api_token_authenticate(staff_plain) == nurse
    assert patient_api_token_authenticate(patient_plain) == patient_user


def _operations(client: Client):
    document = client.get("/api/v1/openapi.json").json()
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            # Path parameters filled with a UUID: authentication answers before they are read.
            concrete = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
            yield method, path, concrete, operation


def _send(client: Client, method: str, path: str, headers: dict[str, str]):
    if method == "get":
        return client.get(path, **headers)
    return getattr(client, method)(path, "{}", content_type="application/json", **headers)


def test_a_patient_token_opens_no_staff_operation_in_the_openapi_document(
    patient, patient_user, client
):
    _, plain = patient_api_token_create(actor=patient_user, name="Mood app")
    staff_paths = 0
    for method, path, concrete, operation in _operations(client):
        if path.startswith("/api/v1/me/") or not operation.get("security"):
            continue  # the patient's own, and the one public operation
        assert {"StaffBearerAuth": []} in operation["security"], path
        staff_paths += 1
        response = _send(client, method, concrete, bearer(plain))
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.json()["code"] == "unauthenticated"
    assert staff_paths > 50  # the whole staff API was walked, not an empty document
    assert client.get("/fhir/R4/Patient", **bearer(plain)).status_code == 401


def test_a_staff_token_opens_no_patient_operation(patient, patient_user, clinic_admin, client):
    _, plain = api_token_create(actor=clinic_admin, user=clinic_admin, name="admin script")
    me_paths = 0
    for method, path, concrete, operation in _operations(client):
        if not path.startswith("/api/v1/me/"):
            continue
        assert operation["security"] == [{"PatientBearerAuth": []}], path
        me_paths += 1
        assert _send(client, method, concrete, bearer(plain)).status_code == 401, path
        # Nor the staff member's signed-in session.
        signed_in = Client()
        signed_in.force_login(clinic_admin)
        assert _send(signed_in, method, concrete, {}).status_code == 401, path
    assert me_paths == 16  # eight journal and eight at-home operations
