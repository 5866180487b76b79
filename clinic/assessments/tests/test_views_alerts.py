"""Suicidality alerts on the pages, and their e-mail: the prescriber's home page lists the
alert, acknowledging needs a note, a high risk stays on the chart until resolved, and the
primary prescriber is e-mailed without PHI through the outbox.

Expected values come from policy-defaults.md "Suicidality" (alert the primary clinician, keep
a high risk on the chart until resolved) and ADR 0004 (the outbox).
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse
from django.utils.html import escape

from clinic.assessments.models import (
    AssessmentResponse,
    SuicidalityAlert,
)
from clinic.assessments.tests.pages import CSSRS_HIGH, PHQ9_ITEM9, PHQ9_MODERATE
from clinic.assessments.tests.pages import staff_form as _staff_form
from clinic.assessments.tests.pages import state as _state
from clinic.core.models import AuditEvent
from clinic.notifications.models import Notification
from clinic.patients import services as patient_services
from tests.helpers import chart_html as _chart

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- alerts


def test_the_primary_prescriber_home_page_lists_the_alert(
    client, patient, prescriber, nurse, phq9_response
):
    alert = SuicidalityAlert.objects.get()
    assert alert.assigned_to == prescriber
    url = reverse("assessments:alert_detail", args=[alert.uuid])
    client.force_login(prescriber)
    home = client.get(reverse("dashboard:home")).content.decode()
    assert url in home
    assert "Suicidal ideation reported" in home
    # The nurse is told on the chart, not in her inbox: the alert goes to the prescriber.
    client.force_login(nurse)
    assert url not in client.get(reverse("dashboard:home")).content.decode()


def test_acknowledging_needs_a_note(client, patient, nurse, phq9_response):
    alert = SuicidalityAlert.objects.get()
    client.force_login(nurse)
    before = _state()
    updates = AuditEvent.objects.filter(action="update").count()
    got = client.post(
        reverse("assessments:alert_detail", args=[alert.uuid]),
        {"action": "acknowledge", "note": "   "},
    )
    assert got.status_code == 200
    assert got.context["form"].errors
    assert "note" in got.context["form"].errors or got.context["form"].non_field_errors()
    assert _state() == before
    assert AuditEvent.objects.filter(action="update").count() == updates


def test_acknowledging_an_ideation_alert_with_a_note_resolves_it(
    client, patient, nurse, phq9_response
):
    alert = SuicidalityAlert.objects.get()
    client.force_login(nurse)
    got = client.post(
        reverse("assessments:alert_detail", args=[alert.uuid]),
        {"action": "acknowledge", "note": "Phoned; safety plan in place."},
    )
    assert got.status_code == 302
    assert got.headers["Location"] == reverse("patients:patient_chart", args=[patient.uuid])
    alert.refresh_from_db()
    assert alert.status == "resolved"
    assert (alert.acknowledged_by, alert.acknowledgement_note) == (
        nurse,
        "Phoned; safety plan in place.",
    )
    event = AuditEvent.objects.get(
        action="update", object_type="suicidality_alert", object_id=str(alert.uuid)
    )
    assert (event.actor, event.patient) == (nurse, patient)
    assert "Suicidality alert" not in _chart(client, patient)


def test_a_high_risk_stays_on_the_chart_until_the_prescriber_resolves_it(
    client, patient, nurse, prescriber
):
    client.force_login(nurse)
    entered = client.post(
        reverse("assessments:response_create", args=[patient.uuid, "cssrs-screen"]),
        _staff_form(CSSRS_HIGH),
    )
    assert entered.status_code == 302
    response = AssessmentResponse.objects.get()
    assert response.severity == "high" and "immediate_safety_evaluation" in response.flags
    # One alert, at the highest level the answers show; the ideation answers are in its words.
    high = SuicidalityAlert.objects.get()
    assert high.kind == "high_suicide_risk"
    assert "C-SSRS Q1 answered yes" in high.trigger
    assert "HIGH SUICIDE RISK" in _chart(client, patient)

    acknowledged = client.post(
        reverse("assessments:alert_detail", args=[high.uuid]),
        {"action": "acknowledge", "note": "Stayed with the patient; prescriber paged."},
    )
    assert acknowledged.status_code == 302
    high.refresh_from_db()
    assert high.status == "acknowledged"
    assert "HIGH SUICIDE RISK" in _chart(client, patient)
    # A second acknowledgement is refused and changes nothing.
    before = _state()
    again = client.post(
        reverse("assessments:alert_detail", args=[high.uuid]),
        {"action": "acknowledge", "note": "Again"},
    )
    assert again.status_code != 302
    assert _state() == before

    client.force_login(prescriber)
    detail = client.get(reverse("assessments:alert_detail", args=[high.uuid]))
    assert detail.context["can_resolve"] is True
    resolved = client.post(
        reverse("assessments:alert_detail", args=[high.uuid]),
        {"action": "resolve", "note": "Safety evaluation done; outpatient plan agreed."},
    )
    assert resolved.status_code == 302
    high.refresh_from_db()
    assert (high.status, high.resolved_by) == ("resolved", prescriber)
    chart = _chart(client, patient)
    assert "HIGH SUICIDE RISK" not in chart
    assert "Suicidality alert" not in chart


def test_resolve_is_for_high_risk_alerts_only(client, patient, prescriber, phq9_response):
    """views.alert_detail offers "Resolve" only on a high C-SSRS risk; an ideation alert is
    acknowledged. A forged resolve on an ideation alert must not be recorded as a resolved
    high suicide risk."""
    alert = SuicidalityAlert.objects.get()
    client.force_login(prescriber)
    assert (
        client.get(reverse("assessments:alert_detail", args=[alert.uuid])).context["can_resolve"]
        is False
    )
    client.post(
        reverse("assessments:alert_detail", args=[alert.uuid]),
        {"action": "resolve", "note": "Resolving"},
    )
    assert not AuditEvent.objects.filter(
        object_type="suicidality_alert", summary="High suicide risk resolved"
    ).exists()


# --------------------------------------------------------------------------- e-mail


@pytest.fixture
def mailed_prescriber(make_staff, patient, front_desk, nurse, therapist):
    doctor = make_staff(
        "prescriber",
        username="dr_mail",
        email="dr.mail@clinic.example",
        first_name="Ada",
        last_name="Moreau",
        credentials="MD",
    )
    patient_services.care_team_set(
        actor=front_desk,
        patient=patient,
        primary_prescriber=doctor,
        nurses=[nurse],
        therapists=[therapist],
    )
    return doctor


def test_a_positive_phq9_emails_the_primary_prescriber_without_phi(
    client, patient, nurse, clinic_admin, mailed_prescriber, django_capture_on_commit_callbacks
):
    client.force_login(nurse)
    with django_capture_on_commit_callbacks(execute=True):
        got = client.post(
            reverse("assessments:response_create", args=[patient.uuid, "phq9"]),
            _staff_form(PHQ9_ITEM9),
        )
    assert got.status_code == 302
    alert = SuicidalityAlert.objects.get()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["dr.mail@clinic.example"]
    text = f"{message.subject}\n{message.body}"
    for phi in (
        patient.legal_given_name,
        patient.legal_family_name,
        patient.mrn,
        patient.phone_mobile,
        patient.date_of_birth.strftime("%m/%d/%Y"),
        patient.date_of_birth.isoformat(),
    ):
        assert phi not in text, phi
    assert reverse("assessments:alert_detail", args=[alert.uuid]) in message.body

    notification = Notification.objects.get()
    assert (notification.recipient, notification.alert_link.alert, notification.status) == (
        mailed_prescriber,
        alert,
        "sent",
    )
    assert notification.attempts == 1 and notification.sent_at is not None

    client.force_login(clinic_admin)
    outbox = client.get(reverse("assessments:outbox")).content.decode()
    assert "Sent" in outbox
    assert escape(notification.subject) in outbox
    assert mailed_prescriber.display_name in outbox


def test_no_email_without_a_positive_answer(
    client, patient, nurse, mailed_prescriber, django_capture_on_commit_callbacks
):
    client.force_login(nurse)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("assessments:response_create", args=[patient.uuid, "phq9"]),
            _staff_form(PHQ9_MODERATE),
        )
    assert AssessmentResponse.objects.count() == 1
    assert mail.outbox == [] and not Notification.objects.exists()


def test_a_prescriber_without_an_email_shows_as_failed_on_the_outbox(
    client, patient, nurse, clinic_admin, django_capture_on_commit_callbacks
):
    client.force_login(nurse)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("assessments:response_create", args=[patient.uuid, "phq9"]),
            _staff_form(PHQ9_ITEM9),
        )
    notification = Notification.objects.get()
    assert notification.status == "failed"
    assert "no e-mail address" in notification.last_error
    assert mail.outbox == []
    client.force_login(clinic_admin)
    outbox = client.get(reverse("assessments:outbox")).content.decode()
    assert "Failed; will retry" in outbox
