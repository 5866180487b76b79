"""Who reaches the intake, eligibility, REMS and rule-set pages and the patient's intake link:
the permission matrix (anonymous, patient principal, each role on and off the care team),
denials that write nothing, and each role seeing only the actions it may take.

Expected values come from clinic/accounts/permissions.py and docs/permissions.md (intake.edit:
prescriber and nurse on the care team; eligibility.sign: prescriber on the care team;
screening.edit_rules: clinic admin; the rules are readable by every role with clinical access)
and the views' own checks.
"""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.screening import services
from clinic.screening.models import (
    Intake,
    IntakeLink,
)
from clinic.screening.rules import THRESHOLDS
from clinic.screening.tests.pages import (
    _patient_form,
    _review,
    _sign_form,
    _staff_form,
    _state,
)
from tests.helpers import ACTOR_ORDER
from tests.helpers import chart_html as _chart
from tests.helpers import client_as as _client
from tests.helpers import status_word as _status_word
from tests.helpers import without_csrf as _without_csrf

pytestmark = pytest.mark.django_db


# --------------------------------------------------------------------------- permission matrix


# Expected status per page, in ACTOR_ORDER. Staff pages send the anonymous to sign in and refuse
# portal principals. Off the care team a patient page is a 404, like a uuid that does not
# exist. Front desk and billing reach the patient but not clinical data: 403. intake.edit is
# the care team's prescribers and nurses; eligibility.sign (and REMS) its prescribers; the
# review is readable by every clinical viewer (admin and the care team); the rules page by the
# clinic admin and every clinical role, on a care team or not, and only the clinic admin
# (screening.edit_rules) saves it as a new version.
# fmt: off
PAGE_MATRIX = {
    #                        anon   portal admin presc nurse ther desk bill off-team ×3
    "intake_edit_get":      ["login", 403, 403, 200, 200, 403, 403, 403, 404, 404, 404],
    "intake_edit_post":     ["login", 403, 403, 302, 302, 403, 403, 403, 404, 404, 404],
    "intake_link_post":     ["login", 403, 403, 200, 200, 403, 403, 403, 404, 404, 404],
    "review_get":           ["login", 403, 200, 200, 200, 200, 403, 403, 404, 404, 404],
    "sign_post":            ["login", 403, 403, 302, 403, 403, 403, 403, 404, 404, 404],
    "rems_get":             ["login", 403, 403, 200, 403, 403, 403, 403, 404, 404, 404],
    "rems_post":            ["login", 403, 403, 302, 403, 403, 403, 403, 404, 404, 404],
    "rules_get":            ["login", 403, 200, 200, 200, 200, 403, 403, 200, 200, 200],
    "rules_post":           ["login", 403, 302, 403, 403, 403, 403, 403, 403, 403, 403],
}
# fmt: on
WRITES = {"intake_edit_post", "intake_link_post", "sign_post", "rems_post", "rules_post"}


def _request(client, page, patient, intake):
    today = timezone.localdate().isoformat()
    pages = {
        "intake_edit_get": ("get", reverse("intake:intake_edit", args=[patient.uuid]), None),
        "intake_edit_post": (
            "post",
            reverse("intake:intake_edit", args=[patient.uuid]),
            _staff_form(patient, allergies="Latex"),
        ),
        "intake_link_post": (
            "post",
            reverse("intake:intake_link_create", args=[patient.uuid]),
            {},
        ),
        "review_get": ("get", reverse("intake:eligibility_review", args=[patient.uuid]), None),
        "sign_post": (
            "post",
            reverse("intake:eligibility_review", args=[patient.uuid]),
            _sign_form(intake),
        ),
        "rems_get": ("get", reverse("intake:rems_create", args=[patient.uuid]), None),
        "rems_post": (
            "post",
            reverse("intake:rems_create", args=[patient.uuid]),
            {"enrolled_on": today, "signed_by_patient": "on"},
        ),
        "rules_get": ("get", reverse("intake:rule_set"), None),
        "rules_post": (
            "post",
            reverse("intake:rule_set"),
            {
                **{f"threshold_{name}": str(spec.default) for name, spec in THRESHOLDS.items()},
                "level_psychosis_history": "caution",
                "note": "Medical director",
            },
        ),
    }
    method, url, data = pages[page]
    if method == "get":
        return client.get(url)
    return client.post(url, data)


MATRIX_CASES = [
    pytest.param(page, who, expected, id=f"{page}-{who}")
    for page, row in PAGE_MATRIX.items()
    for who, expected in zip(ACTOR_ORDER, row, strict=True)
]


@pytest.mark.parametrize(("page", "who", "expected"), MATRIX_CASES)
def test_page_permission_matrix(client, patient, submitted, actors, page, who, expected):
    got = _request(_client(client, actors[who]), page, patient, submitted)
    assert _status_word(got) == expected


@pytest.mark.parametrize(
    ("page", "who"),
    [
        pytest.param(page, who, id=f"{page}-{who}")
        for page in sorted(WRITES)
        for who, expected in zip(ACTOR_ORDER, PAGE_MATRIX[page], strict=True)
        if expected in ("login", 403, 404)
    ],
)
def test_a_denied_post_writes_nothing(client, patient, submitted, actors, page, who):
    before = _state()
    got = _request(_client(client, actors[who]), page, patient, submitted)
    assert _status_word(got) != 302
    assert _state() == before


@pytest.mark.parametrize(
    "who",
    [
        "clinic_admin",
        "therapist",
        "front_desk",
        "billing",
        "prescriber_off_team",
        "nurse_off_team",
        "therapist_off_team",
    ],
)
def test_a_denied_visit_does_not_start_an_intake(client, patient, actors, who):
    """The intake page starts a draft for those who may enter one, and for nobody else."""
    client = _client(client, actors[who])
    client.get(reverse("intake:intake_edit", args=[patient.uuid]))
    client.post(reverse("intake:intake_link_create", args=[patient.uuid]))
    assert not Intake.objects.exists() and not IntakeLink.objects.exists()


def test_the_intake_link_is_created_by_post_only(client, patient, nurse):
    client.force_login(nurse)
    got = client.get(reverse("intake:intake_link_create", args=[patient.uuid]))
    assert got.status_code == 405
    assert not IntakeLink.objects.exists()


@pytest.mark.parametrize("who", ACTOR_ORDER)
def test_public_intake_pages_need_no_sign_in(client, patient, submitted, actors, nurse, who):
    """The token is the authority: anyone (signed in or not) holding a good link gets the form;
    a bad token, or no link in the session, is the 'no longer available' page, never a
    sign-in redirect."""
    _, token = services.intake_link_create(actor=nurse, intake=submitted)
    client = _client(client, actors[who])
    bogus = client.get(reverse("intake:public_start", args=["not-a-real-token"]))
    assert bogus.status_code == 404 and b"no longer available" in bogus.content
    for method in (client.get, client.post):
        no_session = method(reverse("intake:public_fill"))
        assert no_session.status_code == 404 and b"no longer available" in no_session.content
    start = client.get(reverse("intake:public_start", args=[token]))
    assert start.status_code == 302
    assert start.headers["Location"] == reverse("intake:public_fill")
    page = client.get(start.headers["Location"])
    assert page.status_code == 200 and "Your health history" in page.content.decode()


def test_an_expired_link_is_no_longer_available(client, patient, submitted, nurse):
    link, token = services.intake_link_create(actor=nurse, intake=submitted)
    IntakeLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())
    got = client.get(reverse("intake:public_start", args=[token]))
    assert got.status_code == 404 and b"no longer available" in got.content


def test_a_link_that_expires_while_open_is_no_longer_available(client, patient, submitted, nurse):
    link, token = services.intake_link_create(actor=nurse, intake=submitted)
    assert client.get(reverse("intake:public_start", args=[token])).status_code == 302
    IntakeLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())
    before = _state()
    got = client.post(reverse("intake:public_fill"), _patient_form(patient, allergies="Latex"))
    assert got.status_code == 404 and b"no longer available" in got.content
    assert _state() == before


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("intake_edit", "get"),
        ("intake_edit", "post"),
        ("intake_link_create", "post"),
        ("eligibility_review", "get"),
        ("eligibility_review", "post"),
        ("rems_create", "get"),
        ("rems_create", "post"),
    ],
)
def test_not_on_the_care_team_looks_like_no_such_patient(
    client, patient, submitted, actors, name, method
):
    client.force_login(actors["prescriber_off_team"])
    send = getattr(client, method)
    hidden = send(reverse(f"intake:{name}", args=[patient.uuid]))
    absent = send(reverse(f"intake:{name}", args=[uuid.uuid4()]))
    assert hidden.status_code == absent.status_code == 404
    assert _without_csrf(hidden) == _without_csrf(absent)
    assert patient.legal_family_name.encode() not in hidden.content
    assert b"not on your care team" in hidden.content


@pytest.mark.parametrize("who", ["front_desk", "billing"])
def test_front_desk_and_billing_see_no_screening_data(client, patient, submitted, actors, who):
    client.force_login(actors[who])
    for name in ("eligibility_review", "intake_edit", "rems_create"):
        got = client.get(reverse(f"intake:{name}", args=[patient.uuid]))
        assert got.status_code == 403, name
        html = got.content.decode()
        assert "sertraline" not in html.lower() and "psychosis" not in html, name
    chart = _chart(client, patient)
    assert "Screening and eligibility" not in chart and "Eligibility review" not in chart


def test_each_role_sees_only_the_actions_it_may_take(client, patient, submitted, actors):
    """The review page offers the intake to those who edit it and the signature to the
    prescriber; others read it without those controls."""
    expected = {
        "prescriber": (True, True),
        "nurse": (True, False),
        "therapist": (False, False),
        "clinic_admin": (False, False),
    }
    for who, (edit, sign) in expected.items():
        client.force_login(actors[who])
        html = _review(client, patient).content.decode()
        assert ("Open the intake" in html) is edit, who
        assert ("Sign the decision" in html) is sign, who
        assert ("Record REMS enrolment" in html) is sign, who
        assert "Eligible with precautions" in html, who  # everyone here reads the findings
