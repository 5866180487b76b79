"""Session scores (MOAA/S, CADSS, modified Aldrete) are stored through the assessments' one
storing path, so a blank one is refused there like every questionnaire (issue 11, item 4;
clinic/assessments/tests/test_blank.py for the other paths). The session page's score form
asks for every item, so a blank form is refused at its fields before it gets that far."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from clinic.assessments.models import AssessmentResponse
from clinic.core.exceptions import InvalidInput
from clinic.treatment_sessions import services

pytestmark = pytest.mark.django_db

BLANK_MESSAGE = "No question was answered, so nothing was saved. Answer at least one question."


@pytest.mark.parametrize(("kind", "items"), [("moaas", 1), ("cadss", 23), ("modified-aldrete", 5)])
def test_a_blank_session_score_is_refused_and_nothing_is_stored(
    iv_checked_in, nurse, patient, kind, items
):
    with pytest.raises(InvalidInput) as refused:
        services.session_score_record(
            actor=nurse, session=iv_checked_in, kind=kind, answers=[None] * items
        )
    assert refused.value.errors == {"answers": [BLANK_MESSAGE]}
    assert not AssessmentResponse.objects.filter(patient=patient).exists()
    assert not iv_checked_in.scores.exists()


def test_a_blank_score_form_is_refused_at_its_field(client, iv_checked_in, nurse, patient):
    client.force_login(nurse)
    response = client.post(
        reverse("treatment_sessions:score", args=[iv_checked_in.uuid]), {"kind": "moaas"}
    )
    assert response.status_code == 200
    # The refusal is at the question, in the score form, not in a banner.
    assert re.search(
        r'<fieldset class="item has-error">\s*<legend>Responsiveness</legend>.*?'
        r'<p class="field-error" role="alert">This field is required\.</p>',
        response.content.decode(),
        re.S,
    )
    assert not AssessmentResponse.objects.filter(patient=patient).exists()
