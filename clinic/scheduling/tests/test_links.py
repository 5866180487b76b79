"""No link on the plan, schedule and chart pages ends in a refusal (issue 11): each is shown
only to the roles that may follow it. A crawl of every link on each page for every staff role,
and one test per link that a role offering it sees it and a role that may not use it does not.

Expected values come from docs/permissions.md: schedule.book (clinic admin, front desk),
schedule.manage_resources (clinic admin), plan.prescribe (prescriber on the care team),
patient.view_clinical (clinic admin, prescriber, nurse, therapist).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from clinic.protocols.choices import PlanStatus
from clinic.scheduling import services
from clinic.scheduling.tests.conftest import MONDAY, at
from tests.helpers import ACTOR_ORDER, client_as
from tests.links import refused_links

pytestmark = pytest.mark.django_db

STAFF = [who for who in ACTOR_ORDER if who not in ("anonymous", "patient_principal")]


@pytest.fixture
def scene(clinic, plan, patient, front_desk):
    appointment = services.appointment_book(
        actor=front_desk,
        patient=patient,
        chair=clinic["chair1"],
        nurse=clinic["nurse"],
        starts_at=at(MONDAY, 9),
        route="iv",
        planned_session=plan.sessions.get(number=1),
    )
    return {"plan": plan, "appointment": appointment}


def _pages(scene, patient):
    plan, appointment = scene["plan"], scene["appointment"]
    return [
        reverse("dashboard:home"),
        reverse("patients:patient_chart", args=[patient.uuid]),
        reverse("protocols:plan_detail", args=[patient.uuid, plan.uuid]),
        reverse("protocols:template_list"),
        f"{reverse('scheduling:calendar')}?date={MONDAY.isoformat()}",
        f"{reverse('scheduling:calendar')}?date={MONDAY.isoformat()}&view=week",
        reverse("scheduling:appointment_detail", args=[appointment.uuid]),
        reverse("scheduling:plan_book", args=[plan.uuid]),
        reverse("scheduling:resources"),
        reverse("scheduling:calendar_feed"),
    ]


@pytest.mark.parametrize("who", STAFF)
def test_no_link_on_these_pages_ends_in_a_refusal(client, actors, scene, patient, who):
    client = client_as(client, actors[who])
    refused = {}
    for url in _pages(scene, patient):
        response = client.get(url)
        if response.status_code != 200:
            continue  # a page this role does not reach offers it no links
        found = refused_links(client, response.content.decode())
        if found:
            refused[url] = found
    assert refused == {}


def _draft(scene):
    plan = scene["plan"]
    type(plan).objects.filter(pk=plan.pk).update(status=PlanStatus.DRAFT)
    return plan


# (what, page, the words that offer it, a role that sees it, a role that does not)
LINKS = [
    ("booking from the plan", "plan", "Book the sessions", "clinic_admin", "prescriber"),
    ("booking from the plan", "plan", "Book the sessions", "clinic_admin", "nurse"),
    ("booking from the plan", "plan", "Book the sessions", "clinic_admin", "therapist"),
    ("booking from the chart", "chart", "Book sessions: IV infusion plan", "front_desk", "nurse"),
    (
        "booking from the chart",
        "chart",
        "Book sessions: IV infusion plan",
        "clinic_admin",
        "prescriber",
    ),
    ("a new plan", "chart", "New treatment plan", "prescriber", "nurse"),
    ("titration", "plan", "Change later doses", "prescriber", "therapist"),
    ("maintenance", "plan", "Add maintenance sessions", "prescriber", "nurse"),
    ("ending the plan", "plan", "Discontinue (reason required)", "prescriber", "clinic_admin"),
    ("signing a draft", "draft", "Sign and activate", "prescriber", "nurse"),
    ("resources", "calendar", "Rooms, chairs, hours and shifts", "clinic_admin", "front_desk"),
    ("the appointment", "calendar", "/schedule/appointments/", "nurse", "nurse_off_team"),
    ("rescheduling", "appointment", "Move the appointment", "front_desk", "nurse"),
    ("cancelling", "appointment", "Cancel the appointment", "front_desk", "prescriber"),
]


def _page(kind, scene, patient) -> str:
    plan, appointment = scene["plan"], scene["appointment"]
    return {
        "plan": reverse("protocols:plan_detail", args=[patient.uuid, plan.uuid]),
        "draft": reverse("protocols:plan_detail", args=[patient.uuid, plan.uuid]),
        "chart": reverse("patients:patient_chart", args=[patient.uuid]),
        "calendar": f"{reverse('scheduling:calendar')}?date={MONDAY.isoformat()}",
        "appointment": reverse("scheduling:appointment_detail", args=[appointment.uuid]),
    }[kind]


@pytest.mark.parametrize(("what", "kind", "words", "sees", "does_not"), LINKS)
def test_each_link_is_offered_only_to_a_role_that_may_follow_it(
    client, actors, scene, patient, what, kind, words, sees, does_not
):
    if kind == "draft":
        _draft(scene)
    url = _page(kind, scene, patient)

    offered = client_as(client, actors[sees]).get(url)
    assert offered.status_code == 200
    assert words in offered.content.decode(), (what, sees)

    hidden = client_as(client, actors[does_not]).get(url)
    assert hidden.status_code == 200
    assert words not in hidden.content.decode(), (what, does_not)


def test_the_plan_says_who_books_its_sessions_when_the_reader_does_not(
    client, actors, scene, patient
):
    url = _page("plan", scene, patient)
    text = "The front desk books this plan's sessions into chairs and nurses' shifts."

    assert text in client_as(client, actors["prescriber"]).get(url).content.decode()
    assert text not in client_as(client, actors["clinic_admin"]).get(url).content.decode()
    # The link the administrator sees leads to the booking page, not a refusal.
    book = reverse("scheduling:plan_book", args=[scene["plan"].uuid])
    assert client_as(client, actors["clinic_admin"]).get(book).status_code == 200
    assert client_as(client, actors["prescriber"]).get(book).status_code == 403
