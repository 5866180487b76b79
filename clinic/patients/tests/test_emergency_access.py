"""Break the glass (patients/emergency_access.py): only clinicians, a reason required, a grant
that opens every clinical read and then expires, the care team e-mailed, loud audit rows, the
chart's banner; the pages' permission matrix and the review list's flat query count."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.core.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.notifications.models import Notification
from clinic.patients import emergency_access, selectors
from clinic.patients.models import EmergencyAccess, Patient
from clinic.patients.tests.factories import register
from tests.helpers import ACTOR_ORDER, client_as, status_word

pytestmark = pytest.mark.django_db

REASON = "Patient collapsed in the waiting room; need allergies and current doses."


@pytest.fixture
def outsider(make_staff):
    return make_staff("nurse", username="floatnurse", first_name="Fay", last_name="Float")


def _grant(actor, patient, reason=REASON):
    return emergency_access.emergency_access_grant(
        actor=actor, patient_uuid=patient.uuid, reason=reason
    )


def _expire(access):
    EmergencyAccess.objects.filter(pk=access.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )


def _fresh(patient):
    """The patient as a new request loads it (no remembered grant)."""
    return Patient.objects.prefetch_related("care_team_members").get(pk=patient.pk)


# --- Services ----------------------------------------------------------------------------------


def test_a_grant_opens_clinical_reads_and_then_expires(patient, outsider, settings):
    settings.EMERGENCY_ACCESS_VALID_HOURS = 2
    assert not Patient.objects.visible_to(outsider).filter(pk=patient.pk).exists()
    assert not selectors.can_view_clinical(actor=outsider, patient=_fresh(patient))

    before = timezone.now()
    access = _grant(outsider, patient)

    assert access.expires_at - before >= datetime.timedelta(hours=2)
    assert access.expires_at - before < datetime.timedelta(hours=2, minutes=1)
    assert Patient.objects.visible_to(outsider).filter(pk=patient.pk).count() == 1
    assert selectors.can_view_clinical(actor=outsider, patient=_fresh(patient))
    assert selectors.patient_get(actor=outsider, patient_uuid=patient.uuid) == patient

    _expire(access)
    assert not Patient.objects.visible_to(outsider).filter(pk=patient.pk).exists()
    assert not selectors.can_view_clinical(actor=outsider, patient=_fresh(patient))
    with pytest.raises(NotFound):
        selectors.patient_get(actor=outsider, patient_uuid=patient.uuid)


def test_a_grant_is_for_that_clinician_and_that_patient_only(
    patient, outsider, front_desk, make_staff
):
    other_patient = register(front_desk, legal_given_name="Casey", legal_family_name="Nguyen")
    colleague = make_staff("nurse", username="othernurse")
    _grant(outsider, patient)

    assert not Patient.objects.visible_to(outsider).filter(pk=other_patient.pk).exists()
    assert not Patient.objects.visible_to(colleague).filter(pk=patient.pk).exists()


@pytest.mark.parametrize("who", ["front_desk", "billing", "clinic_admin"])
def test_only_clinicians_break_the_glass(request, patient, who):
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        _grant(actor, patient)
    assert not EmergencyAccess.objects.exists()


@pytest.mark.parametrize("reason", ["", "   ", "emergency", "x" * 19])
def test_a_reason_of_the_minimum_length_is_required(patient, outsider, reason, settings):
    settings.EMERGENCY_ACCESS_REASON_MIN_LENGTH = 20
    with pytest.raises(InvalidInput) as refused:
        _grant(outsider, patient, reason=reason)
    assert "reason" in refused.value.errors
    assert not EmergencyAccess.objects.exists()
    assert not Notification.objects.exists()


def test_the_care_team_needs_no_glass_and_an_unknown_patient_is_not_found(patient, nurse):
    import uuid

    with pytest.raises(Conflict):
        _grant(nurse, patient)
    with pytest.raises(NotFound):
        emergency_access.emergency_access_grant(
            actor=nurse, patient_uuid=uuid.uuid4(), reason=REASON
        )


def test_the_care_team_is_emailed_without_patient_information(
    patient, outsider, prescriber, nurse, therapist
):
    _grant(outsider, patient)

    mails = list(Notification.objects.all())
    assert {m.recipient for m in mails} == {prescriber, nurse, therapist}
    for mail in mails:
        text = mail.subject + mail.body
        assert str(patient.uuid) in mail.body  # the chart's link, behind sign-in
        for phi in (patient.legal_given_name, patient.legal_family_name, patient.mrn, REASON):
            assert phi not in text
        assert "Fay Float" in mail.body  # who broke the glass (staff, not the patient)


def test_the_grant_and_every_read_during_it_are_audited_loudly(client, patient, outsider):
    access = _grant(outsider, patient)

    grant_event = AuditEvent.objects.get(object_type="emergency_access", action="emergency_access")
    assert grant_event.patient == patient and grant_event.actor == outsider
    assert grant_event.summary.startswith("EMERGENCY ACCESS (break the glass)")
    assert REASON[:40] in grant_event.summary
    assert grant_event.changes["reason"] == REASON

    client.force_login(outsider)
    assert client.get(reverse("patients:patient_chart", args=[patient.uuid])).status_code == 200
    view = AuditEvent.objects.filter(actor=outsider, action="view", patient=patient).latest("id")
    assert view.summary.startswith("EMERGENCY ACCESS (break the glass)")
    assert access.is_in_effect()


def test_review_marks_once_and_is_audited(patient, outsider, clinic_admin, nurse):
    access = _grant(outsider, patient)
    with pytest.raises(PermissionDenied):
        emergency_access.emergency_access_review(actor=nurse, access_uuid=access.uuid)

    reviewed = emergency_access.emergency_access_review(
        actor=clinic_admin, access_uuid=access.uuid, note="Confirmed with the charge nurse."
    )

    assert reviewed.reviewed_by == clinic_admin and reviewed.reviewed_at is not None
    assert AuditEvent.objects.filter(
        object_type="emergency_access", action="update", actor=clinic_admin, patient=patient
    ).exists()
    with pytest.raises(Conflict):
        emergency_access.emergency_access_review(actor=clinic_admin, access_uuid=access.uuid)


def test_an_unreviewed_grant_waits_in_the_administrators_in_basket(
    client, patient, outsider, clinic_admin, nurse
):
    """Who must notice a broken glass? The clinic administrator, on their home page's in-basket,
    until they review it; nobody else's in-basket carries it."""
    from clinic.dashboard.inbasket import inbasket_get

    access = _grant(outsider, patient)

    basket = inbasket_get(actor=clinic_admin)
    assert [grant.pk for grant in basket.emergency_reviews] == [access.pk]
    assert basket.count >= 1
    assert list(inbasket_get(actor=nurse).emergency_reviews) == []
    client.force_login(clinic_admin)
    home = client.get(reverse("dashboard:home")).content.decode()
    assert "Emergency access to review" in home
    assert f"{outsider.display_name} opened {patient.display_name}" in home

    emergency_access.emergency_access_review(actor=clinic_admin, access_uuid=access.uuid)
    assert list(inbasket_get(actor=clinic_admin).emergency_reviews) == []


# --- Pages -------------------------------------------------------------------------------------


def test_the_refused_chart_offers_the_form_and_the_grant_opens_it_with_a_banner(
    client, patient, outsider, nurse
):
    client.force_login(outsider)
    chart = reverse("patients:patient_chart", args=[patient.uuid])
    refused = client.get(chart)
    assert refused.status_code == 404
    assert b"Emergency access (break the glass)" in refused.content
    assert patient.legal_family_name.encode() not in refused.content
    assert AuditEvent.objects.filter(actor=outsider, action="denied").exists()

    short = client.post(
        reverse("patients:emergency_access_request", args=[patient.uuid]), {"reason": "now"}
    )
    assert short.status_code == 422 and not EmergencyAccess.objects.exists()

    granted = client.post(
        reverse("patients:emergency_access_request", args=[patient.uuid]), {"reason": REASON}
    )
    assert granted.headers["Location"] == chart
    page = client.get(chart).content.decode()
    assert "Emergency access in effect" in page and patient.legal_family_name in page

    # The care team sees the banner too, naming who and why.
    client.force_login(nurse)
    team_page = client.get(chart).content.decode()
    assert "Emergency access in effect" in team_page and "Fay Float" in team_page


def test_no_form_for_roles_that_cannot_break_the_glass(client, front_desk, billing, patient):
    import uuid

    client.force_login(billing)
    response = client.get(reverse("patients:patient_chart", args=[uuid.uuid4()]))
    assert response.status_code == 404
    assert b"break the glass" not in response.content


# GET status per actor (ACTOR_ORDER) for the request form and the review list.
MATRIX = {
    "anonymous": ["login", "login"],
    "patient_principal": [403, 403],
    "clinic_admin": [403, 200],
    "prescriber": [200, 403],
    "nurse": [200, 403],
    "therapist": [200, 403],
    "front_desk": [403, 403],
    "billing": [403, 403],
    "prescriber_off_team": [200, 403],
    "nurse_off_team": [200, 403],
    "therapist_off_team": [200, 403],
}


@pytest.mark.parametrize("who", ACTOR_ORDER)
def test_emergency_pages_permission_matrix(client, actors, patient, make_staff, who):
    client = client_as(client, actors[who])
    pages = [
        reverse("patients:emergency_access_request", args=[patient.uuid]),
        reverse("patients:emergency_access_list"),
    ]
    assert [status_word(client.get(url)) for url in pages] == MATRIX[who]

    granter = make_staff("therapist", username="granter")
    access = _grant(granter, patient)
    response = client.post(reverse("patients:emergency_access_review", args=[access.uuid]))
    access.refresh_from_db()
    if who == "clinic_admin":
        assert access.reviewed_at is not None
    else:
        assert status_word(response) in ("login", 403)
        assert access.reviewed_at is None

    posted = client.post(
        reverse("patients:emergency_access_request", args=[patient.uuid]), {"reason": REASON}
    )
    allowed = MATRIX[who][0] == 200 and "off_team" in who
    assert EmergencyAccess.objects.filter(granted_to=actors[who]).exists() == allowed, posted


def test_review_list_query_count_is_flat(client, clinic_admin, front_desk, make_staff):
    client.force_login(clinic_admin)

    def grants(count, offset):
        for index in range(count):
            clinician = make_staff("nurse", username=f"bg{offset + index}")
            patient = register(front_desk, legal_given_name=f"P{offset + index}")
            _grant(clinician, patient)

    grants(1, 0)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("patients:emergency_access_list")).status_code == 200
    grants(6, 1)
    emergency_access.emergency_access_review(
        actor=clinic_admin, access_uuid=EmergencyAccess.objects.first().uuid
    )
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("patients:emergency_access_list"))
    assert response.status_code == 200 and response.content.count(b"Mark reviewed") == 6
    assert len(many) == len(few)
