"""The chair board's 15-second poll is audited once per page load, not once per poll (issue 14,
docs/security.md "Audit"): the page is audited when it opens; a poll that shows the same
patients writes nothing; a poll that shows a patient the page load has not shown audits that
patient. The page load travels as a signed token in the poll's query string, no PHI."""

from __future__ import annotations

import html as html_lib
import re
from urllib.parse import unquote

import pytest
from django.core import signing

from clinic.core.models import AuditEvent
from clinic.patients.services import care_team_set
from clinic.patients.tests.factories import register
from clinic.scheduling import services as scheduling
from clinic.scheduling.models import Appointment
from clinic.treatment_sessions.tests.conftest import MONDAY, at
from tests.helpers import client_as

pytestmark = pytest.mark.django_db

BOARD_URL = "/sessions/board/"
POLL = {"HX-Request": "true", "X-Background-Refresh": "1"}


def _poll_url(page: str) -> str:
    found = re.search(r'hx-get="(/sessions/board/\?view=[^"]+)"', page)
    assert found, "the board polls with its page load's token"
    return html_lib.unescape(found.group(1))


def _board_events():
    return list(
        AuditEvent.objects.filter(object_type="treatment_session", action="list").order_by("id")
    )


def _book_another(n, *, chair, nurse, prescriber, front_desk, clinic_admin):
    other = register(front_desk, legal_given_name=f"Other{n}", email=f"other{n}@example.org")
    care_team_set(actor=front_desk, patient=other, primary_prescriber=prescriber, nurses=[nurse])
    other_chair = scheduling.chair_create(
        actor=clinic_admin, room=chair.room, name=f"Chair {n}", capabilities=chair.capabilities
    )
    Appointment.objects.create(
        patient=other,
        chair=other_chair,
        nurse=nurse,
        starts_at=at(MONDAY, 11),
        ends_at=at(MONDAY, 12, 10),
        route="iv",
        created_by=front_desk,
    )
    return other


def test_polls_with_the_same_patients_write_no_audit_and_a_new_patient_is_audited(
    client, nurse, prescriber, front_desk, clinic_admin, chair, iv_appointment, clock
):
    client_as(client, nurse)
    page = client.get(BOARD_URL).content.decode()
    first = _board_events()
    # The page load is audited, naming the patient it shows.
    assert len(first) == 1
    assert first[0].changes["patients"] == [str(iv_appointment.patient.uuid)]
    poll = _poll_url(page)
    assert "Rivera" not in poll and str(iv_appointment.patient.uuid) not in poll

    before = AuditEvent.objects.count()
    for _ in range(5):
        response = client.get(poll, headers=POLL)
        assert response.status_code == 200 and "Rivera, Jordan" in response.content.decode()
    assert AuditEvent.objects.count() == before

    other = _book_another(
        2,
        chair=chair,
        nurse=nurse,
        prescriber=prescriber,
        front_desk=front_desk,
        clinic_admin=clinic_admin,
    )
    response = client.get(poll, headers=POLL)
    assert "Rivera, Other2" in response.content.decode()
    refreshed = _board_events()[len(first) :]
    assert len(refreshed) == 1
    assert refreshed[0].changes == {
        "page_load": first[0].changes["page_load"],
        "patients": [str(other.uuid)],
    }
    # And the next polls, showing the same two, write nothing again.
    before = AuditEvent.objects.count()
    client.get(poll, headers=POLL)
    assert AuditEvent.objects.count() == before


def test_a_new_page_load_is_audited_again(client, nurse, iv_appointment, clock):
    client_as(client, nurse)
    client.get(BOARD_URL)
    client.get(BOARD_URL)
    assert len(_board_events()) == 2


@pytest.mark.parametrize("token", ["", "forged", "other-user"])
def test_a_poll_without_a_valid_page_load_is_audited_in_full(
    client, nurse, prescriber, iv_appointment, clock, token
):
    if token == "other-user":
        # The prescriber's own page load, replayed by the nurse.
        client_as(client, prescriber)
        token = _poll_url(client.get(BOARD_URL).content.decode()).split("view=")[1]
    client_as(client, nurse)
    before = len(_board_events())
    client.get(f"{BOARD_URL}?view={token}", headers=POLL)
    events = _board_events()[before:]
    assert len(events) == 1 and events[0].actor_id == nurse.pk
    assert events[0].changes["patients"] == [str(iv_appointment.patient.uuid)]


def test_the_token_names_no_patient(client, nurse, iv_appointment, clock):
    client_as(client, nurse)
    token = _poll_url(client.get(BOARD_URL).content.decode()).split("view=")[1]
    value = signing.loads(unquote(token), salt="clinic.core.page_loads")
    assert set(value) == {"id", "u"} and value["u"] == nurse.pk
