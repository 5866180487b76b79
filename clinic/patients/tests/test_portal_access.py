"""Portal access from the staff side: inviting a patient (who may, to whom, what the e-mail
says), revoking, re-inviting, sending a password reset, and the chart's "Patient portal"
section. Expected permissions come from docs/permissions.md (`portal.invite`)."""

import datetime
import re
import threading

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import User
from clinic.core.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.notifications.models import Notification
from clinic.patients import portal_access
from clinic.patients.models import Patient, PortalInvitation
from tests.helpers import ACTOR_ORDER, chart_html, client_as, status_word

pytestmark = pytest.mark.django_db

EMAIL = "Jordan.Rivera@Example.org"
SITE_URL = "https://clinic.example.org"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE_URL
    settings.PORTAL_INVITATION_VALID_HOURS = 72


@pytest.fixture
def invitee(patient):
    """The conftest patient (Jordan Rivera, care team prescriber/nurse/therapist) with an
    e-mail address on file."""
    Patient.objects.filter(pk=patient.pk).update(email=EMAIL)
    patient.refresh_from_db()
    return patient


PASSWORD = "Cobalt-Harbor-4417"


def _activate(invitation_token):
    return portal_access.portal_account_activate(
        token_digest=portal_access.invitation_token_digest(invitation_token), password=PASSWORD
    )


def _state():
    """Everything an invitation, a revocation or a reset could write."""
    return (
        list(PortalInvitation.objects.order_by("pk").values()),
        list(Notification.objects.order_by("pk").values()),
        list(User.objects.order_by("pk").values("pk", "username", "password", "role")),
        list(Patient.objects.order_by("pk").values("pk", "user_id", "email")),
    )


# --- Permission matrix -----------------------------------------------------------------------

# POST to each staff action, per actor (ACTOR_ORDER). portal.invite: clinic admin, front desk,
# prescriber, nurse; off the care team a clinician cannot reach the patient (404); 302 is the
# way back to the chart after doing it.
MATRIX = {
    "anonymous": "login",
    "patient_principal": 403,
    "clinic_admin": 302,
    "prescriber": 302,
    "nurse": 302,
    "therapist": 403,
    "front_desk": 302,
    "billing": 403,
    "prescriber_off_team": 404,
    "nurse_off_team": 404,
    "therapist_off_team": 403,
}
assert list(MATRIX) == ACTOR_ORDER


@pytest.mark.parametrize("who", ACTOR_ORDER)
def test_invite_permission_matrix_and_a_denial_writes_nothing(client, invitee, actors, who):
    before = _state()
    response = client_as(client, actors[who]).post(
        reverse("patients:portal_invitation_create", args=[invitee.uuid])
    )
    assert status_word(response) == MATRIX[who]
    if MATRIX[who] == 302:
        assert response.headers["Location"] == (
            reverse("patients:patient_chart", args=[invitee.uuid]) + "#portal"
        )
        invitation = PortalInvitation.objects.get()
        assert (invitation.patient, invitation.created_by) == (invitee, actors[who])
        assert Notification.objects.filter(patient=invitee).count() == 1
    else:
        assert _state() == before


@pytest.mark.parametrize("who", ACTOR_ORDER)
def test_revoke_permission_matrix_and_a_denial_writes_nothing(
    client, invitee, actors, front_desk, who
):
    invitation, _token = portal_access.portal_invitation_create(actor=front_desk, patient=invitee)
    before = _state()
    response = client_as(client, actors[who]).post(
        reverse("patients:portal_invitation_revoke", args=[invitee.uuid, invitation.uuid])
    )
    assert status_word(response) == MATRIX[who]
    invitation.refresh_from_db()
    if MATRIX[who] == 302:
        assert invitation.revoked_at is not None and invitation.revoked_by == actors[who]
    else:
        assert invitation.revoked_at is None
        assert _state() == before


@pytest.mark.parametrize("who", ACTOR_ORDER)
def test_staff_password_reset_permission_matrix_and_a_denial_writes_nothing(
    client, invitee, actors, front_desk, who
):
    _invitation, token = portal_access.portal_invitation_create(actor=front_desk, patient=invitee)
    _activate(token)
    before = _state()
    response = client_as(client, actors[who]).post(
        reverse("patients:portal_password_reset", args=[invitee.uuid])
    )
    assert status_word(response) == MATRIX[who]
    if MATRIX[who] == 302:
        assert Notification.objects.count() == 2  # the invitation, then the reset link
    else:
        assert _state() == before


def test_the_staff_actions_are_posts_only(client, invitee, front_desk):
    client.force_login(front_desk)
    url = reverse("patients:portal_invitation_create", args=[invitee.uuid])
    assert client.get(url).status_code == 405
    assert not PortalInvitation.objects.exists()


def test_the_service_refuses_roles_and_unreachable_patients(invitee, therapist, make_staff):
    with pytest.raises(PermissionDenied):
        portal_access.portal_invitation_create(actor=therapist, patient=invitee)
    with pytest.raises(NotFound):
        portal_access.portal_invitation_create(
            actor=make_staff("nurse", username="elsewhere"), patient=invitee
        )
    assert not PortalInvitation.objects.exists() and not Notification.objects.exists()


# --- The invitation and its e-mail -----------------------------------------------------------


def test_the_invitation_e_mail_holds_the_link_and_no_phi_beyond_the_first_name(
    invitee, front_desk, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = portal_access.portal_invitation_create(
            actor=front_desk, patient=invitee
        )
    notification = Notification.objects.get()
    assert (notification.to_email, notification.patient, notification.recipient) == (
        EMAIL,
        invitee,
        None,
    )
    link = f"{SITE_URL}/portal/activate/{token}/"
    # The e-mail carries the link; once sent, the outbox's copy no longer does.
    assert link in mail.outbox[0].body
    assert link not in notification.body and "[link removed once sent]" in notification.body
    assert notification.body.startswith("Hello Jordan,\n")
    # Only the first name: no family name, MRN, date of birth, phone or anything clinical.
    text = (notification.subject + notification.body).replace(token, "")
    for phi in ("Rivera", invitee.mrn, "1985", "04/12", "555", "ketamine", "MRN"):
        assert phi not in text
    # Only the SHA-256 digest of the token is stored.
    assert token not in str(list(PortalInvitation.objects.values()))
    assert invitation.token_digest == portal_access.invitation_token_digest(token)
    assert len(token) >= 43  # 32 random bytes, URL-safe base64
    # The worker delivered it (the test settings' in-memory mailbox).
    assert [m.to for m in mail.outbox] == [[EMAIL]]
    assert link in mail.outbox[0].body


def test_the_link_expires_after_the_configured_hours(invitee, front_desk, settings):
    settings.PORTAL_INVITATION_VALID_HOURS = 48
    start = datetime.datetime(2026, 3, 2, 14, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        invitation, _token = portal_access.portal_invitation_create(
            actor=front_desk, patient=invitee
        )
    assert invitation.expires_at == datetime.datetime(2026, 3, 4, 14, 0, tzinfo=datetime.UTC)
    # 14:00 UTC on 03/04/2026 is 09:00 in the clinic's zone (America/New_York, EST).
    assert "expires on 03/04/2026 at 09:00" in Notification.objects.get().body


def test_the_invitation_is_audited(invitee, front_desk):
    invitation, _token = portal_access.portal_invitation_create(actor=front_desk, patient=invitee)
    event = AuditEvent.objects.get(object_type="portal_invitation")
    assert (event.actor, event.action, event.patient, event.object_id) == (
        front_desk,
        "create",
        invitee,
        str(invitation.uuid),
    )
    assert EMAIL not in event.summary


def test_a_patient_without_an_e_mail_address_cannot_be_invited(client, patient, front_desk):
    before = _state()
    with pytest.raises(InvalidInput) as caught:
        portal_access.portal_invitation_create(actor=front_desk, patient=patient)
    assert "no e-mail address on file" in caught.value.errors["email"][0]
    client.force_login(front_desk)
    response = client.post(
        reverse("patients:portal_invitation_create", args=[patient.uuid]), follow=True
    )
    assert "This patient has no e-mail address on file" in response.content.decode()
    assert _state() == before


def test_a_new_invitation_revokes_the_earlier_unused_one(invitee, front_desk, nurse):
    first, first_token = portal_access.portal_invitation_create(actor=front_desk, patient=invitee)
    second, _token = portal_access.portal_invitation_create(actor=nurse, patient=invitee)
    first.refresh_from_db()
    assert (first.revoked_at is not None, first.revoked_by) == (True, nurse)
    assert second.is_usable()
    assert list(PortalInvitation.objects.usable()) == [second]
    with pytest.raises(portal_access.InvitationNotUsable):
        _activate(first_token)


def test_a_patient_with_an_account_is_offered_a_password_reset_instead(client, invitee, front_desk):
    _invitation, token = portal_access.portal_invitation_create(actor=front_desk, patient=invitee)
    _activate(token)
    with pytest.raises(Conflict) as caught:
        portal_access.portal_invitation_create(actor=front_desk, patient=invitee)
    assert caught.value.message == (
        "This patient already has a portal account. Send a password reset instead."
    )
    client.force_login(front_desk)
    response = client.post(
        reverse("patients:portal_invitation_create", args=[invitee.uuid]), follow=True
    )
    html = response.content.decode()
    assert "Send a password reset instead." in html
    assert "Send a password reset</button>" in html
    assert PortalInvitation.objects.count() == 1


def test_revoking_makes_the_link_unusable_and_cannot_be_repeated(invitee, front_desk):
    invitation, token = portal_access.portal_invitation_create(actor=front_desk, patient=invitee)
    portal_access.portal_invitation_revoke(actor=front_desk, invitation=invitation)
    with pytest.raises(portal_access.InvitationNotUsable):
        _activate(token)
    with pytest.raises(Conflict):
        portal_access.portal_invitation_revoke(actor=front_desk, invitation=invitation)
    assert (
        AuditEvent.objects.filter(
            object_type="portal_invitation", summary="Portal invitation revoked"
        ).count()
        == 1
    )


def test_revoking_another_patients_invitation_through_this_chart_is_not_found(
    client, invitee, front_desk
):
    from clinic.patients.tests.factories import register

    other = register(front_desk, legal_given_name="Avery", email="avery@example.org")
    invitation, _token = portal_access.portal_invitation_create(actor=front_desk, patient=other)
    client.force_login(front_desk)
    response = client.post(
        reverse("patients:portal_invitation_revoke", args=[invitee.uuid, invitation.uuid])
    )
    assert response.status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_staff_send_a_password_reset_only_to_an_existing_account(invitee, front_desk):
    with pytest.raises(Conflict):
        portal_access.portal_password_reset_send(actor=front_desk, patient=invitee)
    _invitation, token = portal_access.portal_invitation_create(actor=front_desk, patient=invitee)
    user = _activate(token)
    portal_access.portal_password_reset_send(actor=front_desk, patient=invitee)
    reset = Notification.objects.first()  # newest first
    assert reset.to_email == "jordan.rivera@example.org"
    assert re.search(rf"{SITE_URL}/portal/password-reset/[\w-]+/[\w-]+/", reset.body)
    assert f"Your username is: {user.username}" in reset.body
    assert "Rivera" not in reset.body.replace(user.username, "")


# --- The chart section ------------------------------------------------------------------------


def test_the_chart_section_follows_the_portal_status(client, invitee, front_desk):
    client.force_login(front_desk)
    html = chart_html(client, invitee)
    assert "Patient portal" in html and "No account" in html
    assert "Invite to the portal</button>" in html
    assert "expires after 72 hours" in html

    start = datetime.datetime(2026, 3, 2, 14, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        invitation, token = portal_access.portal_invitation_create(
            actor=front_desk, patient=invitee
        )
    with time_machine.travel(start + datetime.timedelta(hours=1), tick=False):
        html = chart_html(client, invitee)
    assert "Invited" in html and "the link expires 03/05/2026 09:00" in html
    assert "Re-invite (new link)" in html and "Revoke invitation" in html
    assert reverse("patients:portal_invitation_revoke", args=[invitee.uuid, invitation.uuid]) in (
        html
    )

    # Past its expiry, an unused invitation shows as such, with an invite button again.
    with time_machine.travel(start + datetime.timedelta(hours=73), tick=False):
        client.force_login(front_desk)  # the idle sign-out ended the earlier session
        html = chart_html(client, invitee)
    assert "No account" in html and "expired unused" in html

    with time_machine.travel(start + datetime.timedelta(hours=2), tick=False):
        user = _activate(token)
    client.force_login(front_desk)
    html = chart_html(client, invitee)
    assert "Account active" in html and f"Username <strong>{user.username}</strong>" in html
    assert "Last sign-in: never" in html


def test_the_chart_section_says_when_there_is_no_e_mail_address(client, patient, front_desk):
    client.force_login(front_desk)
    html = chart_html(client, patient)
    assert "No e-mail address on file, so an invitation cannot be sent." in html
    assert "Invite to the portal</button>" not in html


@pytest.mark.parametrize("who", ["therapist", "billing"])
def test_the_chart_section_is_for_those_who_may_invite(client, invitee, actors, who):
    html = chart_html(client_as(client, actors[who]), invitee)
    assert 'id="portal-heading"' not in html


def test_the_chart_section_costs_the_same_queries_however_many_invitations(
    client, invitee, front_desk
):
    for _ in range(5):
        portal_access.portal_invitation_create(actor=front_desk, patient=invitee)
    client.force_login(front_desk)
    chart_html(client, invitee)  # warm up (session, content types)
    with CaptureQueriesContext(connection) as five:
        chart_html(client, invitee)
    for _ in range(5):
        portal_access.portal_invitation_create(actor=front_desk, patient=invitee)
    with CaptureQueriesContext(connection) as ten:
        chart_html(client, invitee)
    assert len(ten) == len(five)


# --- Race: two activations of one link give one account (PostgreSQL) ------------------------


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_activations_of_one_link_at_once_give_one_account(front_desk):
    from clinic.patients.tests.factories import register

    invitee = register(front_desk, email="race@example.org")
    _invitation, token = portal_access.portal_invitation_create(actor=front_desk, patient=invitee)
    barrier = threading.Barrier(4)
    outcomes = []

    def run():
        try:
            barrier.wait(timeout=10)
            _activate(token)
            outcomes.append("created")
        except portal_access.InvitationNotUsable:
            outcomes.append("refused")
        except Exception as error:  # collected and asserted below
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["created", "refused", "refused", "refused"]
    assert User.objects.filter(role="patient").count() == 1
    invitee.refresh_from_db()
    assert invitee.user.username == "race@example.org"


def test_activation_time_is_recorded(invitee, front_desk):
    _invitation, token = portal_access.portal_invitation_create(actor=front_desk, patient=invitee)
    moment = timezone.now()
    with time_machine.travel(moment, tick=False):
        user = _activate(token)
    invitation = PortalInvitation.objects.get()
    assert (invitation.used_at, invitation.user) == (moment, user)
