"""Recording assessments: server-side scores, alerts that are never lost, the e-mail outbox,
links, and corrections that keep the record."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from clinic.assessments import alerts, services
from clinic.assessments.models import (
    AssessmentResponse,
    QuestionnaireLink,
    SuicidalityAlert,
)
from clinic.core.exceptions import Conflict, InvalidInput, NotFound, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.notifications import delivery
from clinic.notifications.models import Notification
from clinic.notifications.selectors import notifications_due
from clinic.patients import services as patient_services
from clinic.patients.tests.factories import register

pytestmark = pytest.mark.django_db

# US Core PHQ-9 example: 2,2,2,2,1,1,2,0,0 → 12, moderate (issue 3; [G4]).
PHQ9_MODERATE = [2, 2, 2, 2, 1, 1, 2, 0, 0]
PHQ9_ITEM9_POSITIVE = [0, 0, 0, 0, 0, 0, 0, 0, 1]


@pytest.fixture
def team(front_desk, make_staff, nurse, therapist):
    prescriber = make_staff("prescriber", username="okafor", email="okafor@clinic.example")
    patient = register(front_desk)
    patient_services.care_team_set(
        actor=front_desk,
        patient=patient,
        primary_prescriber=prescriber,
        nurses=[nurse],
        therapists=[therapist],
    )
    return patient, prescriber


def record(actor, patient, answers, code="phq9", **kwargs):
    return services.response_record(
        actor=actor, patient=patient, instrument_code=code, answers=answers, **kwargs
    )


def test_the_server_scores_and_stores_every_answer_with_the_version(team, nurse):
    patient, _ = team
    response = record(nurse, patient, PHQ9_MODERATE, timepoint="baseline")
    response.refresh_from_db()
    assert (response.total, response.severity, response.complete) == (12, "moderate", True)
    assert response.answers == PHQ9_MODERATE
    assert response.instrument_code == "phq9" and response.instrument_version
    assert response.recorded_by == nurse and response.source == "staff"
    assert AuditEvent.objects.filter(
        action="create", object_type="assessment_response", patient=patient
    ).exists()


def test_an_incomplete_form_is_stored_unscored(team, nurse):
    patient, _ = team
    response = record(nurse, patient, [2, 2, None, 2, 1, 1, 2, 0, 0])
    assert (response.complete, response.total, response.severity) == (False, None, "")


@pytest.mark.parametrize(
    ("answers", "message"),
    [([0] * 8, "takes"), ([0] * 8 + [4], "Item 9"), (["x"] + [0] * 8, "Item 1")],
)
def test_bad_answers_are_refused_and_nothing_is_written(team, nurse, answers, message):
    patient, _ = team
    with pytest.raises(InvalidInput) as caught:
        record(nurse, patient, answers)
    assert message in caught.value.errors["answers"][0]
    assert not AssessmentResponse.objects.exists()


def test_unknown_instruments_are_refused(team, nurse):
    patient, _ = team
    with pytest.raises(InvalidInput) as caught:
        record(nurse, patient, [0], code="ybocs")
    assert "instrument" in caught.value.errors


@pytest.mark.parametrize("who", ["clinic_admin", "front_desk", "billing", "outsider"])
def test_only_care_team_clinicians_enter_assessments(team, make_staff, request, who):
    patient, _ = team
    actor = (
        make_staff("nurse", username="outsider")
        if who == "outsider"
        else request.getfixturevalue(who)
    )
    with pytest.raises(PermissionDenied):
        record(actor, patient, PHQ9_MODERATE)
    assert not AssessmentResponse.objects.exists()


# policy-defaults.md: PHQ-9 item 9 ≥ 1, QIDS-SR16 item 12 ≥ 1, or any C-SSRS "yes" → alert.
@pytest.mark.parametrize(
    ("code", "answers", "alert_kinds"),
    [
        ("phq9", PHQ9_ITEM9_POSITIVE, ["suicidal_ideation"]),
        ("phq9", [3, 3, 3, 3, 3, 3, 3, 3, 0], []),
        # Item 9 answered on an otherwise incomplete form still raises the alert.
        ("phq9", [None] * 8 + [2], ["suicidal_ideation"]),
        ("qids-sr16", [0] * 11 + [1] + [0] * 4, ["suicidal_ideation"]),
        ("qids-sr16", [3] * 11 + [0] + [3] * 4, []),
        # C-SSRS: wish to be dead only (Q1) → low risk, but any yes alerts.
        ("cssrs-screen", [1, 0, None, None, None, 0, None], ["suicidal_ideation"]),
        # Q6 behaviour more than 3 months ago, no ideation: still a "yes".
        ("cssrs-screen", [0, 0, None, None, None, 1, 0], ["suicidal_ideation"]),
        # Q4 (intent) → high risk: one alert at the highest level (ADR 0004).
        ("cssrs-screen", [1, 1, 0, 1, 0, 0, None], ["high_suicide_risk"]),
        ("cssrs-screen", [0, 0, None, None, None, 0, None], []),
    ],
)
def test_suicidality_answers_raise_alerts(team, nurse, code, answers, alert_kinds):
    patient, prescriber = team
    response = record(nurse, patient, answers, code=code)
    alerts = SuicidalityAlert.objects.filter(response=response)
    assert sorted(a.kind for a in alerts) == alert_kinds
    assert all(a.assigned_to == prescriber and a.status == "open" for a in alerts)


def test_the_primary_prescriber_is_emailed_without_patient_details(
    team, nurse, django_capture_on_commit_callbacks
):
    patient, prescriber = team
    with django_capture_on_commit_callbacks(execute=True):
        record(nurse, patient, PHQ9_ITEM9_POSITIVE)
    assert [m.to for m in mail.outbox] == [["okafor@clinic.example"]]
    body = mail.outbox[0].body
    assert patient.legal_family_name not in body and patient.mrn not in body
    assert "/alerts/" in body
    notification = Notification.objects.get()
    assert (notification.status, notification.attempts) == ("sent", 1)


def test_without_a_primary_prescriber_every_team_prescriber_is_told(front_desk, make_staff, nurse):
    patient = register(front_desk)
    one = make_staff("prescriber", username="rx1", email="rx1@clinic.example")
    two = make_staff("prescriber", username="rx2", email="rx2@clinic.example")
    patient_services.care_team_set(
        actor=front_desk,
        patient=patient,
        primary_prescriber=None,
        prescribers=[one, two],
        nurses=[nurse],
    )
    record(nurse, patient, PHQ9_ITEM9_POSITIVE)
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {"rx1", "rx2"}
    assert SuicidalityAlert.objects.get().assigned_to is None


def test_a_failed_email_is_retried_and_stays_visible(team, nurse, monkeypatch):
    patient, _ = team

    def broken(*args, **kwargs):
        raise ConnectionRefusedError("SMTP server down")

    monkeypatch.setattr("django.core.mail.send_mail", broken)
    record(nurse, patient, PHQ9_ITEM9_POSITIVE)
    notification = Notification.objects.get()
    assert delivery.notification_deliver(notification.pk) == "failed"
    notification.refresh_from_db()
    assert notification.attempts == 1 and "SMTP server down" in notification.last_error
    assert notification.next_attempt_at > timezone.now()
    # Not due yet: the sweep leaves it; once due it is picked up again.
    assert notifications_due() == []
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=timezone.now())
    assert notifications_due() == [notification.pk]
    # After every retry has failed it is marked for attention, never dropped.
    for _ in range(len(delivery.RETRY_DELAYS_S)):
        Notification.objects.filter(pk=notification.pk).update(next_attempt_at=timezone.now())
        delivery.notification_deliver(notification.pk)
    notification.refresh_from_db()
    assert notification.status == "gave_up"
    assert notification.attempts == len(delivery.RETRY_DELAYS_S) + 1
    # The alert itself is untouched by mail trouble.
    assert SuicidalityAlert.objects.get().status == "open"


def test_a_recipient_without_email_is_a_visible_failure(front_desk, prescriber, nurse):
    patient = register(front_desk)
    patient_services.care_team_set(
        actor=front_desk, patient=patient, primary_prescriber=prescriber, nurses=[nurse]
    )
    record(nurse, patient, PHQ9_ITEM9_POSITIVE)
    notification = Notification.objects.get()
    delivery.notification_deliver(notification.pk)
    notification.refresh_from_db()
    assert notification.status == "failed" and "no e-mail address" in notification.last_error


def test_acknowledging_needs_a_note_and_is_audited(team, nurse, therapist):
    patient, _ = team
    record(nurse, patient, PHQ9_ITEM9_POSITIVE)
    alert = SuicidalityAlert.objects.get()
    with pytest.raises(InvalidInput):
        alerts.alert_acknowledge(actor=therapist, alert=alert, note="  ")
    alert.refresh_from_db()
    assert alert.status == "open"
    alerts.alert_acknowledge(
        actor=therapist, alert=alert, note="Called the patient; safety plan reviewed."
    )
    alert.refresh_from_db()
    assert (alert.status, alert.acknowledged_by) == ("resolved", therapist)
    assert AuditEvent.objects.filter(
        object_type="suicidality_alert", action="update", actor=therapist
    ).exists()
    with pytest.raises(Conflict):
        alerts.alert_acknowledge(actor=therapist, alert=alert, note="again")


def test_high_risk_stays_until_a_prescriber_resolves_it(team, nurse):
    patient, prescriber = team
    record(nurse, patient, [1, 1, 0, 0, 1, 0, None], code="cssrs-screen")
    high = SuicidalityAlert.objects.get(kind="high_suicide_risk")
    alerts.alert_acknowledge(
        actor=nurse, alert=high, note="Stayed with the patient; prescriber paged."
    )
    high.refresh_from_db()
    assert high.status == "acknowledged"
    with pytest.raises(PermissionDenied):
        alerts.alert_resolve(actor=nurse, alert=high, note="resolved")
    alerts.alert_resolve(
        actor=prescriber, alert=high, note="Safety evaluation done; plan in place."
    )
    high.refresh_from_db()
    assert high.status == "resolved" and high.resolved_by == prescriber


@pytest.mark.parametrize("who", ["front_desk", "billing", "clinic_admin", "outsider"])
def test_only_care_team_clinicians_acknowledge(team, nurse, make_staff, request, who):
    patient, _ = team
    record(nurse, patient, PHQ9_ITEM9_POSITIVE)
    alert = SuicidalityAlert.objects.get()
    actor = (
        make_staff("prescriber", username="outsider")
        if who == "outsider"
        else request.getfixturevalue(who)
    )
    with pytest.raises(PermissionDenied):
        alerts.alert_acknowledge(actor=actor, alert=alert, note="seen")
    alert.refresh_from_db()
    assert alert.status == "open"


def test_entered_in_error_keeps_the_response_and_its_alert(team, nurse):
    patient, _ = team
    response = record(nurse, patient, PHQ9_ITEM9_POSITIVE)
    services.response_mark_entered_in_error(
        actor=nurse, response=response, reason="Wrong patient's form"
    )
    response.refresh_from_db()
    assert response.entered_in_error_reason == "Wrong patient's form"
    assert AssessmentResponse.objects.count() == 1
    assert SuicidalityAlert.objects.get().status == "open"


def test_a_link_takes_only_patient_facing_questionnaires(team, front_desk):
    patient, _ = team
    with pytest.raises(InvalidInput):
        services.questionnaire_link_create(
            actor=front_desk, patient=patient, instrument_codes=["madrs"]
        )
    assert not QuestionnaireLink.objects.exists()


def test_a_link_is_single_use_and_prompts_a_cssrs_after_a_positive_answer(team, front_desk):
    patient, _ = team
    link, token = services.questionnaire_link_create(
        actor=front_desk, patient=patient, instrument_codes=["phq9", "gad7"], timepoint="baseline"
    )
    assert link.token_digest != token and token not in link.token_digest
    digest = services.link_token_digest(token)
    response, remaining = services.link_response_record(
        token_digest=digest, instrument_code="phq9", answers=PHQ9_ITEM9_POSITIVE
    )
    assert (
        response.source == "patient_link"
        and response.recorded_by is None
        and response.timepoint == "baseline"
    )
    assert remaining == ["gad7", "cssrs-screen"]
    with pytest.raises(Conflict):
        services.link_response_record(
            token_digest=digest, instrument_code="phq9", answers=PHQ9_MODERATE
        )
    services.link_response_record(token_digest=digest, instrument_code="gad7", answers=[0] * 7)
    _, remaining = services.link_response_record(
        token_digest=digest,
        instrument_code="cssrs-screen",
        answers=[0, 0, None, None, None, 0, None],
    )
    assert remaining == []
    link.refresh_from_db()
    assert link.used_at is not None
    with pytest.raises(NotFound):
        services.link_response_record(token_digest=digest, instrument_code="gad7", answers=[0] * 7)


def test_an_expired_link_is_refused(team, front_desk):
    patient, _ = team
    link, token = services.questionnaire_link_create(
        actor=front_desk, patient=patient, instrument_codes=["phq9"]
    )
    QuestionnaireLink.objects.filter(pk=link.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    with pytest.raises(NotFound):
        services.link_response_record(
            token_digest=services.link_token_digest(token),
            instrument_code="phq9",
            answers=PHQ9_MODERATE,
        )
    assert not AssessmentResponse.objects.exists()


def test_a_link_cannot_answer_a_questionnaire_it_does_not_carry(team, front_desk):
    patient, _ = team
    _, token = services.questionnaire_link_create(
        actor=front_desk, patient=patient, instrument_codes=["gad7"]
    )
    with pytest.raises(Conflict):
        services.link_response_record(
            token_digest=services.link_token_digest(token),
            instrument_code="phq9",
            answers=PHQ9_MODERATE,
        )


def test_the_chart_query_count_stays_flat_as_assessments_accumulate(client, team, nurse):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    patient, _ = team
    url = reverse("patients:patient_chart", args=[patient.uuid])
    client.force_login(nurse)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    record(nurse, patient, PHQ9_MODERATE)
    record(nurse, patient, PHQ9_ITEM9_POSITIVE)
    few = queries()
    for _ in range(10):
        record(nurse, patient, PHQ9_MODERATE)
        record(nurse, patient, [1] * 7, code="gad7")
        record(nurse, patient, PHQ9_ITEM9_POSITIVE)
    assert queries() == few
