"""The in-basket: what waits on a clinician, live on their home page, counted in the top bar, and
answered from where they read it.

Expected statuses come from clinic/accounts/permissions.py and docs/permissions.md: anyone who
reads clinical records (patient.view_clinical) has an in-basket; only a prescriber on the
patient's care team (session.override) answers or declines a request. The pre-dose limit is the
clinic-policy default, above 140/90 mmHg (policy-defaults.md [C2], [E1]).
"""

from __future__ import annotations

import re

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
from clinic.treatment_sessions.models import PrescriberRequest, SessionOverride
from clinic.treatment_sessions.tests.conftest import MONDAY, at, identity_of
from tests.helpers import ACTOR_ORDER, client_as, status_word

pytestmark = pytest.mark.django_db

INBASKET = "/in-basket/"
COUNT = "/in-basket/count/"
POLL = {"HX-Request": "true", "X-Background-Refresh": "1"}


@pytest.fixture
def waiting(iv_checked_in, nurse):
    """A pre-dose BP of 190/120 at 08:50: the prescriber is asked at once."""
    services.vitals_record(
        actor=nurse,
        session=iv_checked_in,
        systolic_mmhg=190,
        diastolic_mmhg=120,
        heart_rate_bpm=80,
    )
    return PrescriberRequest.objects.get(session=iv_checked_in)


# fmt: off
MATRIX = {
    #             anon     portal admin presc nurse ther desk bill off-team presc/nurse/ther
    "page":      ["login", 403,  200,  200,  200,  200, 403, 403, 200, 200, 200],
    "count":     [204,     403,  200,  200,  200,  200, 200, 200, 200, 200, 200],
    "answer":    ["login", 403,  403,  302,  403,  403, 403, 403, 404, 403, 403],
    "decline":   ["login", 403,  403,  302,  403,  403, 403, 403, 404, 403, 403],
    "withdraw":  ["login", 403,  403,  302,  302,  403, 403, 403, 404, 404, 403],
}
# fmt: on


def _request(client, page, request):
    if page == "page":
        return client.get(INBASKET)
    if page == "count":
        return client.get(COUNT, headers=POLL)
    if page == "answer":
        return client.post(
            reverse("treatment_sessions:request_answer", args=[request.uuid]),
            {"reason": "Usual for her", "back": "inbasket"},
        )
    if page == "decline":
        return client.post(
            reverse("treatment_sessions:request_decline", args=[request.uuid]),
            {"note": "Recheck in 15 minutes", "back": "inbasket"},
        )
    return client.post(reverse("treatment_sessions:request_withdraw", args=[request.uuid]))


@pytest.mark.parametrize(
    ("page", "who", "expected"),
    [
        pytest.param(page, who, expected, id=f"{page}-{who}")
        for page, row in MATRIX.items()
        for who, expected in zip(ACTOR_ORDER, row, strict=True)
    ],
)
def test_permission_matrix(client, actors, waiting, page, who, expected):
    response = _request(client_as(client, actors[who]), page, waiting)
    assert status_word(response) == expected
    if page in ("answer", "decline", "withdraw") and expected != 302:
        # A refusal changes nothing.
        waiting.refresh_from_db()
        assert waiting.status == "open"
        assert not SessionOverride.objects.exists()


def test_the_prescriber_reads_what_the_nurse_waits_for_and_confirms_it_there(
    client, prescriber, nurse, waiting, patient
):
    html = client_as(client, prescriber).get(INBASKET).content.decode()
    assert "A nurse is waiting for a prescriber" in html
    assert "Confirm the pre-dose blood pressure" in html
    assert "Pre-dose BP 190/120 mmHg at 08:50." in html
    assert "Chair 1, Room A" in html and "asked by" in html
    assert "Confirm the BP for dosing" in html and "Decline" in html
    assert AuditEvent.objects.filter(
        actor=prescriber, action="list", object_type="prescriber_request"
    ).exists()

    seen = re.search(r'name="seen" value="(\w+)"', html).group(1)
    response = client.post(
        reverse("treatment_sessions:request_answer", args=[waiting.uuid]),
        {"reason": "Known white-coat hypertension", "back": "inbasket", "seen": seen},
        follow=True,
    )

    assert response.redirect_chain == [(INBASKET, 302)]
    waiting.refresh_from_db()
    assert (waiting.status, waiting.closed_by) == ("answered", prescriber)
    override = SessionOverride.objects.get(session=waiting.session)
    assert (override.kind, override.reason) == ("pre_dose_bp", "Known white-coat hypertension")
    assert "A nurse is waiting for a prescriber" not in response.content.decode()


def test_an_answer_on_a_situation_that_changed_decides_nothing(
    client, prescriber, nurse, waiting, clock
):
    client_as(client, prescriber)
    html = client.get(INBASKET).content.decode()
    seen = re.search(r'name="seen" value="(\w+)"', html).group(1)
    # Meanwhile the nurse rechecks: 200/118, higher still.
    clock.move_to(at(MONDAY, 8, 53))
    services.vitals_record(
        actor=nurse, session=waiting.session, systolic_mmhg=200, diastolic_mmhg=118
    )
    url = reverse("treatment_sessions:request_answer", args=[waiting.uuid])

    response = client.post(url, {"reason": "Usual for her", "seen": seen}, follow=True)

    assert "changed since you read it; nothing was decided" in response.content.decode()
    assert "Pre-dose BP 200/118 mmHg at 08:53." in response.content.decode()
    assert not SessionOverride.objects.exists()
    waiting.refresh_from_db()
    assert waiting.status == "open" and waiting.about[0] == "Pre-dose BP 200/118 mmHg at 08:53."

    # Read again, decided on what is true now.
    client.post(url, {"reason": "Seen her: calm, rechecked", "seen": waiting.about_digest})
    waiting.refresh_from_db()
    assert waiting.status == "answered"
    assert SessionOverride.objects.get().kind == "pre_dose_bp"


def test_a_nurse_sees_the_request_but_cannot_answer_it(client, nurse, waiting):
    html = client_as(client, nurse).get(INBASKET).content.decode()
    assert "Confirm the pre-dose blood pressure" in html
    assert "Confirm the BP for dosing" not in html
    assert "Only a prescriber answers" in html


def test_a_prescriber_off_the_care_team_does_not_see_it(client, actors, waiting):
    html = client_as(client, actors["prescriber_off_team"]).get(INBASKET).content.decode()
    assert "Confirm the pre-dose blood pressure" not in html
    assert "Nothing is waiting for you." in html


def test_a_decline_needs_words_and_reaches_the_chair(client, prescriber, waiting):
    client_as(client, prescriber)
    url = reverse("treatment_sessions:request_decline", args=[waiting.uuid])
    response = client.post(url, {"note": "", "back": "inbasket"}, follow=True)
    assert "Say what the nurse should do instead." in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == "open"

    client.post(url, {"note": "Recheck seated in 15 minutes", "back": "inbasket"})
    waiting.refresh_from_db()
    assert (waiting.status, waiting.closing_note) == ("declined", "Recheck seated in 15 minutes")


def test_the_clinic_admin_sees_requests_no_prescriber_can_answer(
    client, clinic_admin, front_desk, nurse, patient, waiting
):
    html = client_as(client, clinic_admin).get(INBASKET).content.decode()
    assert "Confirm the pre-dose blood pressure" not in html  # a prescriber can answer it

    care_team_set(actor=front_desk, patient=patient, primary_prescriber=None, nurses=[nurse])

    html = client.get(INBASKET).content.decode()
    assert "Confirm the pre-dose blood pressure" in html
    assert "No prescriber is on this patient" in html
    assert reverse("patients:care_team_edit", args=[patient.uuid]) in html


def test_the_count_in_the_top_bar_reads_no_patient_and_writes_no_audit(
    client, prescriber, waiting, patient
):
    client_as(client, prescriber)
    before = AuditEvent.objects.count()
    response = client.get(COUNT, headers=POLL)
    html = response.content.decode()
    # The pre-dose request, and the one chair alert 190/120 raised (very high by its diastolic).
    assert '"inbasket-count has-waiting"' in html and ">2<span" in html
    assert patient.legal_family_name not in html and patient.mrn not in html
    assert AuditEvent.objects.count() == before


def test_the_count_tells_the_page_when_what_waits_has_changed(
    client, prescriber, nurse, waiting, iv_checked_in
):
    client_as(client, prescriber)
    first = client.get(COUNT, headers=POLL)
    digest = re.search(r'"seen": "(\w+)"', first.content.decode()).group(1)
    # Nothing changed since: the list on the page is left alone.
    same = client.get(COUNT, {"seen": digest}, headers=POLL)
    assert "HX-Trigger" not in same.headers
    # The prescriber answers (from anywhere): what waits changed, so the list reloads.
    services.pre_dose_bp_confirm(actor=prescriber, session=iv_checked_in, reason="Usual")
    changed = client.get(COUNT, {"seen": digest}, headers=POLL)
    assert changed.headers["HX-Trigger"] == "inbasket-changed"
    assert f'"seen": "{digest}"' not in changed.content.decode()


def test_the_home_page_holds_the_in_basket_and_refreshes_it(client, prescriber, waiting):
    html = client_as(client, prescriber).get("/").content.decode()
    assert 'id="basket"' in html and 'hx-trigger="inbasket-changed from:body' in html
    # The refresh waits while an item is open or has focus: that check is in a static script
    # (the Content-Security-Policy forbids the eval an htmx trigger filter needs).
    assert "dashboard/inbasket.js" in html
    assert "Confirm the pre-dose blood pressure" in html
    # The poll gets the list only.
    fragment = client.get(INBASKET, headers=POLL).content.decode()
    assert fragment.lstrip().startswith("{#") is False and 'id="basket"' in fragment
    assert "<html" not in fragment


def test_sessions_to_sign_wait_for_the_prescriber(client, prescriber, nurse, iv_stopped, clock):
    services.session_stop(actor=prescriber, session=iv_stopped, reason="Test: ended")
    html = client_as(client, prescriber).get(INBASKET).content.decode()
    assert "Sessions to sign" in html
    assert reverse("treatment_sessions:detail", args=[iv_stopped.uuid]) in html
    html = client_as(client, nurse).get(INBASKET).content.decode()
    assert "Sessions to sign" not in html  # nurses do not sign


def _another_request(n, *, chair, nurse, prescriber, front_desk, clinic_admin):
    """Another patient in a chair of their own (one chair holds one booking at a time),
    with a pre-dose BP of 150/95 waiting for a prescriber."""
    other = register(front_desk, legal_given_name=f"Other{n}", email=f"other{n}@example.org")
    care_team_set(actor=front_desk, patient=other, primary_prescriber=prescriber, nurses=[nurse])
    other_chair = scheduling.chair_create(
        actor=clinic_admin, room=chair.room, name=f"Chair {n + 1}", capabilities=chair.capabilities
    )
    appointment = Appointment.objects.create(
        patient=other,
        chair=other_chair,
        nurse=nurse,
        starts_at=at(MONDAY, 9),
        ends_at=at(MONDAY, 10, 10),
        route="iv",
        created_by=front_desk,
    )
    session = services.session_check_in(
        actor=nurse, appointment=appointment, identity=identity_of(appointment)
    )
    services.vitals_record(actor=nurse, session=session, systolic_mmhg=150, diastolic_mmhg=95)


def test_the_in_basket_reads_the_same_queries_however_much_waits(
    client,
    prescriber,
    nurse,
    front_desk,
    clinic_admin,
    chair,
    waiting,
):
    client_as(client, prescriber)

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(INBASKET).status_code == 200
        return len(captured.captured_queries)

    one = count()
    for n in (2, 3, 4):
        _another_request(
            n,
            chair=chair,
            nurse=nurse,
            prescriber=prescriber,
            front_desk=front_desk,
            clinic_admin=clinic_admin,
        )
    assert PrescriberRequest.objects.filter(status="open").count() == 4
    assert count() == one
