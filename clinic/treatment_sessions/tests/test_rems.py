"""Esketamine REMS monitoring forms: the permission matrix, the list of forms due (due within 7
days of the session [C15]: a Monday session is due by the next Monday and overdue from the
Tuesday), the form page (every field of rules.REMS_MONITORING_FIELDS, prefilled suggestions
marked), saving, marking as submitted, and the PDF.

session.rems (clinic admin, prescriber, nurse) sees the list, the form and the PDF and records
the submission; saving the form is session.run (prescriber, nurse); a patient out of reach is a
404, like a session that does not exist.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from clinic.core.models import AuditEvent
from clinic.treatment_sessions import services, state
from clinic.treatment_sessions.models import TreatmentSession
from clinic.treatment_sessions.rules import REMS_MONITORING_FIELDS
from clinic.treatment_sessions.tests.conftest import MONDAY, at, identity_of
from tests.helpers import ACTOR_ORDER, client_as, status_word

pytestmark = pytest.mark.django_db

DUE_URL = "/sessions/rems/"

# fmt: off
PAGE_MATRIX = {
    #                        anon     portal admin presc nurse ther desk bill off-team ×3
    "rems_due_get":         ["login", 403,  200,  200,  200,  403, 403, 403, 200, 200, 403],
    "rems_form_get":        ["login", 403,  200,  200,  200,  403, 403, 403, 404, 404, 403],
    "rems_form_post":       ["login", 403,  403,  302,  302,  403, 403, 403, 404, 404, 403],
    "rems_pdf_get":         ["login", 403,  200,  200,  200,  403, 403, 403, 404, 404, 403],
    "rems_submitted_post":  ["login", 403,  302,  302,  302,  403, 403, 403, 404, 404, 403],
}
# fmt: on
WRITES = ("rems_form_post", "rems_submitted_post")

COMPLETE = {
    "patient_id": "REMS-0001",
    "setting_id": "HCS-0001",
    "session_date": "2031-06-02",
    "dose": "56 mg",
    "lot_number": "ESK1",
    "concomitant_medications": ["benzodiazepines"],
    "total_monitoring_minutes": "125",
    "vitals_acceptable_pre_dose": "yes",
    "vitals_acceptable_at_completion": "yes",
    "bp_pre_dose": "128/80 mmHg",
    "bp_about_40_min": "138/86 mmHg",
    "bp_pre_discharge": "126/78 mmHg",
    "sedation_occurred": "no",
    "dissociation_occurred": "yes",
    "respiratory_depression_occurred": "no",
    "serious_adverse_events": "None",
    "ready_to_leave": "Yes, alert and oriented",
}


@pytest.fixture
def dosed(esketamine_appointment, nurse, prescriber, devices, clock):
    """The 56 mg esketamine session of Monday 2 June 2031: checked in at 08:55, pre-checks
    overridden by the prescriber, two 28 mg devices at 09:00 and 09:05 (5 minutes apart [C2])."""
    clock.move_to(at(MONDAY, 8, 55))
    session = services.session_check_in(
        actor=nurse,
        appointment=esketamine_appointment,
        identity=identity_of(esketamine_appointment),
    )
    services.precheck_override(actor=prescriber, session=session, reason="Demo of the form")
    clock.move_to(at(MONDAY, 9))
    services.esketamine_device_record(actor=nurse, session=session, container=devices[0])
    clock.move_to(at(MONDAY, 9, 5))
    services.esketamine_device_record(actor=nurse, session=session, container=devices[1])
    session.refresh_from_db()
    assert session.phase == "monitoring"
    return session


def _url(name, session):
    return reverse(f"treatment_sessions:{name}", args=[session.uuid])


def _request(client, page, session):
    if page == "rems_due_get":
        return client.get(DUE_URL)
    if page == "rems_form_get":
        return client.get(_url("rems_form", session))
    if page == "rems_form_post":
        return client.post(_url("rems_form", session), {"patient_id": "REMS-0001"})
    if page == "rems_pdf_get":
        return client.get(_url("rems_pdf", session))
    return client.post(_url("rems_submitted", session))


def _state(session):
    return TreatmentSession.objects.filter(pk=session.pk).values(
        "rems_form", "rems_submitted_at", "rems_submitted_by"
    )[0]


@pytest.mark.parametrize(
    ("page", "who", "expected"),
    [
        pytest.param(page, who, expected, id=f"{page}-{who}")
        for page, row in PAGE_MATRIX.items()
        for who, expected in zip(ACTOR_ORDER, row, strict=True)
    ],
)
def test_page_permission_matrix(client, actors, dosed, page, who, expected):
    response = _request(client_as(client, actors[who]), page, dosed)
    assert status_word(response) == expected


@pytest.mark.parametrize(
    ("page", "who"),
    [
        pytest.param(page, who, id=f"{page}-{who}")
        for page in WRITES
        for who, expected in zip(ACTOR_ORDER, PAGE_MATRIX[page], strict=True)
        if expected != 302
    ],
)
def test_a_denied_post_writes_nothing(client, actors, dosed, page, who):
    before = _state(dosed)
    response = _request(client_as(client, actors[who]), page, dosed)
    assert status_word(response) != 302
    assert _state(dosed) == before


# --------------------------------------------------------------------------- the list


def _row(html: str, text: str) -> str:
    start = html.rindex("<tr", 0, html.index(text))
    return html[start : html.index("</tr>", start)]


def test_the_list_shows_the_form_due_seven_days_after_the_session(client, nurse, dosed, clock):
    html = client_as(client, nurse).get(DUE_URL).content.decode()
    row = _row(html, "Rivera, Jordan")
    assert "06/02/2031" in row  # the session
    assert "06/09/2031" in row  # due: 2 June + 7 days [C15]
    assert "7 days left" in row
    assert "Missing: Patient ID" in row
    assert _url("rems_form", dosed) in row and _url("rems_pdf", dosed) in row


def test_on_the_seventh_day_it_is_due_not_overdue(client, nurse, dosed, clock):
    clock.move_to(at(MONDAY + datetime.timedelta(days=7), 12))
    row = _row(client_as(client, nurse).get(DUE_URL).content.decode(), "Rivera, Jordan")
    assert "Due today" in row and "verdue" not in row


def test_on_the_eighth_day_it_is_overdue(client, nurse, dosed, clock):
    clock.move_to(at(MONDAY + datetime.timedelta(days=8), 9))
    row = _row(client_as(client, nurse).get(DUE_URL).content.decode(), "Rivera, Jordan")
    assert "Overdue by 1 day" in row and "is-overdue" in row


def test_off_team_staff_see_the_mrn_and_no_links(client, actors, dosed):
    html = client_as(client, actors["nurse_off_team"]).get(DUE_URL).content.decode()
    row = _row(html, f"MRN {dosed.patient.mrn}")
    assert "Rivera" not in html and str(dosed.uuid) not in html
    assert "Not on your care team" in row


def test_an_undosed_or_iv_session_has_no_form_due(client, nurse, iv_appointment, clock):
    clock.move_to(at(MONDAY, 8, 55))
    iv = services.session_check_in(
        actor=nurse, appointment=iv_appointment, identity=identity_of(iv_appointment)
    )
    client_as(client, nurse)
    assert "No monitoring forms outstanding." in client.get(DUE_URL).content.decode()
    assert client.get(_url("rems_form", iv)).status_code == 404
    assert client.get(_url("rems_pdf", iv)).status_code == 404


# --------------------------------------------------------------------------- the form


def test_the_form_has_every_field_and_marks_the_prefilled_ones(client, nurse, dosed, clock):
    clock.move_to(at(MONDAY, 9, 10))
    html = client_as(client, nurse).get(_url("rems_form", dosed)).content.decode()
    for item in REMS_MONITORING_FIELDS:
        assert escape(item.label) in html, item.key
    assert "UNCONFIRMED" in html
    # Suggestions from the record: the date, the 56 mg dose, the lot of the devices, no serious
    # adverse event recorded, and the intake's concomitant medications (none of the form's).
    assert 'name="session_date" value="2031-06-02"' in html
    assert '<option value="56 mg" selected>' in html
    assert 'name="lot_number" value="ESK1"' in html
    assert 'id="id_serious_adverse_events">\nNone</textarea>' in html
    assert html.count("From the session record — check.") == 5
    assert 'type="checkbox" name="concomitant_medications" value="opioids"' in html
    assert 'type="radio" name="sedation_occurred" value="yes"' in html
    assert 'type="number" name="total_monitoring_minutes"' in html
    assert "<textarea" in html and 'name="serious_adverse_events"' in html


def test_saving_the_whole_form_stores_typed_answers(client, nurse, dosed):
    client_as(client, nurse)
    response = client.post(_url("rems_form", dosed), COMPLETE, follow=True)

    assert "Monitoring form saved and complete." in response.content.decode()
    dosed.refresh_from_db()
    form = dosed.rems_form
    assert form["concomitant_medications"] == ["benzodiazepines"]
    assert form["total_monitoring_minutes"] == 125
    assert form["vitals_acceptable_pre_dose"] is True
    assert form["sedation_occurred"] is False
    assert form["serious_adverse_events"] == []
    assert form["session_date"] == "2031-06-02" and form["dose"] == "56 mg"
    assert state.sign_blockers(dosed) == [
        "The session is still open: discharge or stop it first.",
        "The nurse's session note is not written.",
    ]


def test_none_of_these_is_an_answer_and_does_not_go_with_a_medication(client, nurse, dosed):
    client_as(client, nurse)
    client.post(_url("rems_form", dosed), {"concomitant_medications": ["none"]})
    dosed.refresh_from_db()
    assert dosed.rems_form["concomitant_medications"] == []

    response = client.post(
        _url("rems_form", dosed), {"concomitant_medications": ["none", "opioids"]}
    )
    assert response.status_code == 200
    assert "“None of these” cannot go with a medication." in response.content.decode()
    dosed.refresh_from_db()
    assert dosed.rems_form["concomitant_medications"] == []


def test_a_partial_form_is_saved_and_what_is_missing_shown(client, nurse, dosed):
    client_as(client, nurse)
    response = client.post(_url("rems_form", dosed), {"patient_id": "REMS-0001"}, follow=True)
    html = response.content.decode()
    assert "Monitoring form saved; 16 field(s) still to answer." in html
    assert "Still to answer: Healthcare setting ID" in html
    dosed.refresh_from_db()
    assert dosed.rems_form == {"patient_id": "REMS-0001"}


# --------------------------------------------------------------------------- submitted


def test_a_complete_form_is_marked_submitted_and_leaves_the_list(client, nurse, dosed, clock):
    client_as(client, nurse)
    client.post(_url("rems_form", dosed), COMPLETE)
    clock.move_to(at(MONDAY, 15))
    client_as(client, nurse)  # a new sign-in after the afternoon away

    response = client.post(_url("rems_submitted", dosed), follow=True)

    assert "recorded as submitted" in response.content.decode()
    dosed.refresh_from_db()
    assert dosed.rems_submitted_at == at(MONDAY, 15) and dosed.rems_submitted_by == nurse
    assert "No monitoring forms outstanding." in client.get(DUE_URL).content.decode()


def test_an_incomplete_form_cannot_be_marked_submitted(client, nurse, dosed):
    client_as(client, nurse)
    response = client.post(_url("rems_submitted", dosed), follow=True)
    assert "Complete the form first." in response.content.decode()
    dosed.refresh_from_db()
    assert dosed.rems_submitted_at is None


# --------------------------------------------------------------------------- the PDF


def test_the_pdf_is_a_pdf_and_its_export_is_audited(client, nurse, dosed):
    client_as(client, nurse)
    client.post(_url("rems_form", dosed), COMPLETE)
    response = client.get(_url("rems_pdf", dosed))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page\b", response.content)) == 1  # one printable page
    assert dosed.patient.mrn in response["Content-Disposition"]
    export = AuditEvent.objects.get(action="export", object_type="treatment_session")
    assert export.object_id == str(dosed.uuid) and export.patient == dosed.patient


def test_a_signed_record_locks_the_form(client, nurse, prescriber, dosed, clock):
    client_as(client, nurse)
    client.post(_url("rems_form", dosed), COMPLETE)
    clock.move_to(at(MONDAY, 11, 5))  # 2 h after the last device (label [C9])
    services.session_score_record(
        actor=nurse, session=dosed, kind="modified-aldrete", answers=[2, 2, 2, 2, 2]
    )
    services.session_discharge(
        actor=nurse, session=dosed, escort_present=True, instructions_given=True
    )
    services.nurse_note_save(actor=nurse, session=dosed, text="Uneventful.")
    services.session_sign(actor=prescriber, session=dosed)

    client_as(client, nurse)
    html = client.get(_url("rems_form", dosed)).content.decode()
    assert "The session record is signed: the form is locked." in html
    assert "Save the form" not in html and "REMS-0001" in html
    response = client.post(_url("rems_form", dosed), {"patient_id": "REMS-9999"}, follow=True)
    assert "signed and locked" in response.content.decode()
    dosed.refresh_from_db()
    assert dosed.rems_form["patient_id"] == "REMS-0001"
