"""Incomplete intakes on the review (issue 11, docs/adr/0010: unanswered is unknown, never
"no"): what is missing said in words, eligible refused on the server for an incomplete route,
and older decisions on an intake with gaps flagged, never changed.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from clinic.screening import services
from clinic.screening.models import (
    EligibilityDecision,
    Intake,
)
from clinic.screening.tests.pages import (
    JUSTIFICATION,
    MEDS,
    TRIALS,
    _patient_form,
    _review,
    _route_cards,
    _sign_form,
    _state,
    _verdict,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def empty_submitted(patient, nurse):
    """The issue's first finding: a fresh patient's intake submitted with nothing filled in."""
    intake = services.intake_start(actor=nurse, patient=patient)
    return services.intake_save(actor=nurse, intake=intake, data={}, submit=True)


# calculators.md §3's missing inputs in the review's words (rules.MISSING_INPUT_TITLES), for
# the empty intake: everything but the age, which comes from the date of birth on record.
EMPTY_MISSING_WORDS = (
    "weight, screening blood pressure (systolic and diastolic), heart rate, indication, "
    "medical history (a yes or no for every condition), current medicines (yes or no, and "
    "each medicine&#x27;s class), pregnancy, breastfeeding"
)


def test_an_empty_intake_is_reviewed_as_incomplete_with_what_is_missing(
    client, patient, empty_submitted, prescriber
):
    client.force_login(prescriber)
    html = _review(client, patient).content.decode()
    cards = _route_cards(html)
    incomplete = f"Incomplete — cannot be signed eligible until: {EMPTY_MISSING_WORDS}"
    assert {route: _verdict(card) for route, card in cards.items()} == {
        "iv": incomplete,
        "im": incomplete,
        "esketamine": "Not eligible",
        "sublingual": "Not eligible",
    }
    intake_url = reverse("intake:intake_edit", args=[patient.uuid])
    assert f'href="{intake_url}"' in cards["iv"]
    assert "The intake is incomplete" in html
    # The page does not offer "eligible", nor any route to open.
    assert 'value="eligible"' not in html and 'name="approved_routes"' not in html
    assert "“Eligible” is not offered: no route is open while the intake is incomplete." in html
    # Not-answered questions are said as such.
    assert "Not answered: 16 of 16" in html
    assert "Takes medicines now: <strong>Not answered</strong>." in html
    assert "Tried antidepressants: <strong>Not answered</strong>." in html


def test_eligible_is_refused_on_the_server_for_an_incomplete_route(
    client, patient, empty_submitted, prescriber
):
    client.force_login(prescriber)
    before = _state()
    got = client.post(
        reverse("intake:eligibility_review", args=[patient.uuid]),
        _sign_form(empty_submitted, "eligible", approved_routes=["iv", "im"]),
    )
    assert got.status_code == 200
    errors = re.findall(r'<p class="field-error" role="alert">(.*?)</p>', got.content.decode())
    assert errors == [
        f"{label} cannot be signed eligible: the intake is incomplete. Not answered yet: "
        f"{EMPTY_MISSING_WORDS}."
        for label in ("IV infusion", "IM injection")
    ]
    assert _state() == before


@pytest.mark.parametrize(
    ("outcome", "extra"), [("ineligible", {}), ("deferred", {"awaiting": "Vitals at the visit"})]
)
def test_not_eligible_and_deferred_can_be_signed_on_an_incomplete_intake(
    client, patient, empty_submitted, prescriber, outcome, extra
):
    client.force_login(prescriber)
    got = client.post(
        reverse("intake:eligibility_review", args=[patient.uuid]),
        _sign_form(empty_submitted, outcome, **extra),
    )
    assert got.status_code == 302
    assert EligibilityDecision.objects.get().outcome == outcome


def test_a_patient_submitted_intake_says_staff_must_add_their_answers(client, patient, nurse):
    intake = services.intake_start(actor=nurse, patient=patient)
    _, token = services.intake_link_create(actor=nurse, intake=intake)
    client.get(reverse("intake:public_start", args=[token]))
    # Everything the patient is asked, answered.
    assert client.post(
        "/intake/", _patient_form(patient, meds=MEDS, trials=TRIALS)
    ).status_code == (302)
    staff = Client()
    staff.force_login(nurse)
    html = _review(staff, patient).content.decode()
    assert (
        "No route can be signed eligible until these are answered: <strong>screening blood "
        "pressure (systolic and diastolic), heart rate, indication</strong>" in html
    )
    assert "does not ask the indication, the screening blood pressure or the heart rate" in html
    assert "<strong>staff add them</strong> on the intake" in html


@pytest.mark.parametrize("who", ["prescriber", "nurse", "therapist", "clinic_admin"])
def test_who_is_offered_the_link_to_complete_the_intake(
    client, patient, empty_submitted, actors, who
):
    """The review is readable by every clinical viewer; only those who may edit the intake
    (intake.edit: the care team's prescribers and nurses) get the link, so none ends in 403."""
    client.force_login(actors[who])
    html = _review(client, patient).content.decode()
    may_edit = who in ("prescriber", "nurse")
    assert ("Complete the intake" in html) is may_edit
    assert ("A prescriber or nurse on the care team completes the intake." in html) is (
        not may_edit
    )
    assert "The intake is incomplete" in html


def test_an_older_eligible_decision_on_an_intake_with_gaps_is_flagged_not_changed(
    client, patient, submitted, prescriber
):
    decision = services.decision_sign(
        actor=prescriber,
        intake=submitted,
        outcome="eligible",
        approved_routes=["iv"],
        justifications={"psychosis_history": JUSTIFICATION},
    )
    # As issue 11's data migration leaves it: signed before "missing" existed, on an intake
    # whose unticked history boxes are now unanswered.
    evaluation = {k: v for k, v in decision.evaluation.items() if k != "missing"}
    EligibilityDecision.objects.filter(pk=decision.pk).update(evaluation=evaluation)
    Intake.objects.filter(pk=submitted.pk).update(condition_answers={"psychosis_history": True})
    stored = EligibilityDecision.objects.values().get()
    client.force_login(prescriber)
    html = _review(client, patient).content.decode()
    assert (
        "The intake behind this decision had unanswered questions</strong> when it was signed"
        in (html)
    )
    assert "checked again on the same intake revision" in html
    assert "medical history (a yes or no for every condition)" in html
    assert "had gaps: medical history (a yes or no for every condition)" in html  # history
    assert "<strong>Past psychosis</strong>: " + JUSTIFICATION.replace("'", "&#x27;") in html
    assert EligibilityDecision.objects.values().get() == stored  # not changed


def test_the_plan_page_says_when_the_decision_rests_on_an_intake_with_gaps(
    client, patient, submitted, prescriber
):
    """Existing decisions are not revoked (issue 11); where the plan is made, the prescriber is
    told the intake behind an older decision had unanswered questions."""
    from clinic.protocols import services as protocol_services

    protocol_services.builtin_templates_ensure()
    decision = services.decision_sign(
        actor=prescriber,
        intake=submitted,
        outcome="eligible",
        approved_routes=["iv"],
        justifications={"psychosis_history": JUSTIFICATION},
    )
    client.force_login(prescriber)
    page = f"/patients/{patient.uuid}/plans/new/"
    data = {"template": "iv-induction-2x-weekly", "action": "preview"}
    assert "unanswered questions" not in client.post(page, data).content.decode()
    evaluation = {k: v for k, v in decision.evaluation.items() if k != "missing"}
    EligibilityDecision.objects.filter(pk=decision.pk).update(evaluation=evaluation)
    Intake.objects.filter(pk=submitted.pk).update(condition_answers={"psychosis_history": True})
    html = client.post(page, data).content.decode()
    assert (
        "The eligibility decision was signed on an intake with unanswered questions (medical "
        "history (a yes or no for every condition)): complete the intake and have the decision "
        "re-signed."
    ) in html
