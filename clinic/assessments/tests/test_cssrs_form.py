"""The C-SSRS screener's branching on every form that asks it (issue 11): staff entry, the
patient link and the portal show when each question is asked, and an answer to a skipped
question is refused at that question in plain words (never "null").

The branching (clinical-reference.md §7.4, [G11]; calculators.md §1 `cssrs-screen`):
"If YES to 2, ask questions 3, 4, 5, and 6. If NO to 2, go directly to question 6"; the
seventh value (Q6 within the past 3 months) only after a yes to Q6. Skipped questions are
null, not "no". Risk [G13]: low = yes to Q1 and/or Q2 only; moderate = yes to Q3, or Q6 more
than 3 months ago.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.assessments import services
from clinic.assessments.instruments import get_instrument
from clinic.assessments.models import AssessmentResponse

pytestmark = pytest.mark.django_db

N = None
STAFF_ASKED_AFTER_Q2 = "Ask only after a Yes to question 2; otherwise skip it (leave it blank)."
STAFF_ASKED_AFTER_Q6 = "Ask only after a Yes to question 6; otherwise skip it (leave it blank)."


def _text(response) -> str:
    html = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html)


def _staff_url(patient):
    return reverse("assessments:response_create", args=[patient.uuid, "cssrs-screen"])


def _staff_post(answers) -> dict[str, str]:
    data = {f"item_{n}": str(a) for n, a in enumerate(answers, start=1) if a is not None}
    taken_at = timezone.localtime() - datetime.timedelta(minutes=5)
    return {**data, "timepoint": "unscheduled", "taken_at": taken_at.strftime("%Y-%m-%dT%H:%M")}


def test_the_branching_is_the_screeners():
    items = get_instrument("cssrs-screen").items
    assert [item.asked_when for item in items] == [N, N, (2, 1), (2, 1), (2, 1), N, (6, 1)]


def test_the_staff_form_shows_and_explains_the_branching(client, patient, nurse):
    client.force_login(nurse)
    page = client.get(_staff_url(patient))
    html = page.content.decode()
    text = _text(page)
    assert (
        "The screener branches. Ask questions 1 and 2. If 2 is Yes, ask 3, 4 and 5; if 2 is "
        "No, skip them and go to 6. Ask 6 every time, and 7 (within the past 3 months) only "
        "if 6 is Yes. Skipped questions stay blank: they are skipped by design, not answered "
        "No, and the risk level is still worked out."
    ) in text
    assert text.count(STAFF_ASKED_AFTER_Q2) == 3
    assert text.count(STAFF_ASKED_AFTER_Q6) == 1
    # Each skipped question names its reason for assistive technology, and carries its gate
    # for the script that switches it off until that answer is given.
    for number, gate in ((3, 2), (4, 2), (5, 2), (7, 6)):
        assert re.search(
            rf'<fieldset class="item item-branch" data-asked-when-item="{gate}" '
            rf'data-asked-when-value="1" aria-describedby="id_item_{number}_asked">',
            html,
        )
    assert "assessments/questionnaire_branching.js" in html
    assert "null" not in html


def test_the_script_is_served_only_where_a_question_branches(client, patient, nurse):
    client.force_login(nurse)
    phq9 = client.get(reverse("assessments:response_create", args=[patient.uuid, "phq9"]))
    assert "questionnaire_branching.js" not in phq9.content.decode()


def test_an_answer_to_a_skipped_question_is_refused_at_it_in_words(client, patient, nurse):
    client.force_login(nurse)
    # Q2 is No, yet Q3 was answered "No": Q3 was never to be asked.
    got = client.post(_staff_url(patient), _staff_post([0, 0, 0, N, N, 0, N]))
    assert got.status_code == 200
    html = got.content.decode()
    assert re.search(
        r'aria-describedby="id_item_3_asked">\s*<legend><span class="item-number">3\.</span>.*?'
        r'<p class="field-error" role="alert">Question 3 is asked only after a Yes to question '
        r"2, and question 2 was not answered Yes: leave question 3 blank, or change the answer "
        r"to question 2\.</p>",
        html,
        re.S,
    )
    assert "null" not in html
    assert not AssessmentResponse.objects.exists()


def test_an_answer_to_the_within_3_months_question_after_no_to_q6_is_refused(
    client, patient, nurse
):
    client.force_login(nurse)
    got = client.post(_staff_url(patient), _staff_post([1, 0, N, N, N, 0, 1]))
    assert got.status_code == 200
    assert (
        "Question 7 is asked only after a Yes to question 6, and question 6 was not answered "
        "Yes: leave question 7 blank, or change the answer to question 6."
    ) in _text(got)
    assert not AssessmentResponse.objects.exists()


def test_skipped_questions_left_blank_are_saved_as_skipped_not_no(client, patient, nurse):
    client.force_login(nurse)
    got = client.post(_staff_url(patient), _staff_post([1, 0, N, N, N, 0, N]))
    assert got.status_code == 302
    response = AssessmentResponse.objects.get()
    assert response.answers == [1, 0, N, N, N, 0, N]
    assert (response.complete, response.severity) == (True, "low")
    detail = _text(client.get(got.headers["Location"]))
    assert detail.count("skipped (asked only after a Yes to question 2)") == 3
    assert detail.count("skipped (asked only after a Yes to question 6)") == 1
    assert "not answered" not in detail


def test_a_yes_to_q2_and_q6_asks_every_question(client, patient, nurse):
    client.force_login(nurse)
    got = client.post(_staff_url(patient), _staff_post([1, 1, 0, 0, 0, 1, 0]))
    assert got.status_code == 302
    response = AssessmentResponse.objects.get()
    # Q6 more than 3 months ago and no Q3–Q5: moderate [G13].
    assert (response.complete, response.severity) == (True, "moderate")


def test_the_patient_link_says_when_each_question_is_asked(patient, front_desk):
    _, token = services.questionnaire_link_create(
        actor=front_desk, patient=patient, instrument_codes=["cssrs-screen"]
    )
    device = Client()
    device.get(reverse("assessments:questionnaire_start", args=[token]))
    fill = reverse("assessments:questionnaire_fill")
    text = _text(device.get(fill))
    assert "If your answer to question 2 is No, leave questions 3, 4 and 5 blank" in text
    assert text.count("Only if your answer to question 2 is Yes.") == 3
    assert text.count("Only if your answer to question 6 is Yes.") == 1
    refused = device.post(
        fill,
        {"instrument": "cssrs-screen", "item_1": "0", "item_2": "0", "item_4": "1", "item_6": "0"},
    )
    assert (
        "Please leave question 4 blank: it is only for a Yes to question 2. Or change your "
        "answer to question 2."
    ) in _text(refused)
    assert not AssessmentResponse.objects.exists()
