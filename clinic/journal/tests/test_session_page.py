"""The chair-side session page shows the intention the patient wrote in the portal next to the
pre-check's intention field, and prefills the field with it while the session has none."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinic.journal import services
from clinic.treatment_sessions import services as session_services

# The session tests' fixtures (the 09:00 IV appointment, checked in at 08:50), by name.
from clinic.treatment_sessions.tests.conftest import (  # noqa: F401
    MONDAY,
    at,
    iv_appointment,
    iv_checked_in,
    passing_prechecks,
    weighed_patient,
)
from tests.helpers import client_as

pytestmark = pytest.mark.django_db

WORDS = "To let go of the need to control everything."


@pytest.fixture
def written(patient, portal_user, iv_appointment, clock):  # noqa: F811
    clock.move_to(at(MONDAY, 8, 35))
    return services.intention_save(
        actor=portal_user, patient=patient, appointment=iv_appointment, text=WORDS
    )


def _page(client, nurse, session):
    response = client_as(client, nurse).get(
        reverse("treatment_sessions:detail", args=[session.uuid])
    )
    assert response.status_code == 200
    return response.content.decode()


def _field(html: str) -> str:
    start = html.index('name="pre-intention"')
    return html[start : html.index("</textarea>", start)]


def test_the_portal_intention_is_shown_and_prefills_the_pre_check(
    client,
    nurse,
    written,
    iv_checked_in,  # noqa: F811
):
    html = _page(client, nurse, iv_checked_in)
    assert "written by the patient on 06/02/2031" in html
    assert f'<blockquote class="note-text">{WORDS}</blockquote>' in html
    assert _field(html).endswith(f">\n{WORDS}")
    assert "copied into the field below" in html


def test_the_sessions_own_intention_wins_once_recorded(
    client,
    nurse,
    written,
    iv_checked_in,  # noqa: F811
):
    session_services.precheck_record(
        actor=nurse,
        session=iv_checked_in,
        data={**passing_prechecks(), "intention": "To feel lighter"},
    )
    html = _page(client, nurse, iv_checked_in)
    assert _field(html).endswith(">\nTo feel lighter")
    assert f'<blockquote class="note-text">{WORDS}</blockquote>' in html  # still shown
    assert "copied into the field below" not in html


def test_no_portal_intention_no_prefill(client, nurse, iv_checked_in):  # noqa: F811
    html = _page(client, nurse, iv_checked_in)
    assert "written by the patient on" not in html
    assert _field(html).endswith(">\n")


def test_the_intention_was_locked_when_the_session_started(
    patient,
    portal_user,
    written,
    iv_checked_in,  # noqa: F811
    clock,
):
    from clinic.core.exceptions import Conflict

    clock.move_to(at(MONDAY, 9))
    with pytest.raises(Conflict):
        services.intention_save(
            actor=portal_user,
            patient=patient,
            appointment=iv_checked_in.appointment,
            text="Too late",
        )
