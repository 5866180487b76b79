"""The prescriber's eligibility review and signature: findings per route with their verdicts
(screening-rules.md via TRD_HISTORY: past psychosis is relative for iv/im/esketamine and closes
the at-home sublingual route), justifications, stale and changed intakes sent back for
re-review, REMS enrolment, the rule-set page, and the review's query count.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.patients import services as patient_services
from clinic.patients.tests.factories import register
from clinic.screening import selectors, services
from clinic.screening.models import (
    EligibilityDecision,
    Intake,
    RemsEnrollment,
)
from clinic.screening.tests.pages import (
    JUSTIFICATION,
    _findings,
    _review,
    _route_cards,
    _sign_form,
    _staff_form,
    _state,
    _verdict,
)
from clinic.screening.tests.test_eligibility import TRD_HISTORY, history
from tests.helpers import chart_html as _chart

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- the review


def test_the_review_groups_findings_per_route_with_its_verdict(
    client, patient, submitted, prescriber
):
    client.force_login(prescriber)
    got = _review(client, patient)
    assert got.status_code == 200
    html = got.content.decode()
    cards = _route_cards(html)
    assert list(cards) == ["iv", "im", "esketamine", "sublingual"]
    assert {route: _verdict(card) for route, card in cards.items()} == {
        "iv": "Eligible with precautions",
        "im": "Eligible with precautions",
        "esketamine": "Eligible with precautions",
        "sublingual": "Not eligible",
    }
    # Findings in words (the rules' titles, rules.py), never as rule codes.
    for route in ("iv", "im", "esketamine"):
        assert _findings(cards[route]) == [("Past psychosis", "relative")]
    assert set(_findings(cards["sublingual"])) == {
        ("Past psychosis: no unmonitored home sessions", "absolute"),
        ("No treatment monitor at home", "absolute"),
        ("No blood-pressure monitor at home", "absolute"),
    }
    for code in ("psychosis_history", "no_treatment_monitor", "no_home_bp_monitor"):
        assert code not in html.replace(f"justification_{code}", "")
    # Treatment resistance and the trials behind it.
    assert "<strong>Treatment-resistant</strong>: 2 adequate trials without response" in html
    assert "sertraline  — No response; adequate; this episode" in html
    assert "bupropion  — Partial response; adequate; this episode" in html
    assert "128/82 mmHg" in html and "27.7" in html  # BMI 80 / 1.70²
    assert "Sertraline" in html and "(Other)" in html
    assert "Rule set v1" in html


def test_the_findings_in_a_route_come_most_serious_first(client, front_desk, prescriber, nurse):
    """Conditions chosen so one route holds an absolute and a relative finding."""
    patient = register(front_desk, legal_family_name="Okafor")
    patient_services.care_team_set(
        actor=front_desk, patient=patient, primary_prescriber=prescriber, nurses=[nurse]
    )
    intake = services.intake_start(actor=nurse, patient=patient)
    data = {
        **TRD_HISTORY["data"],
        "condition_answers": history("psychosis_history", "hypersensitivity"),
    }
    services.intake_save(actor=nurse, intake=intake, submit=True, **{**TRD_HISTORY, "data": data})
    client.force_login(prescriber)
    cards = _route_cards(_review(client, patient).content.decode())
    levels = [level for _title, level in _findings(cards["iv"])]
    assert levels == sorted(levels, key=["absolute", "relative", "caution"].index)
    assert levels[0] == "absolute" and "relative" in levels
    assert _verdict(cards["iv"]) == "Not eligible"


def test_a_treatment_without_failed_trials_is_not_treatment_resistant(
    client, patient, nurse, prescriber
):
    intake = services.intake_start(actor=nurse, patient=patient)
    services.intake_save(
        actor=nurse,
        intake=intake,
        submit=True,
        data={
            **TRD_HISTORY["data"],
            "indication": "major_depression",
            "takes_medications": False,
            "tried_antidepressants": False,
        },
        medications=[],
        trials=[],
    )
    client.force_login(prescriber)
    html = _review(client, patient).content.decode()
    assert "<strong>Not treatment-resistant</strong>: 0 adequate trials" in html
    assert "Tried antidepressants: <strong>No</strong>." in html
    assert "Takes medicines now: <strong>No</strong>." in html
    assert "None recorded." in html


def test_the_review_without_an_intake_offers_to_start_one(client, patient, nurse, therapist):
    client.force_login(nurse)
    html = _review(client, patient).content.decode()
    assert "No intake yet." in html and "Start the intake" in html
    client.force_login(therapist)
    html = _review(client, patient).content.decode()
    assert "No intake yet." in html and "Start the intake" not in html
    assert not Intake.objects.exists()


def test_signing_with_no_intake_is_not_found_and_writes_nothing(client, patient, prescriber):
    client.force_login(prescriber)
    got = client.post(
        reverse("intake:eligibility_review", args=[patient.uuid]),
        {"outcome": "ineligible", "revision": "1"},
    )
    assert got.status_code == 404
    assert not EligibilityDecision.objects.exists()


# --------------------------------------------------------------------------- signing


def test_the_prescriber_signs_with_a_justification_and_sees_the_decision(
    client, patient, submitted, prescriber
):
    client.force_login(prescriber)
    url = reverse("intake:eligibility_review", args=[patient.uuid])
    missing = client.post(url, _sign_form(submitted, "eligible", approved_routes=["iv"]))
    assert missing.status_code == 200
    html = missing.content.decode()
    assert "Proceeding despite “Past psychosis” needs a written justification" in html
    assert 'value="iv" checked' in html and 'value="eligible" checked' in html
    assert not EligibilityDecision.objects.exists()

    signed = client.post(
        url,
        _sign_form(
            submitted,
            "eligible",
            approved_routes=["iv", "esketamine"],
            justification_psychosis_history=JUSTIFICATION,
        ),
        follow=True,
    )
    assert signed.redirect_chain[-1][0] == url
    decision = EligibilityDecision.objects.get()
    assert (decision.outcome, decision.approved_routes, decision.signed_by) == (
        "eligible",
        ["iv", "esketamine"],
        prescriber,
    )
    assert decision.justifications == {"psychosis_history": JUSTIFICATION}
    assert decision.intake_revision == submitted.revision and decision.rule_set.version == 1
    html = signed.content.decode()
    assert "Eligibility decision signed." in html
    assert "Current decision: <strong>Eligible for the chosen routes</strong> (iv, esketamine)" in (
        html
    )
    assert "must be re-signed" not in html
    assert "Decision history" in html and "stable since; psychiatrist agrees." in html


def test_an_absolute_finding_cannot_be_overridden_on_the_page(
    client, patient, submitted, prescriber
):
    client.force_login(prescriber)
    before = _state()
    got = client.post(
        reverse("intake:eligibility_review", args=[patient.uuid]),
        _sign_form(
            submitted,
            "eligible",
            approved_routes=["sublingual"],
            justification_psychosis_history=JUSTIFICATION,
        ),
    )
    assert got.status_code == 200
    html = got.content.decode()
    errors = re.findall(r'<p class="field-error" role="alert">(.*?)</p>', html)
    assert any(
        "At-home sublingual is closed by an absolute finding" in e and "cannot be overridden" in e
        for e in errors
    )
    assert _state() == before


def test_a_deferred_decision_must_say_what_is_awaited(client, patient, submitted, prescriber):
    client.force_login(prescriber)
    url = reverse("intake:eligibility_review", args=[patient.uuid])
    before = _state()
    got = client.post(url, _sign_form(submitted, "deferred", awaiting="   "))
    assert got.status_code == 200
    assert "Say what the decision is waiting for." in got.content.decode()
    assert _state() == before

    done = client.post(url, _sign_form(submitted, "deferred", awaiting="Cardiology letter"))
    assert done.status_code == 302
    assert EligibilityDecision.objects.get().awaiting == "Cardiology letter"
    assert "Deferred: Cardiology letter" in _review(client, patient).content.decode()


def test_a_stale_review_is_refused_and_writes_nothing(
    client, patient, submitted, nurse, prescriber
):
    client.force_login(prescriber)
    page = _review(client, patient).content.decode()
    seen = re.search(r'name="revision" value="(\d+)"', page).group(1)
    # Meanwhile the nurse corrects the intake.
    nurse_client = Client()
    nurse_client.force_login(nurse)
    changed = nurse_client.post(
        reverse("intake:intake_edit", args=[patient.uuid]), _staff_form(patient, allergies="Latex")
    )
    assert changed.status_code == 302
    submitted.refresh_from_db()
    assert submitted.revision == int(seen) + 1
    before = _state()
    got = client.post(
        reverse("intake:eligibility_review", args=[patient.uuid]),
        {"outcome": "ineligible", "revision": seen},
    )
    assert got.status_code == 200
    html = got.content.decode()
    assert "changed while you were reviewing" in html
    assert f'name="revision" value="{submitted.revision}"' in html  # the fresh one to sign
    assert _state() == before


@pytest.mark.parametrize("revision", ["abc", "1.5", "-1", "99999999999999999999999"])
def test_a_malformed_revision_is_refused_not_a_server_error(
    client, patient, submitted, prescriber, revision
):
    client.force_login(prescriber)
    client.raise_request_exception = False
    before = _state()
    got = client.post(
        reverse("intake:eligibility_review", args=[patient.uuid]),
        {"outcome": "ineligible", "revision": revision},
    )
    assert got.status_code in (200, 400), got.status_code
    assert _state() == before


def test_a_changed_intake_sends_the_decision_back_for_re_review(
    client, patient, submitted, nurse, prescriber
):
    services.decision_sign(
        actor=prescriber,
        intake=submitted,
        outcome="eligible",
        approved_routes=["iv"],
        justifications={"psychosis_history": JUSTIFICATION},
    )
    client.force_login(prescriber)
    assert "must be re-signed" not in _review(client, patient).content.decode()
    chart = _chart(client, patient)
    assert "needs re-review" not in chart and "Eligible for the chosen routes" in chart

    client.force_login(nurse)
    assert (
        client.post(
            reverse("intake:intake_edit", args=[patient.uuid]),
            _staff_form(patient, allergies="Latex"),
        ).status_code
        == 302
    )
    submitted.refresh_from_db()
    assert submitted.revision == 2
    chart = _chart(client, patient)
    assert "needs re-review" in chart
    assert "Eligibility decision needs re-review" in chart  # the header alert

    client.force_login(prescriber)
    html = _review(client, patient).content.decode()
    assert "this decision must be re-signed before any treatment is planned" in html
    assert "<strong>Submitted</strong>, revision 2" in html
    assert not selectors.planning_clearance(patient=patient, route="iv").allowed
    # Re-signing clears it.
    client.post(
        reverse("intake:eligibility_review", args=[patient.uuid]),
        _sign_form(
            submitted,
            "eligible",
            approved_routes=["iv"],
            justification_psychosis_history=JUSTIFICATION,
        ),
    )
    assert EligibilityDecision.objects.count() == 2
    assert "needs re-review" not in _chart(client, patient)
    assert "must be re-signed" not in _review(client, patient).content.decode()


def test_saving_the_same_answers_does_not_send_the_decision_back(
    client, patient, nurse, prescriber
):
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    client.post(url, _staff_form(patient, action="submit"))
    intake = Intake.objects.get()
    services.decision_sign(actor=prescriber, intake=intake, outcome="ineligible")
    client.post(url, _staff_form(patient, action="save"))
    intake.refresh_from_db()
    assert intake.revision == 1
    assert "needs re-review" not in _chart(client, patient)


# --------------------------------------------------------------------------- REMS


def test_rems_enrolment_is_recorded_and_shown_on_the_review(client, patient, submitted, prescriber):
    client.force_login(prescriber)
    review = _review(client, patient).content.decode()
    assert "Not enrolled." in review and "Record REMS enrolment" in review
    url = reverse("intake:rems_create", args=[patient.uuid])
    assert client.get(url).status_code == 200
    today = timezone.localdate()

    unsigned = client.post(url, {"enrolled_on": today.isoformat()})
    assert unsigned.status_code == 200
    assert 'id="id_signed_by_patient_error"' in unsigned.content.decode()
    future = client.post(
        url,
        {
            "enrolled_on": (today + datetime.timedelta(days=1)).isoformat(),
            "signed_by_patient": "on",
        },
    )
    assert future.status_code == 200
    assert 'id="id_enrolled_on_error"' in future.content.decode()
    assert not RemsEnrollment.objects.exists()

    done = client.post(
        url, {"enrolled_on": today.isoformat(), "signed_by_patient": "on"}, follow=True
    )
    assert done.redirect_chain[-1][0] == reverse("intake:eligibility_review", args=[patient.uuid])
    enrolment = RemsEnrollment.objects.get()
    assert (enrolment.enrolled_on, enrolment.signed_by_prescriber, enrolment.recorded_by) == (
        today,
        prescriber,
        prescriber,
    )
    html = done.content.decode()
    assert "REMS enrolment recorded." in html
    assert (
        f"Enrolled {today:%m/%d/%Y}, signed by the patient and {prescriber.display_name}." in html
    )
    assert "Not enrolled." not in html and "Record REMS enrolment" not in html


# --------------------------------------------------------------------------- rule set page


def test_the_rules_page_lists_the_rules_with_label_rules_marked(client, clinic_admin, therapist):
    for actor in (clinic_admin, therapist):
        client.force_login(actor)
        got = client.get(reverse("intake:rule_set"))
        assert got.status_code == 200
        html = got.content.decode()
        assert 'Screening rule set <span class="muted">version 1</span>' in html
        assert "<code>psychosis_history</code>" in html
        assert "<code>esketamine_off_label</code>" in html
        assert '<span class="badge">label</span>' in html
        assert '<span class="badge">clinic policy</span>' in html


# --------------------------------------------------------------------------- query counts


def _patient_with(front_desk, prescriber, nurse, n: int, name: str):
    patient = register(front_desk, legal_family_name=name)
    patient_services.care_team_set(
        actor=front_desk, patient=patient, primary_prescriber=prescriber, nurses=[nurse]
    )
    intake = services.intake_start(actor=nurse, patient=patient)
    intake = services.intake_save(
        actor=nurse,
        intake=intake,
        submit=True,
        data=TRD_HISTORY["data"],
        medications=[
            {"name": f"Drug {i}", "medication_class": "other", "dose": "1 mg"} for i in range(n)
        ],
        trials=[
            {
                "drug": f"antidepressant {i}",
                "adequate": True,
                "outcome": "no_response",
                "current_episode": True,
            }
            for i in range(n)
        ],
    )
    for _ in range(n):
        services.decision_sign(actor=prescriber, intake=intake, outcome="ineligible")
    services.rems_record(
        actor=prescriber,
        patient=patient,
        enrolled_on=timezone.localdate(),
        signed_by_patient=True,
        prescriber=prescriber,
    )
    return patient


def test_the_review_page_query_count_stays_flat(client, front_desk, prescriber, nurse):
    small = _patient_with(front_desk, prescriber, nurse, 3, "Small")
    large = _patient_with(front_desk, prescriber, nurse, 12, "Large")
    client.force_login(prescriber)
    assert _review(client, small).status_code == 200  # warm up the session and caches
    counts = {}
    for label, patient in (("small", small), ("large", large)):
        with CaptureQueriesContext(connection) as queries:
            got = _review(client, patient)
        assert got.status_code == 200
        counts[label] = len(queries)
    assert "antidepressant 11" in got.content.decode()
    assert counts["small"] == counts["large"], counts


def _thresholds(**changed):
    from clinic.screening.rules import THRESHOLDS

    values = {f"threshold_{name}": str(spec.default) for name, spec in THRESHOLDS.items()}
    values.update({f"threshold_{name}": value for name, value in changed.items()})
    return values


def test_a_clinic_admin_changes_a_threshold_as_a_new_version(client, clinic_admin):
    from clinic.screening.models import RuleSetVersion

    client.force_login(clinic_admin)
    got = client.post(
        reverse("intake:rule_set"),
        {**_thresholds(older_adult_age_years="70"), "note": "Older adults from 70 here"},
    )

    assert got.status_code == 302
    latest = RuleSetVersion.objects.order_by("-version").first()
    # Stored whole, relative to the defaults: only the changed value, so v2 stands alone.
    assert latest.version == 2
    assert latest.policy == {"thresholds": {"older_adult_age_years": 70}, "levels": {}}
    assert latest.note == "Older adults from 70 here"


def test_a_threshold_that_is_not_a_whole_number_is_refused_by_name(client, clinic_admin):
    from clinic.screening.models import RuleSetVersion

    client.force_login(clinic_admin)
    got = client.post(
        reverse("intake:rule_set"), _thresholds(adult_age_years="18.5", older_adult_age_years="")
    )

    assert got.status_code == 200
    html = got.content.decode()
    assert "Adults from: enter a whole number." in html
    assert "Older adults from: enter a whole number." in html
    assert not RuleSetVersion.objects.filter(version__gt=1).exists()


def test_a_threshold_laxer_than_the_label_is_refused(client, clinic_admin):
    from clinic.screening.models import RuleSetVersion

    client.force_login(clinic_admin)
    got = client.post(reverse("intake:rule_set"), _thresholds(adult_age_years="16"))

    assert got.status_code == 200
    assert 'role="alert"' in got.content.decode()
    assert not RuleSetVersion.objects.filter(version__gt=1).exists()


def test_only_a_clinic_admin_may_change_the_rules(client, prescriber):
    client.force_login(prescriber)
    got = client.post(reverse("intake:rule_set"), _thresholds(older_adult_age_years="70"))

    assert got.status_code == 403


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("older_adult_age_years", "99999999999999999999999", "Older adults from: enter a number"),
        ("older_adult_age_years", "126", "from 1 to 125 years"),
        ("uncontrolled_systolic_mmhg", "301", "from 50 to 300 mmHg"),
        ("elevated_diastolic_mmhg", "5", "from 20 to 200 mmHg"),
        ("treatment_resistance_failed_trials", "100000", "from 1 to 1000 trials"),
        ("older_adult_age_years", "²", "Older adults from: enter a whole number."),
    ],
)
def test_a_threshold_no_intake_could_reach_is_refused(client, clinic_admin, name, value, words):
    """Issue 13: someone saved "older adults from 99999999999999999999999 years"."""
    from clinic.screening.models import RuleSetVersion

    client.force_login(clinic_admin)
    got = client.post(reverse("intake:rule_set"), _thresholds(**{name: value}))

    assert got.status_code == 200
    assert words in got.content.decode()
    assert not RuleSetVersion.objects.filter(version__gt=1).exists()


def test_the_threshold_bounds_follow_the_clinic_policy(settings):
    from clinic.screening.services.rule_set import threshold_bounds, threshold_problems

    assert threshold_problems({"older_adult_age_years": 125}) == []
    settings.CLINIC_POLICY = {"dates": {"oldest_patient_age_years": 110}}
    assert threshold_bounds()["older_adult_age_years"] == (1, 110)
    assert threshold_problems({"older_adult_age_years": 111})
