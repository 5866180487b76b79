"""Who the API lets in (clinic/api/auth.py): staff sessions (CSRF-checked for unsafe methods)
and personal Bearer tokens (`api_token_create`, `manage.py createapitoken`). Patients, revoked
or expired tokens and deactivated staff are refused with the 401 envelope
`{"detail": ..., "code": "unauthenticated"}`."""

from __future__ import annotations

import datetime
import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from clinic.accounts.models import ApiToken, User
from clinic.accounts.services import api_token_create, api_token_revoke
from clinic.core.models import AuditEvent
from clinic.patients import services as patient_services
from clinic.patients.models import Patient

pytestmark = pytest.mark.django_db

PATIENTS = "/api/v1/patients"
JSON = "application/json"
NEW_PATIENT = {
    "legal_given_name": "Rowan",
    "legal_family_name": "Achterberg",
    "date_of_birth": "1975-03-02",
    "sex": "male",
}


def bearer(plain: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


def token_for(user: User) -> str:
    _, plain = api_token_create(actor=None, user=user, name="tests")
    return plain


def assert_unauthenticated(response) -> None:
    assert response.status_code == 401, response.content
    body = response.json()
    assert set(body) == {"detail", "code"}
    assert body["code"] == "unauthenticated"
    assert isinstance(body["detail"], str)
    assert body["detail"]


@pytest.fixture
def patient_user(db):
    """A portal principal: signs in, but is never staff."""
    return User.objects.create_user(
        username="portal_patient", password="ketacare-demo-password-1", role="patient"
    )


# --------------------------------------------------------------------------- anonymous


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", PATIENTS, None),
        ("post", PATIENTS, NEW_PATIENT),
        ("post", f"{PATIENTS}/search", {"query": "Rowan"}),
    ],
)
def test_anonymous_gets_the_401_envelope(db, method, path, body):
    client = Client()
    response = (
        client.get(path) if body is None else getattr(client, method)(path, body, content_type=JSON)
    )

    assert_unauthenticated(response)
    assert not Patient.objects.exists()


# --------------------------------------------------------------------------- Bearer tokens


@pytest.mark.parametrize(
    "role", ["clinic_admin", "prescriber", "nurse", "therapist", "front_desk", "billing"]
)
def test_token_from_api_token_create_authenticates_every_staff_role(make_staff, role):
    user = make_staff(role)

    response = Client().get(PATIENTS, **bearer(token_for(user)))

    assert response.status_code == 200, response.content
    event = AuditEvent.objects.get(action="list", actor=user)
    assert event.channel == "api"
    assert event.actor_role == role


def test_token_records_last_use(nurse):
    token, plain = api_token_create(actor=None, user=nurse)
    assert token.last_used_at is None

    Client().get(PATIENTS, **bearer(plain))

    token.refresh_from_db()
    assert token.last_used_at is not None


def test_only_a_digest_of_the_token_is_stored(nurse):
    token, plain = api_token_create(actor=None, user=nurse)

    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert plain not in {str(v) for v in stored.values()}
    assert stored["digest_sha256"] == hashlib.sha256(plain.encode()).hexdigest()


def test_revoked_token_is_refused(nurse):
    token, plain = api_token_create(actor=None, user=nurse)
    assert Client().get(PATIENTS, **bearer(plain)).status_code == 200

    api_token_revoke(actor=None, token=token)

    assert_unauthenticated(Client().get(PATIENTS, **bearer(plain)))


def test_expired_token_is_refused(nurse):
    token, plain = api_token_create(actor=None, user=nurse)
    ApiToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )

    assert_unauthenticated(Client().get(PATIENTS, **bearer(plain)))


def test_token_with_future_expiry_still_works(nurse):
    token, plain = api_token_create(actor=None, user=nurse)
    ApiToken.objects.filter(pk=token.pk).update(
        expires_at=timezone.now() + datetime.timedelta(days=1)
    )

    assert Client().get(PATIENTS, **bearer(plain)).status_code == 200


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda plain: "garbage", id="garbage"),
        pytest.param(lambda plain: "", id="empty"),
        pytest.param(lambda plain: "kc_deadbeef_" + "A" * 43, id="well-formed-unknown"),
        pytest.param(lambda plain: plain[:-1] + ("A" if plain[-1] != "A" else "B"), id="one-off"),
        pytest.param(lambda plain: plain + "x", id="extended"),
        pytest.param(lambda plain: plain.upper(), id="upper-case"),
        pytest.param(lambda plain: hashlib.sha256(plain.encode()).hexdigest(), id="the-digest"),
    ],
)
def test_garbage_or_altered_token_is_refused(nurse, mangle):
    plain = token_for(nurse)

    assert_unauthenticated(Client().get(PATIENTS, **bearer(mangle(plain))))


@pytest.mark.parametrize("scheme", ["Token", "Basic", "Bearer:", ""])
def test_token_needs_the_bearer_scheme(nurse, scheme):
    plain = token_for(nurse)
    header = f"{scheme} {plain}".strip()

    assert_unauthenticated(Client().get(PATIENTS, HTTP_AUTHORIZATION=header))


def test_token_of_a_deactivated_user_is_refused(nurse):
    plain = token_for(nurse)
    assert Client().get(PATIENTS, **bearer(plain)).status_code == 200

    nurse.is_active = False
    nurse.save()

    assert_unauthenticated(Client().get(PATIENTS, **bearer(plain)))


# --------------------------------------------------------------------------- patient principals


def test_patient_principal_session_is_refused(patient_user):
    client = Client()
    client.force_login(patient_user)

    assert_unauthenticated(client.get(PATIENTS))
    response = client.post(PATIENTS, NEW_PATIENT, content_type=JSON)
    assert_unauthenticated(response)
    assert not Patient.objects.exists()


def test_patient_principal_token_is_refused(patient_user):
    from clinic.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        token_for(patient_user)
    # One that exists regardless (made before this rule, or by hand) does not authenticate.
    plain = "kc_0badf00d_" + "p" * 43
    ApiToken.objects.create(
        user=patient_user,
        prefix="0badf00d",
        digest_sha256=hashlib.sha256(plain.encode()).hexdigest(),
        expires_at=timezone.now() + datetime.timedelta(days=1),
    )

    assert_unauthenticated(Client().get(PATIENTS, **bearer(plain)))
    response = Client().post(PATIENTS, NEW_PATIENT, content_type=JSON, **bearer(plain))
    assert_unauthenticated(response)
    assert not Patient.objects.exists()


def test_patient_principal_cannot_read_their_own_record_through_the_staff_api(
    patient_user, front_desk
):
    patient = patient_services.patient_create(
        actor=front_desk,
        data={
            "legal_given_name": "Portal",
            "legal_family_name": "Person",
            "date_of_birth": datetime.date(1990, 1, 1),
            "sex": "female",
        },
    )
    Patient.objects.filter(pk=patient.pk).update(user=patient_user)
    client = Client()
    client.force_login(patient_user)

    assert_unauthenticated(client.get(f"{PATIENTS}/{patient.uuid}"))
    plain = "kc_0badf00d_" + "p" * 43
    ApiToken.objects.create(
        user=patient_user,
        prefix="0badf00d",
        digest_sha256=hashlib.sha256(plain.encode()).hexdigest(),
        expires_at=timezone.now() + datetime.timedelta(days=1),
    )
    assert_unauthenticated(client.get(f"{PATIENTS}/{patient.uuid}", **bearer(plain)))


# --------------------------------------------------------------------------- createapitoken


def test_createapitoken_prints_a_token_that_authenticates(front_desk):
    out = StringIO()

    call_command("createapitoken", "front_desk", "--name", "integration", stdout=out)

    plain = out.getvalue().strip()
    assert plain
    assert "\n" not in plain
    response = Client().get(PATIENTS, **bearer(plain))
    assert response.status_code == 200
    token = ApiToken.objects.get(user=front_desk)
    assert token.name == "integration"
    assert token.digest_sha256 == hashlib.sha256(plain.encode()).hexdigest()
    assert AuditEvent.objects.filter(action="token", object_type="api_token").exists()


def test_createapitoken_tokens_are_distinct(front_desk):
    tokens = set()
    for _ in range(3):
        out = StringIO()
        call_command("createapitoken", "front_desk", stdout=out)
        tokens.add(out.getvalue().strip())
    assert len(tokens) == 3
    for plain in tokens:
        assert Client().get(PATIENTS, **bearer(plain)).status_code == 200


def test_createapitoken_refuses_unknown_inactive_and_patient_users(nurse, patient_user):
    nurse.is_active = False
    nurse.save()
    for username in ("nobody", "nurse", "portal_patient"):
        with pytest.raises(CommandError):
            call_command("createapitoken", username, stdout=StringIO())
    assert not ApiToken.objects.exists()


# --------------------------------------------------------------------------- sessions


def test_session_login_works_for_get(therapist):
    client = Client()
    client.force_login(therapist)

    response = client.get(PATIENTS)

    assert response.status_code == 200
    assert AuditEvent.objects.get(action="list", actor=therapist).channel == "api"


def test_session_of_a_user_deactivated_after_login_is_refused(nurse):
    client = Client()
    client.force_login(nurse)
    assert client.get(PATIENTS).status_code == 200

    nurse.is_active = False
    nurse.save()

    assert_unauthenticated(client.get(PATIENTS))


def test_session_without_second_factor_is_refused_when_2fa_is_required(settings, nurse):
    settings.REQUIRE_STAFF_2FA = True
    client = Client()
    client.force_login(nurse)

    assert_unauthenticated(client.get(PATIENTS))


def test_token_works_when_2fa_is_required_and_its_owner_has_a_second_factor(settings, nurse):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=nurse, name="phone", confirmed=True)
    settings.REQUIRE_STAFF_2FA = True

    assert Client().get(PATIENTS, **bearer(token_for(nurse))).status_code == 200


# --------------------------------------------------------------------------- CSRF


def csrf_client(user: User | None = None) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


def test_session_get_needs_no_csrf_token(front_desk):
    assert csrf_client(front_desk).get(PATIENTS).status_code == 200


def test_session_post_without_csrf_token_is_refused(front_desk):
    response = csrf_client(front_desk).post(PATIENTS, NEW_PATIENT, content_type=JSON)

    assert response.status_code in (401, 403), response.content
    assert "code" in response.json()
    assert not Patient.objects.exists()


def test_session_patch_without_csrf_token_is_refused(front_desk):
    patient = patient_services.patient_create(
        actor=front_desk,
        data={**NEW_PATIENT, "date_of_birth": datetime.date(1975, 3, 2)},
    )
    before = Patient.objects.filter(pk=patient.pk).values().get()

    response = csrf_client(front_desk).patch(
        f"{PATIENTS}/{patient.uuid}", {"city": "Duluth"}, content_type=JSON
    )

    assert response.status_code in (401, 403), response.content
    assert Patient.objects.filter(pk=patient.pk).values().get() == before
    assert not AuditEvent.objects.filter(action="update").exists()


def test_session_post_with_a_wrong_csrf_token_is_refused(front_desk):
    client = csrf_client(front_desk)
    client.cookies["csrftoken"] = "a" * 32

    response = client.post(PATIENTS, NEW_PATIENT, content_type=JSON, HTTP_X_CSRFTOKEN="b" * 32)

    assert response.status_code in (401, 403)
    assert not Patient.objects.exists()


def test_session_post_with_csrf_token_is_accepted(front_desk):
    """The positive control: the same request with a matching CSRF cookie and header."""
    client = csrf_client(front_desk)
    secret = "k" * 32
    client.cookies["csrftoken"] = secret

    response = client.post(PATIENTS, NEW_PATIENT, content_type=JSON, HTTP_X_CSRFTOKEN=secret)

    assert response.status_code == 201, response.content
    assert Patient.objects.count() == 1


def test_bearer_post_needs_no_csrf_token(front_desk):
    response = csrf_client().post(
        PATIENTS, NEW_PATIENT, content_type=JSON, **bearer(token_for(front_desk))
    )

    assert response.status_code == 201, response.content
    created = Patient.objects.get()
    assert created.created_by == front_desk
    assert AuditEvent.objects.get(action="create", patient=created).actor == front_desk


def test_anonymous_post_with_csrf_enforced_is_refused_and_writes_nothing(db):
    response = csrf_client().post(PATIENTS, NEW_PATIENT, content_type=JSON)

    assert response.status_code in (401, 403)
    assert not Patient.objects.exists()
