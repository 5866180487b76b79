"""The floor: today's day list, checking a patient in, the live chair board and the chart's
session list.

Expected statuses come from clinic/accounts/permissions.py and docs/permissions.md:
session.board (clinic admin, prescriber, nurse) sees the day list and the board, every chair,
with names only of the care team's patients; session.run (prescriber, nurse) checks in, and a
patient out of reach is the same 404 as an appointment that does not exist. Clinical times come
from the session policy (policy-defaults.md): IV vitals every 10 minutes during the infusion,
the 40-minute infusion of `iv_appointment`.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.core.models import AuditEvent
from clinic.patients.services import care_team_set
from clinic.patients.tests.factories import register
from clinic.scheduling import services as scheduling
from clinic.scheduling.models import Appointment
from clinic.treatment_sessions import services
from clinic.treatment_sessions.models import TreatmentSession
from clinic.treatment_sessions.tests.conftest import MONDAY, at, identity_of
from tests.helpers import ACTOR_ORDER, chart_html, client_as, status_word

pytestmark = pytest.mark.django_db

DAY_URL = "/sessions/"
BOARD_URL = "/sessions/board/"
# The board's own poll: htmx, and not activity that keeps the user signed in.
POLL = {"HX-Request": "true", "X-Background-Refresh": "1"}

# fmt: off
PAGE_MATRIX = {
    #                  anon     portal admin presc nurse ther desk bill off-team presc/nurse/ther
    "day_get":        ["login", 403,  200,  200,  200,  403, 403, 403, 200, 200, 403],
    "board_get":      ["login", 403,  200,  200,  200,  403, 403, 403, 200, 200, 403],
    "board_htmx":     [204,     403,  200,  200,  200,  403, 403, 403, 200, 200, 403],
    "check_in_get":   ["login", 403,  403,  200,  200,  403, 403, 403, 404, 404, 403],
    "check_in_post":  ["login", 403,  403,  302,  302,  403, 403, 403, 404, 404, 403],
}
# fmt: on


def _request(client, page, appointment):
    if page == "day_get":
        return client.get(DAY_URL)
    if page == "board_get":
        return client.get(BOARD_URL)
    if page == "board_htmx":
        return client.get(BOARD_URL, headers=POLL)
    url = reverse("treatment_sessions:check_in", args=[appointment.uuid])
    if page == "check_in_get":
        return client.get(url)
    return client.post(url, identity_answers(appointment))


def identity_answers(appointment, **changes):
    """The check-in form as a nurse fills it: the patient's name confirmed, the date of birth
    they say, the booked nurse to run the chair."""
    return {
        "full_name_confirmed": "on",
        "stated_date_of_birth": appointment.patient.date_of_birth.isoformat(),
        "assigned_nurse": str(appointment.nurse.uuid),
        **changes,
    }


def _state():
    return {
        "sessions": list(TreatmentSession.objects.values()),
        "appointments": list(Appointment.objects.order_by("pk").values()),
    }


@pytest.mark.parametrize(
    ("page", "who", "expected"),
    [
        pytest.param(page, who, expected, id=f"{page}-{who}")
        for page, row in PAGE_MATRIX.items()
        for who, expected in zip(ACTOR_ORDER, row, strict=True)
    ],
)
def test_page_permission_matrix(client, actors, iv_appointment, page, who, expected):
    response = _request(client_as(client, actors[who]), page, iv_appointment)
    assert status_word(response) == expected


@pytest.mark.parametrize(
    "who",
    [
        who
        for who, expected in zip(ACTOR_ORDER, PAGE_MATRIX["check_in_post"], strict=True)
        if expected != 302
    ],
)
def test_a_denied_check_in_writes_nothing(client, actors, iv_appointment, who):
    before = _state()
    response = _request(client_as(client, actors[who]), "check_in_post", iv_appointment)
    assert status_word(response) != 302
    assert _state() == before


def test_the_nav_links_the_board_for_those_who_run_the_floor(client, nurse, front_desk):
    board = f'href="{BOARD_URL}">Chairs</a>'
    assert board in client_as(client, nurse).get("/").content.decode()
    assert board not in client_as(client, front_desk).get("/").content.decode()


# --------------------------------------------------------------------------- the day list


def test_the_day_list_shows_todays_appointment_with_a_check_in_button(
    client, nurse, iv_appointment
):
    html = client_as(client, nurse).get(DAY_URL).content.decode()
    assert "Rivera, Jordan" in html
    assert "<strong>09:00</strong>–10:10" in html  # the appointment's 70 minutes
    assert "IV infusion" in html and "Chair 1" in html and "Booked" in html
    assert reverse("treatment_sessions:check_in", args=[iv_appointment.uuid]) in html


def test_off_team_and_non_running_staff_see_no_name_or_no_button(client, actors, iv_appointment):
    check_in = reverse("treatment_sessions:check_in", args=[iv_appointment.uuid])
    html = client_as(client, actors["nurse_off_team"]).get(DAY_URL).content.decode()
    assert "Rivera" not in html and "Booked" in html and check_in not in html
    # The clinic administrator sees every name but does not run sessions.
    html = client_as(client, actors["clinic_admin"]).get(DAY_URL).content.decode()
    assert "Rivera, Jordan" in html and check_in not in html


def test_the_day_list_leaves_out_other_days_and_cancelled_appointments(
    client, nurse, iv_appointment, front_desk
):
    tomorrow = at(MONDAY + datetime.timedelta(days=1), 9)
    Appointment.objects.filter(pk=iv_appointment.pk).update(
        starts_at=tomorrow, ends_at=tomorrow + datetime.timedelta(minutes=70)
    )
    html = client_as(client, nurse).get(DAY_URL).content.decode()
    assert "Rivera" not in html and "No appointments today." in html


def test_checking_in_from_the_day_list_starts_the_session(client, nurse, iv_appointment, clock):
    clock.move_to(at(MONDAY, 8, 55))
    client_as(client, nurse)
    url = reverse("treatment_sessions:check_in", args=[iv_appointment.uuid])
    page = client.get(url).content.decode()
    assert "The patient said their full name, and it is Jordan Rivera" in page
    assert "Date of birth, as the patient says it" in page
    response = client.post(url, identity_answers(iv_appointment))

    session = TreatmentSession.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("treatment_sessions:detail", args=[session.uuid])
    assert session.appointment == iv_appointment and session.phase == "checked_in"
    assert session.checked_in_by == nurse and session.checked_in_at == at(MONDAY, 8, 55)
    assert session.identity_confirmed_with == ["full_name", "date_of_birth"]
    assert session.assigned_nurse == nurse
    iv_appointment.refresh_from_db()
    assert iv_appointment.status == "checked_in"
    html = client.get(DAY_URL).content.decode()
    assert reverse("treatment_sessions:detail", args=[session.uuid]) in html
    assert reverse("treatment_sessions:check_in", args=[iv_appointment.uuid]) not in html
    assert "Checked in — pre-checks" in html


def test_a_refused_check_in_is_a_message_on_the_day_list(client, nurse, iv_appointment, clock):
    url = reverse("treatment_sessions:check_in", args=[iv_appointment.uuid])
    client_as(client, nurse)
    client.post(url, identity_answers(iv_appointment))

    response = client.post(url, identity_answers(iv_appointment), follow=True)

    assert response.redirect_chain == [(DAY_URL, 302)]
    assert "This appointment is checked in already." in response.content.decode()
    assert TreatmentSession.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"full_name_confirmed": ""},
            "full_name_confirmed",
            "Ask the patient to say their full name, and confirm it matches.",
        ),
        (
            {"stated_date_of_birth": ""},
            "stated_date_of_birth",
            "Ask the patient for their date of birth.",
        ),
        (
            {"stated_date_of_birth": "1990-04-13"},
            "stated_date_of_birth",
            "This is not the date of birth on record for this appointment&#x27;s patient",
        ),
    ],
)
def test_check_in_needs_both_identifiers_to_match_the_record(
    client, nurse, iv_appointment, clock, changes, field, message
):
    clock.move_to(at(MONDAY, 8, 55))
    client_as(client, nurse)
    url = reverse("treatment_sessions:check_in", args=[iv_appointment.uuid])

    response = client.post(url, identity_answers(iv_appointment, **changes))

    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html and message in html
    assert not TreatmentSession.objects.exists()
    iv_appointment.refresh_from_db()
    assert iv_appointment.status == "booked"


def test_the_chair_nurse_is_one_of_the_care_teams_nurses(
    client, nurse, iv_appointment, make_staff, front_desk, prescriber, patient, clock
):
    clock.move_to(at(MONDAY, 8, 55))
    second = make_staff("nurse", username="nurse_b", first_name="Ben", last_name="Okafor")
    outsider = make_staff("nurse", username="nurse_c")
    care_team_set(
        actor=front_desk, patient=patient, primary_prescriber=prescriber, nurses=[nurse, second]
    )
    client_as(client, nurse)
    url = reverse("treatment_sessions:check_in", args=[iv_appointment.uuid])
    page = client.get(url).content.decode()
    assert str(second.uuid) in page and str(outsider.uuid) not in page

    refused = client.post(url, identity_answers(iv_appointment, assigned_nurse=str(outsider.uuid)))
    assert refused.status_code == 200 and not TreatmentSession.objects.exists()

    client.post(url, identity_answers(iv_appointment, assigned_nurse=str(second.uuid)))
    session = TreatmentSession.objects.get()
    assert session.assigned_nurse == second
    assert "Okafor" in client.get(DAY_URL).content.decode()


def test_an_unknown_appointment_is_not_found(client, nurse, iv_appointment):
    client_as(client, nurse)
    response = client.post("/sessions/check-in/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404


# --------------------------------------------------------------------------- the board


@pytest.fixture
def infusion_running(iv_appointment, nurse, prescriber, vials, clock):
    """The IV session under way: checked in at 08:55, pre-dose vitals, the 40 mg infusion
    started at 09:00, and a BP of 182/95 at 09:10 (an alert: ≥ 180 systolic, policy [E4])."""
    clock.move_to(at(MONDAY, 8, 55))
    session = services.session_check_in(
        actor=nurse, appointment=iv_appointment, identity=identity_of(iv_appointment)
    )
    services.precheck_record(
        actor=nurse,
        session=session,
        data={
            "last_food_at": at(MONDAY, 3),
            "last_liquid_at": at(MONDAY, 6),
            "escort_name": "Sam Rivera",
            "escort_confirmed": True,
            "pregnancy_test": "negative",
            "questionnaires": "none_due",
            "intention": "To feel lighter",
            "setting_lighting": "dimmed",
        },
    )
    services.vitals_record(
        actor=nurse,
        session=session,
        systolic_mmhg=130,
        diastolic_mmhg=80,
        heart_rate_bpm=70,
        spo2_percent=98,
    )
    clock.move_to(at(MONDAY, 9))
    services.infusion_start(
        actor=nurse, session=session, container=vials[0], drawn_mg="50", rate_ml_per_h="150"
    )
    clock.move_to(at(MONDAY, 9, 10))
    _entry, alerts = services.vitals_record(
        actor=nurse,
        session=session,
        systolic_mmhg=182,
        diastolic_mmhg=95,
        heart_rate_bpm=80,
        spo2_percent=97,
    )
    assert [a.code for a in alerts] == ["bp_high"]
    session.refresh_from_db()
    return session


def _card(html: str, chair: str) -> str:
    """The board card of one chair."""
    heading = html.index(f'<h2 class="board-chair">{chair} ')
    start = html.rindex("<li", 0, heading)
    return html[start : html.index("</li>", heading)]


def test_the_board_shows_the_session_in_progress(client, nurse, infusion_running, clock):
    clock.move_to(at(MONDAY, 9, 12))
    html = client_as(client, nurse).get(BOARD_URL).content.decode()
    card = _card(html, "Chair 1")

    assert reverse("treatment_sessions:detail", args=[infusion_running.uuid]) in card
    assert "Rivera, Jordan" in card and "IV infusion" in card and "Dosing" in card
    # 12 minutes since the infusion started at 09:00.
    assert 'data-elapsed-since="2031-06-02T09:00:00-04:00">12 min</time>' in card
    # Every 10 minutes during the infusion: the 09:10 reading makes the next due at 09:20.
    assert 'data-countdown-to="2031-06-02T09:20:00-04:00">8:00</time>' in card
    assert "at 09:20" in card and "Vitals overdue" not in card
    assert "1 open" in card and "critical" not in card


def test_the_board_makes_overdue_vitals_obvious(client, nurse, infusion_running, clock):
    clock.move_to(at(MONDAY, 9, 25))
    card = _card(client_as(client, nurse).get(BOARD_URL).content.decode(), "Chair 1")
    assert "vitals-overdue" in card and "Vitals overdue" in card
    assert ">overdue by 5 min</time>" in card and 'class="countdown board-countdown is-due"' in card


def test_the_board_highlights_critical_alerts_until_acknowledged(
    client, nurse, infusion_running, clock
):
    clock.move_to(at(MONDAY, 9, 14))
    # SpO2 below 90 % is critical (policy: critical below 90 %, modified Aldrete [E8]).
    _entry, alerts = services.vitals_record(actor=nurse, session=infusion_running, spo2_percent=88)
    assert [a.severity for a in alerts] == ["critical"]
    client_as(client, nurse)
    card = _card(client.get(BOARD_URL).content.decode(), "Chair 1")
    assert "has-critical" in card and "2 open, 1 critical" in card

    for alert in infusion_running.alerts.all():
        services.session_alert_acknowledge(actor=nurse, alert=alert, action="continue")
    card = _card(client.get(BOARD_URL).content.decode(), "Chair 1")
    assert "None open" in card and "has-critical" not in card


def test_every_chair_has_a_card_and_off_team_staff_see_in_use(
    client, actors, infusion_running, clinic_admin, chair
):
    scheduling.chair_create(
        actor=clinic_admin, room=chair.room, name="Chair 2", capabilities=["pulse_oximeter"]
    )
    html = client_as(client, actors["nurse_off_team"]).get(BOARD_URL).content.decode()
    card = _card(html, "Chair 1")
    assert "In use" in card and "Rivera" not in card
    assert str(infusion_running.uuid) not in html
    # Vitals and alerts stay visible: the floor sees every chair.
    assert "1 open" in card
    assert "Free" in _card(html, "Chair 2")
    assert "1 of 2 chairs in use" in html


def test_the_board_shows_the_next_booking_with_check_in(client, nurse, iv_appointment):
    card = _card(client_as(client, nurse).get(BOARD_URL).content.decode(), "Chair 1")
    assert "Rivera, Jordan" in card and "Not checked in" in card and "09:00" in card
    assert reverse("treatment_sessions:check_in", args=[iv_appointment.uuid]) in card


def test_the_board_answers_its_poll_with_the_grid_only(client, nurse, infusion_running):
    response = client_as(client, nurse).get(BOARD_URL, headers=POLL)
    html = response.content.decode().lstrip()
    assert html.startswith('<section id="board-grid"') and "<html" not in html
    assert 'hx-trigger="every 15s"' in html and 'hx-get="/sessions/board/?view=' in html
    assert """hx-headers='{"X-Background-Refresh": "1"}'""" in html
    assert "Rivera, Jordan" in html


def test_a_poll_after_the_sign_out_takes_the_board_to_sign_in(client):
    response = client.get(BOARD_URL, headers=POLL)
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/accounts/login/?next=/sessions/board/"


def test_the_board_and_day_list_are_audited_as_lists(client, nurse, iv_appointment):
    client_as(client, nurse)
    client.get(BOARD_URL)
    client.get(DAY_URL)
    listed = AuditEvent.objects.filter(action="list", actor_username="nurse")
    assert listed.count() == 2


# --------------------------------------------------------------------------- query counts


def _another_session(n, *, chair, nurse, prescriber, front_desk, clinic_admin, make_staff):
    """Another patient checked in in a chair of their own, with an alert open. The chair's
    assigned nurse is another nurse (one nurse is booked in one chair at a time); the
    patient's care team has `nurse`, who checks them in."""
    chair_nurse = make_staff("nurse", username=f"chairnurse{n}")
    other = register(front_desk, legal_given_name=f"Other{n}", email=f"other{n}@example.org")
    care_team_set(actor=front_desk, patient=other, primary_prescriber=prescriber, nurses=[nurse])
    other_chair = scheduling.chair_create(
        actor=clinic_admin, room=chair.room, name=f"Chair {n + 1}", capabilities=chair.capabilities
    )
    appointment = Appointment.objects.create(
        patient=other,
        chair=other_chair,
        nurse=chair_nurse,
        starts_at=at(MONDAY, 9),
        ends_at=at(MONDAY, 10, 10),
        route="iv",
        created_by=front_desk,
    )
    session = services.session_check_in(
        actor=nurse,
        appointment=appointment,
        identity=identity_of(appointment),
        assigned_nurse=nurse,  # the booked chair nurse is not on this patient's care team
    )
    services.vitals_record(
        actor=nurse, session=session, systolic_mmhg=185, diastolic_mmhg=100, heart_rate_bpm=70
    )
    # And a booking later in the same chair.
    Appointment.objects.create(
        patient=register(front_desk, legal_given_name=f"Later{n}"),
        chair=other_chair,
        nurse=chair_nurse,
        starts_at=at(MONDAY, 13),
        ends_at=at(MONDAY, 14, 10),
        route="iv",
        created_by=front_desk,
    )


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("url", [BOARD_URL, DAY_URL])
def test_the_floor_costs_the_same_queries_however_busy(
    client,
    nurse,
    prescriber,
    front_desk,
    clinic_admin,
    make_staff,
    infusion_running,
    chair,
    clock,
    url,
):
    client_as(client, nurse)
    one = _queries(client, url)
    for n in (2, 3, 4):
        _another_session(
            n,
            chair=chair,
            nurse=nurse,
            prescriber=prescriber,
            front_desk=front_desk,
            clinic_admin=clinic_admin,
            make_staff=make_staff,
        )
    assert TreatmentSession.objects.count() == 4
    many = _queries(client, url)
    assert many == one
    html = client.get(url).content.decode()
    assert all(f"Rivera, Other{n}" in html for n in (2, 3, 4))


# --------------------------------------------------------------------------- the chart


def test_the_chart_lists_the_patients_sessions(client, nurse, front_desk, infusion_running):
    html = chart_html(client_as(client, nurse), infusion_running.patient)
    assert "Treatment sessions" in html
    assert reverse("treatment_sessions:detail", args=[infusion_running.uuid]) in html
    assert "Mon 06/02/2031 08:55" in html and "Not signed" in html

    html = chart_html(client_as(client, front_desk), infusion_running.patient)
    assert reverse("treatment_sessions:detail", args=[infusion_running.uuid]) not in html


def test_a_cancelled_appointment_is_not_offered_for_check_in(client, nurse, iv_appointment):
    Appointment.objects.filter(pk=iv_appointment.pk).update(
        status="cancelled", status_reason="Patient unwell"
    )
    client_as(client, nurse)
    url = reverse("treatment_sessions:check_in", args=[iv_appointment.uuid])
    response = client.get(url, follow=True)
    assert response.redirect_chain == [(DAY_URL, 302)]
    assert "only a booked appointment is checked in" in response.content.decode()


def test_an_appointment_on_another_day_is_not_offered_for_check_in(
    client, nurse, iv_appointment, clock
):
    clock.move_to(at(MONDAY, 8, 0) - datetime.timedelta(days=1))  # the Sunday before
    client_as(client, nurse)
    url = reverse("treatment_sessions:check_in", args=[iv_appointment.uuid])
    response = client.get(url, follow=True)
    assert response.redirect_chain == [(DAY_URL, 302)]
    assert "the appointment is on 06/02/2031; patients are checked in on the day" in (
        response.content.decode()
    )
