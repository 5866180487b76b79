"""Follow-up screening attaches to the alert still waiting for a clinician (issue 11, item 4;
ADR 0004): one alert gathers the answers, a higher risk escalates it and e-mails its
prescriber again, and an alert a clinician already acted on is never reopened.

Expected values from the sources: policy-defaults.md "Suicidality" (PHQ-9 item 9 ≥ 1,
QIDS-SR16 item 12 ≥ 1, any C-SSRS yes → alert the primary clinician; a high C-SSRS risk stays
on the chart until resolved) and the C-SSRS triage rule [G13] (high = yes to Q4 or Q5, or Q6
within 3 months; low = Q1 and/or Q2 only).
"""

from __future__ import annotations

import pytest
from django.core import mail

from clinic.assessments import alerts, services
from clinic.assessments.models import (
    AlertFollowUp,
    AssessmentResponse,
    SuicidalityAlert,
)
from clinic.assessments.selectors import alert_answers, unresolved_alerts_for_patient
from clinic.core.exceptions import Conflict, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.notifications.models import Notification
from clinic.patients import services as patient_services
from clinic.patients.tests.factories import register

pytestmark = pytest.mark.django_db

N = None
PHQ9_ITEM9 = [0, 0, 0, 0, 0, 0, 0, 0, 1]  # item 9 "several days": ideation
QIDS_ITEM12 = [0] * 11 + [1] + [0] * 4  # item 12 (thoughts of death) = 1: ideation
CSSRS_LOW = [1, 0, N, N, N, 0, N]  # Q1 yes only: low risk, an ideation answer
CSSRS_HIGH = [1, 1, 0, 1, 0, 0, N]  # Q4 (intent) yes: high risk
CSSRS_NONE = [0, 0, N, N, N, 0, N]  # every question No: no alert
CSSRS_HIGH_TRIGGER = (
    "C-SSRS screen: high risk; C-SSRS Q1 answered yes; C-SSRS Q2 answered yes; "
    "C-SSRS Q4 answered yes"
)


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


def record(actor, patient, answers, code="phq9"):
    return services.response_record(
        actor=actor, patient=patient, instrument_code=code, answers=answers
    )


def alert_events(alert):
    return list(
        AuditEvent.objects.filter(
            object_type="suicidality_alert", object_id=str(alert.uuid)
        ).order_by("pk")
    )


def test_a_cssrs_after_a_phq9_joins_the_waiting_alert_without_a_second_email(team, nurse):
    patient, prescriber = team
    record(nurse, patient, PHQ9_ITEM9)
    alert = SuicidalityAlert.objects.get()
    cssrs = record(nurse, patient, CSSRS_LOW, code="cssrs-screen")

    assert SuicidalityAlert.objects.count() == 1
    follow_up = AlertFollowUp.objects.get()
    assert (follow_up.alert, follow_up.response, follow_up.kind, follow_up.trigger) == (
        alert,
        cssrs,
        "suicidal_ideation",
        "C-SSRS Q1 answered yes",
    )
    alert.refresh_from_db()
    assert (alert.kind, alert.status, alert.escalated_at) == ("suicidal_ideation", "open", None)
    assert Notification.objects.filter(alert=alert).count() == 1
    assert cssrs.in_suicidality_alert()
    added = alert_events(alert)[-1]
    assert (added.action, added.patient) == ("update", patient)
    assert added.summary == "Follow-up answers added (C-SSRS Screener): C-SSRS Q1 answered yes"


def test_a_high_risk_cssrs_escalates_the_waiting_ideation_alert(
    team, nurse, django_capture_on_commit_callbacks
):
    patient, prescriber = team
    with django_capture_on_commit_callbacks(execute=True):
        record(nurse, patient, PHQ9_ITEM9)
    alert = SuicidalityAlert.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        cssrs = record(nurse, patient, CSSRS_HIGH, code="cssrs-screen")

    assert SuicidalityAlert.objects.count() == 1
    alert.refresh_from_db()
    assert (alert.kind, alert.escalated_from_kind, alert.escalated_by_response) == (
        "high_suicide_risk",
        "suicidal_ideation",
        cssrs,
    )
    assert alert.escalated_at is not None and alert.escalated_at >= alert.created_at
    assert (alert.status, alert.assigned_to, alert.trigger) == (
        "open",
        prescriber,
        "PHQ-9 item 9 answered 1",
    )
    follow_up = AlertFollowUp.objects.get()
    assert (follow_up.kind, follow_up.trigger) == ("high_suicide_risk", CSSRS_HIGH_TRIGGER)

    # The audit trail: raised, follow-up added, escalated with the kind before and after.
    raised, added, escalated = alert_events(alert)
    assert (raised.action, added.action, escalated.action) == ("create", "update", "update")
    assert escalated.changes["kind"] == {
        "before": "suicidal_ideation",
        "after": "high_suicide_risk",
    }
    assert escalated.changes["escalated_by_response"]["after"] == str(cssrs.uuid)
    assert escalated.summary.startswith(
        "Suicidality alert escalated to a high suicide risk (C-SSRS) by the answers of the "
        "C-SSRS Screener"
    )

    # The prescriber is e-mailed again, through the outbox, with no PHI.
    notifications = list(Notification.objects.filter(alert=alert).order_by("pk"))
    assert [n.recipient for n in notifications] == [prescriber, prescriber]
    assert [m.to for m in mail.outbox] == [["okafor@clinic.example"]] * 2
    escalation = mail.outbox[1]
    assert escalation.subject.endswith("a suicidality alert was escalated")
    assert "is now a high suicide risk (C-SSRS)." in escalation.body
    assert f"/alerts/{alert.uuid}/" in escalation.body
    text = escalation.subject + escalation.body
    for phi in (patient.legal_given_name, patient.legal_family_name, patient.mrn):
        assert phi not in text


def test_an_escalated_alert_follows_the_high_risk_lifecycle(team, nurse):
    patient, prescriber = team
    record(nurse, patient, PHQ9_ITEM9)
    record(nurse, patient, CSSRS_HIGH, code="cssrs-screen")
    alert = SuicidalityAlert.objects.get()

    alerts.alert_acknowledge(
        actor=nurse, alert=alert, note="Stayed with the patient; prescriber paged."
    )
    alert.refresh_from_db()
    # An ideation alert would be done now; a high risk stays on the chart until resolved.
    assert alert.status == "acknowledged"
    assert unresolved_alerts_for_patient(patient=patient) == [alert]
    with pytest.raises(PermissionDenied):
        alerts.alert_resolve(actor=nurse, alert=alert, note="resolved")
    alerts.alert_resolve(actor=prescriber, alert=alert, note="Safety evaluation done.")
    alert.refresh_from_db()
    assert (alert.status, alert.resolved_by) == ("resolved", prescriber)


def test_answers_after_an_ideation_alert_was_acknowledged_raise_a_new_alert(team, nurse):
    patient, _ = team
    record(nurse, patient, PHQ9_ITEM9)
    first = SuicidalityAlert.objects.get()
    alerts.alert_acknowledge(actor=nurse, alert=first, note="Phoned; safety plan in place.")

    second_phq9 = record(nurse, patient, PHQ9_ITEM9)

    first.refresh_from_db()
    assert first.status == "resolved" and not first.follow_ups.exists()
    second = SuicidalityAlert.objects.exclude(pk=first.pk).get()
    assert (second.response, second.kind, second.status) == (
        second_phq9,
        "suicidal_ideation",
        "open",
    )
    assert Notification.objects.count() == 2
    assert not AlertFollowUp.objects.exists()


def test_answers_after_a_high_risk_was_acknowledged_raise_a_new_alert(team, nurse):
    """Acknowledged but not resolved: still on the chart, yet a clinician has acted on it, so
    later answers are new information for a new alert."""
    patient, _ = team
    record(nurse, patient, CSSRS_HIGH, code="cssrs-screen")
    high = SuicidalityAlert.objects.get()
    alerts.alert_acknowledge(actor=nurse, alert=high, note="Prescriber paged.")

    later = record(nurse, patient, CSSRS_LOW, code="cssrs-screen")

    high.refresh_from_db()
    assert (high.kind, high.status, high.follow_ups.count()) == (
        "high_suicide_risk",
        "acknowledged",
        0,
    )
    new = SuicidalityAlert.objects.get(response=later)
    assert (new.kind, new.status) == ("suicidal_ideation", "open")
    assert Notification.objects.count() == 2


def test_a_follow_up_no_higher_than_the_alert_neither_escalates_nor_emails(team, nurse):
    patient, _ = team
    record(nurse, patient, CSSRS_HIGH, code="cssrs-screen")
    high = SuicidalityAlert.objects.get()
    phq9 = record(nurse, patient, PHQ9_ITEM9)

    high.refresh_from_db()
    assert (high.kind, high.escalated_at, high.escalated_from_kind) == (
        "high_suicide_risk",
        None,
        "",
    )
    assert [(f.response, f.kind) for f in high.follow_ups.all()] == [(phq9, "suicidal_ideation")]
    assert Notification.objects.count() == 1


def test_positive_answers_in_a_row_gather_on_one_alert_in_order(team, nurse):
    patient, _ = team
    phq9 = record(nurse, patient, PHQ9_ITEM9)
    qids = record(nurse, patient, QIDS_ITEM12, code="qids-sr16")
    low = record(nurse, patient, CSSRS_LOW, code="cssrs-screen")
    record(nurse, patient, CSSRS_NONE, code="cssrs-screen")  # no yes: joins nothing
    high = record(nurse, patient, CSSRS_HIGH, code="cssrs-screen")
    high_again = record(nurse, patient, CSSRS_HIGH, code="cssrs-screen")

    alert = SuicidalityAlert.objects.get()
    rows = alert_answers(alert)
    assert [(r.response, r.follow_up, r.escalated) for r in rows] == [
        (phq9, False, False),
        (qids, True, False),
        (low, True, False),
        (high, True, True),
        (high_again, True, False),
    ]
    assert [r.trigger for r in rows[:3]] == [
        "PHQ-9 item 9 answered 1",
        "QIDS-SR16 item 12 answered 1",
        "C-SSRS Q1 answered yes",
    ]
    assert [r.result for r in rows] == [
        "total 1 of 27, none–minimal",
        "total 1 of 27, none",
        "risk: low",
        "risk: high",
        "risk: high",
    ]
    # Raised once and escalated once: two e-mails, however many answers joined.
    assert Notification.objects.count() == 2


def test_without_a_primary_prescriber_an_escalation_emails_every_team_prescriber(
    front_desk, make_staff, nurse
):
    first, second = make_staff("prescriber"), make_staff("prescriber")
    patient = register(front_desk)
    patient_services.care_team_set(
        actor=front_desk,
        patient=patient,
        primary_prescriber=None,
        prescribers=[first, second],
        nurses=[nurse],
    )
    record(nurse, patient, PHQ9_ITEM9)
    record(nurse, patient, CSSRS_HIGH, code="cssrs-screen")

    alert = SuicidalityAlert.objects.get()
    assert alert.assigned_to is None and alert.kind == "high_suicide_risk"
    recipients = list(Notification.objects.order_by("pk").values_list("recipient", flat=True))
    assert sorted(recipients[:2]) == sorted(recipients[2:]) == sorted([first.pk, second.pk])


def test_an_escalation_reaches_the_new_prescriber_when_the_assigned_one_left(
    team, front_desk, make_staff, nurse
):
    patient, former = team
    record(nurse, patient, PHQ9_ITEM9)
    successor = make_staff("prescriber", username="moreau")
    patient_services.care_team_set(
        actor=front_desk, patient=patient, primary_prescriber=successor, nurses=[nurse]
    )
    record(nurse, patient, CSSRS_HIGH, code="cssrs-screen")
    assert [n.recipient for n in Notification.objects.order_by("pk")] == [former, successor]


def test_with_several_alerts_waiting_from_before_the_most_serious_gathers(team, nurse):
    """Alerts raised before follow-ups attached may wait side by side; they stay as they are."""
    patient, prescriber = team
    older = record(nurse, patient, PHQ9_ITEM9)
    legacy = SuicidalityAlert.objects.get()
    cssrs = AssessmentResponse.objects.create(
        patient=patient,
        instrument_code="cssrs-screen",
        instrument_version="C-SSRS screen",
        answers=CSSRS_HIGH,
        complete=True,
        severity="high",
        flags=["suicidal_ideation", "immediate_safety_evaluation"],
        source="staff",
        recorded_by=nurse,
    )
    legacy_high = SuicidalityAlert.objects.create(
        patient=patient,
        response=cssrs,
        kind="high_suicide_risk",
        trigger="C-SSRS screen: high risk",
        assigned_to=prescriber,
    )
    newer = record(nurse, patient, PHQ9_ITEM9)

    assert [f.response for f in legacy_high.follow_ups.all()] == [newer]
    assert not legacy.follow_ups.exists()
    legacy.refresh_from_db()
    assert (legacy.response, legacy.kind, legacy.status) == (older, "suicidal_ideation", "open")


def test_acknowledging_is_refused_while_new_answers_are_unread(team, nurse, prescriber):
    patient, _ = team
    record(nurse, patient, PHQ9_ITEM9)
    alert = SuicidalityAlert.objects.get()
    # The nurse opened the alert with no follow-ups; the C-SSRS escalates it meanwhile.
    record(nurse, patient, CSSRS_HIGH, code="cssrs-screen")

    with pytest.raises(Conflict) as refused:
        alerts.alert_acknowledge(
            actor=nurse, alert=alert, note="Phoned; no plan.", seen_follow_ups=0
        )
    assert refused.value.code == "alert_has_new_answers"
    assert refused.value.message == (
        "New answers were added to this alert since you opened it and it is now a high "
        "suicide risk (C-SSRS). Read them, then acknowledge."
    )
    alert.refresh_from_db()
    assert alert.status == "open"

    alerts.alert_acknowledge(
        actor=nurse, alert=alert, note="Read the C-SSRS; prescriber paged.", seen_follow_ups=1
    )
    alert.refresh_from_db()
    assert alert.status == "acknowledged"


def test_a_follow_up_marked_entered_in_error_stays_on_the_alert(team, nurse):
    patient, _ = team
    record(nurse, patient, PHQ9_ITEM9)
    cssrs = record(nurse, patient, CSSRS_HIGH, code="cssrs-screen")
    services.response_mark_entered_in_error(
        actor=nurse, response=cssrs, reason="Another patient's answers"
    )
    alert = SuicidalityAlert.objects.get()
    assert alert.kind == "high_suicide_risk"
    assert [f.response for f in alert.follow_ups.all()] == [cssrs]


def test_a_link_appends_the_cssrs_whose_high_risk_escalates_the_same_alert(team, front_desk):
    patient, _ = team
    _, token = services.questionnaire_link_create(
        actor=front_desk, patient=patient, instrument_codes=["phq9"]
    )
    digest = services.link_token_digest(token)
    _, remaining = services.link_response_record(
        token_digest=digest, instrument_code="phq9", answers=PHQ9_ITEM9
    )
    assert remaining == ["cssrs-screen"]
    cssrs, remaining = services.link_response_record(
        token_digest=digest, instrument_code="cssrs-screen", answers=CSSRS_HIGH
    )
    assert remaining == []
    alert = SuicidalityAlert.objects.get()
    assert (alert.kind, alert.escalated_by_response) == ("high_suicide_risk", cssrs)
    assert cssrs.in_suicidality_alert()


def test_a_positive_phq9_joining_an_open_alert_still_asks_for_the_cssrs_on_the_link(
    team, nurse, front_desk
):
    patient, _ = team
    record(nurse, patient, CSSRS_LOW, code="cssrs-screen")
    _, token = services.questionnaire_link_create(
        actor=front_desk, patient=patient, instrument_codes=["phq9"]
    )
    phq9, remaining = services.link_response_record(
        token_digest=services.link_token_digest(token),
        instrument_code="phq9",
        answers=PHQ9_ITEM9,
    )
    assert not phq9.alerts.exists() and phq9.alert_follow_ups.exists()
    assert remaining == ["cssrs-screen"]
