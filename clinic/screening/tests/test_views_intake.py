"""Intake, eligibility and REMS pages, the patient's intake link and the rule-set page: the
permission matrix (anonymous, patient principal, each role on and off the care team), denials
that write nothing, and what a clinic sees when it works through them — the staff intake, the
prescriber's review and signature, re-review after a change, REMS, and the patient link that
leads on to the baseline questionnaires.

Expected values come from clinic/accounts/permissions.py and docs/permissions.md (intake.edit:
prescriber and nurse on the care team; eligibility.sign: prescriber on the care team;
screening.edit_rules: clinic admin; the rules are readable by every role with clinical access),
screening-rules.md (via TRD_HISTORY: past psychosis is relative for iv/im/esketamine and closes
the at-home sublingual route) and the views' own checks.
"""

from __future__ import annotations

import datetime
import re
import uuid
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.assessments.models import QuestionnaireLink
from clinic.core.models import AuditEvent
from clinic.patients import services as patient_services
from clinic.patients.tests.factories import register
from clinic.screening import eligibility
from clinic.screening import intake as intake_services
from clinic.screening.models import (
    AntidepressantTrial,
    EligibilityDecision,
    Intake,
    IntakeLink,
    IntakeMedication,
    RemsEnrollment,
    RuleSetVersion,
)
from clinic.screening.rules import THRESHOLDS
from clinic.screening.tests.test_eligibility import TRD_HISTORY
from tests.helpers import ACTOR_ORDER
from tests.helpers import chart_html as _chart
from tests.helpers import client_as as _client
from tests.helpers import path_of as _path
from tests.helpers import status_word as _status_word
from tests.helpers import without_csrf as _without_csrf

pytestmark = pytest.mark.django_db

JUSTIFICATION = "One brief episode in 2009; stable since; psychiatrist agrees."


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def patient(front_desk, prescriber, nurse, therapist):
    patient = register(front_desk)  # female, born 1985
    patient_services.care_team_set(
        actor=front_desk,
        patient=patient,
        primary_prescriber=prescriber,
        nurses=[nurse],
        therapists=[therapist],
    )
    return patient


@pytest.fixture
def submitted(patient, nurse):
    intake = intake_services.intake_start(actor=nurse, patient=patient)
    return intake_services.intake_save(actor=nurse, intake=intake, submit=True, **TRD_HISTORY)


# --------------------------------------------------------------------------- helpers


def _formset(prefix: str, rows: list[dict], initial: int = 0) -> dict[str, str]:
    """A formset's POST data as the browser sends it: the page renders the saved rows as initial
    forms plus three blank ones; checked boxes are "on", unchecked ones are left out."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(max(initial + 3, len(rows))),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            if value is True:
                data[f"{prefix}-{index}-{key}"] = "on"
            elif value not in (False, None):
                data[f"{prefix}-{index}-{key}"] = str(value)
    return data


class _FormReader(HTMLParser):
    """What a browser would submit from each POST form of a page, untouched: text and hidden
    inputs, checked boxes and radios, each select's selected option (else its first),
    textareas."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[list[tuple[str, str]]] = []
        self.fields: list[tuple[str, str]] = []
        self._in_form = False
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._in_form, self.fields = True, []
        if not self._in_form:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields.append((name, attrs.get("value", "on")))
            elif kind not in ("submit", "button"):
                self.fields.append((name, attrs.get("value") or ""))
        elif tag == "select" and name:
            self._select, self._options = name, []
        elif tag == "option" and self._select is not None:
            self._options.append((attrs.get("value", ""), "selected" in attrs))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data):
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None:
            chosen = [v for v, selected in self._options if selected] or [
                v for v, _ in self._options[:1]
            ]
            self.fields.extend((self._select, v) for v in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None
        elif tag == "form" and self._in_form:
            self._in_form = False
            self.forms.append(self.fields)


def _as_submitted(response, **buttons) -> dict[str, list[str]]:
    """The page's main form (its largest POST form; the navigation has small ones) as the
    browser would post it unchanged, plus the button pressed."""
    reader = _FormReader()
    reader.feed(response.content.decode())
    data: dict[str, list[str]] = {}
    for name, value in max(reader.forms, key=len):
        data.setdefault(name, []).append(value)
    data.pop("csrfmiddlewaretoken", None)
    for name, value in buttons.items():
        data[name] = [value]
    return data


def _saved_rows(patient) -> tuple[int, int]:
    """How many medication and trial rows the intake page renders as initial forms."""
    intake = Intake.objects.filter(patient=patient).order_by("-created_at", "-id").first()
    if intake is None:
        return 0, 0
    return intake.medications.count(), intake.trials.count()


MEDS = [{"name": "Sertraline", "medication_class": "other", "dose": "100 mg"}]
TRIALS = [
    {
        "drug": "sertraline",
        "dose": "200 mg",
        "duration_weeks": 8,
        "adequate": True,
        "outcome": "no_response",
        "current_episode": True,
    },
    {
        "drug": "bupropion",
        "dose": "300 mg",
        "duration_weeks": 10,
        "adequate": True,
        "outcome": "partial_response",
        "current_episode": True,
    },
]
PATIENT_ANSWERS = {
    "conditions": ["psychosis_history"],
    "history_detail": "",
    "allergies": "",
    "psychiatric_history": "",
    "substance_use": "",
    "pregnant": "false",
    "breastfeeding": "false",
    "weight_kg": "80",
    "height_cm": "170",
    "home_treatment_monitor_name": "",
    "home_bp_monitor": "",
}
STAFF_ANSWERS = {
    **PATIENT_ANSWERS,
    "indication": "treatment_resistant_depression",
    "systolic_mmhg": "128",
    "diastolic_mmhg": "82",
    "heart_rate_bpm": "70",
}


def _staff_form(patient, action="save", meds=MEDS, trials=TRIALS, **overrides) -> dict:
    """The staff intake form as posted from the page rendered for the patient's intake."""
    saved_meds, saved_trials = _saved_rows(patient)
    return {
        **STAFF_ANSWERS,
        **_formset("med", meds, saved_meds),
        **_formset("trial", trials, saved_trials),
        "action": action,
        **overrides,
    }


def _patient_form(patient, meds=(), trials=(), **overrides) -> dict:
    saved_meds, saved_trials = _saved_rows(patient)
    return {
        **PATIENT_ANSWERS,
        **_formset("med", list(meds), saved_meds),
        **_formset("trial", list(trials), saved_trials),
        **overrides,
    }


def _sign_form(intake, outcome="ineligible", **extra) -> dict:
    return {"outcome": outcome, "revision": str(intake.revision), **extra}


def _state():
    """Every row the screening pages may write (the audit trail aside); the intake's revision
    and status are among the Intake values."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (
            Intake,
            IntakeMedication,
            AntidepressantTrial,
            IntakeLink,
            EligibilityDecision,
            RemsEnrollment,
            RuleSetVersion,
        )
    }


def _route_cards(html: str) -> dict[str, str]:
    """Route code → the text of its card on the review page."""
    return dict(
        re.findall(
            r'<section class="card route-card verdict-\w+" aria-labelledby="route-(\w+)">'
            r"(.*?)</section>",
            html,
            re.S,
        )
    )


def _verdict(card: str) -> str:
    return re.search(r'<p class="verdict">(.*?)</p>', card).group(1)


def _review(client, patient):
    return client.get(reverse("intake:eligibility_review", args=[patient.uuid]))


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
    _, token = intake_services.intake_link_create(actor=nurse, intake=submitted)
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
    link, token = intake_services.intake_link_create(actor=nurse, intake=submitted)
    IntakeLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())
    got = client.get(reverse("intake:public_start", args=[token]))
    assert got.status_code == 404 and b"no longer available" in got.content


def test_a_link_that_expires_while_open_is_no_longer_available(client, patient, submitted, nurse):
    link, token = intake_services.intake_link_create(actor=nurse, intake=submitted)
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


# --------------------------------------------------------------------------- staff intake


def test_staff_intake_saves_a_draft_and_then_submits(client, patient, nurse, prescriber):
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    first = client.get(url)
    assert first.status_code == 200 and "In progress" in first.content.decode()

    draft = client.post(url, _staff_form(patient, action="save"), follow=True)
    review_url = reverse("intake:eligibility_review", args=[patient.uuid])
    assert draft.redirect_chain[-1][0] == review_url
    assert "Intake saved." in draft.content.decode()
    intake = Intake.objects.get()
    assert (intake.status, intake.revision, intake.submitted_at) == ("draft", 1, None)
    assert (intake.systolic_mmhg, intake.diastolic_mmhg, intake.heart_rate_bpm) == (128, 82, 70)
    assert intake.indication == "treatment_resistant_depression"
    assert intake.conditions == ["psychosis_history"] and intake.pregnant is False
    assert [m.name for m in intake.medications.all()] == ["Sertraline"]
    assert [(t.drug, t.outcome, t.duration_weeks) for t in intake.trials.all()] == [
        ("sertraline", "no_response", 8),
        ("bupropion", "partial_response", 10),
    ]
    # The prescriber cannot sign a draft.
    client.force_login(prescriber)
    assert "The intake is not submitted yet." in _review(client, patient).content.decode()

    client.force_login(nurse)
    reopened = client.get(url).content.decode()
    assert 'value="Sertraline"' in reopened and 'value="bupropion"' in reopened
    # The saved rows come back as the formsets' initial forms (what _staff_form posts).
    assert 'name="med-INITIAL_FORMS" value="1"' in reopened
    assert 'name="trial-INITIAL_FORMS" value="2"' in reopened
    submitted = client.post(url, _staff_form(patient, action="submit"))
    assert submitted.status_code == 302
    intake.refresh_from_db()
    assert (intake.status, intake.revision, intake.source) == ("submitted", 1, "staff")
    assert intake.submitted_by == nurse and intake.submitted_at is not None
    assert IntakeMedication.objects.count() == 1 and AntidepressantTrial.objects.count() == 2
    event = AuditEvent.objects.filter(object_type="intake", action="update").latest("id")
    assert event.actor == nurse and event.patient == patient

    client.force_login(prescriber)
    html = _review(client, patient).content.decode()
    assert "<strong>Submitted</strong>, revision 1" in html and "Sign the decision" in html


def test_an_implausible_value_is_shown_next_to_its_field_and_nothing_is_saved(
    client, patient, nurse
):
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    client.post(url, _staff_form(patient, action="save"))  # a draft to come back to
    before = _state()
    got = client.post(
        url, _staff_form(patient, action="submit", systolic_mmhg="400", allergies="Latex")
    )
    assert got.status_code == 200
    html = got.content.decode()
    assert 'id="id_systolic_mmhg_error"' in html
    error = re.search(r'id="id_systolic_mmhg_error"[^>]*>([^<]*)<', html).group(1)
    assert "between 50 and 300" in error
    assert "Nothing was saved" in html
    assert 'value="400"' in html  # what was typed is kept for correction
    assert _state() == before


def test_a_trial_outcome_without_a_drug_is_a_form_level_error(client, patient, nurse):
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    client.post(url, _staff_form(patient, action="save"))
    before = _state()
    rows = [*TRIALS, {"drug": "", "outcome": "no_response", "adequate": True}]
    got = client.post(url, _staff_form(patient, action="save", trials=rows))
    assert got.status_code == 200
    html = got.content.decode()
    banner = re.search(r'<div class="form-error" role="alert">(.*?)</div>', html, re.S).group(1)
    assert "Trial 3: an outcome without a drug" in banner
    assert _state() == before


def test_a_medication_without_a_class_is_a_form_level_error(client, patient, nurse):
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    client.get(url)
    before = _state()
    got = client.post(url, _staff_form(patient, meds=[{"name": "Lorazepam", "dose": "1 mg"}]))
    assert got.status_code == 200
    banner = re.search(
        r'<div class="form-error" role="alert">(.*?)</div>', got.content.decode(), re.S
    ).group(1)
    assert "Medication 1: choose its class." in banner
    assert _state() == before


def test_a_trial_row_the_form_refuses_says_why(client, patient, nurse):
    """A row the formset itself refuses (600 weeks: more than the form's maximum of 520) must
    say so on the page; the user cannot otherwise tell why nothing happened."""
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    client.get(url)
    before = _state()
    rows = [{**TRIALS[0], "duration_weeks": 600}]
    got = client.post(url, _staff_form(patient, action="submit", trials=rows))
    assert got.status_code == 200
    assert _state() == before
    html = got.content.decode()
    assert "less than or equal to 520" in html, "the page gives no hint of what is wrong"


def test_a_row_error_names_the_row_the_user_sees(client, patient, nurse):
    """A new intake: the first trial row is left blank and the second has an outcome but no
    drug. The message must point at the second row, where the mistake is."""
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    client.get(url)
    rows = [{}, {"drug": "", "outcome": "no_response"}]
    got = client.post(url, _staff_form(patient, trials=rows))
    assert got.status_code == 200
    html = got.content.decode()
    assert "an outcome without a drug" in html
    assert "Trial 2: an outcome without a drug" in html, re.findall(r"Trial \d+: [^<]*", html)


# --------------------------------------------------------------------------- the review


def test_the_review_groups_findings_per_route_with_its_verdict(
    client, patient, submitted, prescriber
):
    client.force_login(prescriber)
    got = _review(client, patient)
    assert got.status_code == 200
    html = got.content.decode()
    cards = _route_cards(html)
    assert list(cards) == ["iv", "im", "esketamine", "sublingual"]
    assert {route: _verdict(card) for route, card in cards.items()} == {
        "iv": "Eligible with precautions",
        "im": "Eligible with precautions",
        "esketamine": "Eligible with precautions",
        "sublingual": "Not eligible",
    }
    for route in ("iv", "im", "esketamine"):
        assert "<code>psychosis_history</code>" in cards[route]
        assert "psychosis_history_unmonitored" not in cards[route]
    codes = re.findall(r"<code>(\w+)</code>", cards["sublingual"])
    assert set(codes) == {
        "psychosis_history_unmonitored",
        "no_treatment_monitor",
        "no_home_bp_monitor",
    }
    assert "<strong>absolute</strong>" in cards["sublingual"]
    assert "<strong>relative</strong>" not in cards["sublingual"]
    # Treatment resistance and the trials behind it.
    assert "<strong>Treatment-resistant</strong>: 2 adequate trials without response" in html
    assert "sertraline  — No response; adequate; this episode" in html
    assert "bupropion  — Partial response; adequate; this episode" in html
    assert "128/82 mmHg" in html and "27.7" in html  # BMI 80 / 1.70²
    assert "Sertraline" in html and "(Other)" in html
    assert "Rule set v1" in html


def test_the_findings_in_a_route_come_most_serious_first(client, front_desk, prescriber, nurse):
    """Conditions chosen so one route holds an absolute and a relative finding."""
    patient = register(front_desk, legal_family_name="Okafor")
    patient_services.care_team_set(
        actor=front_desk, patient=patient, primary_prescriber=prescriber, nurses=[nurse]
    )
    intake = intake_services.intake_start(actor=nurse, patient=patient)
    data = {**TRD_HISTORY["data"], "conditions": ["psychosis_history", "hypersensitivity"]}
    intake_services.intake_save(
        actor=nurse, intake=intake, submit=True, **{**TRD_HISTORY, "data": data}
    )
    client.force_login(prescriber)
    cards = _route_cards(_review(client, patient).content.decode())
    levels = re.findall(r"<strong>(absolute|relative|caution)</strong>", cards["iv"])
    assert levels == sorted(levels, key=["absolute", "relative", "caution"].index)
    assert levels[0] == "absolute" and "relative" in levels
    assert _verdict(cards["iv"]) == "Not eligible"


def test_a_treatment_without_failed_trials_is_not_treatment_resistant(
    client, patient, nurse, prescriber
):
    intake = intake_services.intake_start(actor=nurse, patient=patient)
    intake_services.intake_save(
        actor=nurse,
        intake=intake,
        submit=True,
        data={**TRD_HISTORY["data"], "indication": "major_depression"},
        medications=[],
        trials=[],
    )
    client.force_login(prescriber)
    html = _review(client, patient).content.decode()
    assert "<strong>Not treatment-resistant</strong>: 0 adequate trials" in html
    assert "None recorded." in html


def test_the_review_without_an_intake_offers_to_start_one(client, patient, nurse, therapist):
    client.force_login(nurse)
    html = _review(client, patient).content.decode()
    assert "No intake yet." in html and "Start the intake" in html
    client.force_login(therapist)
    html = _review(client, patient).content.decode()
    assert "No intake yet." in html and "Start the intake" not in html
    assert not Intake.objects.exists()


def test_signing_with_no_intake_is_not_found_and_writes_nothing(client, patient, prescriber):
    client.force_login(prescriber)
    got = client.post(
        reverse("intake:eligibility_review", args=[patient.uuid]),
        {"outcome": "ineligible", "revision": "1"},
    )
    assert got.status_code == 404
    assert not EligibilityDecision.objects.exists()


# --------------------------------------------------------------------------- signing


def test_the_prescriber_signs_with_a_justification_and_sees_the_decision(
    client, patient, submitted, prescriber
):
    client.force_login(prescriber)
    url = reverse("intake:eligibility_review", args=[patient.uuid])
    missing = client.post(url, _sign_form(submitted, "eligible", approved_routes=["iv"]))
    assert missing.status_code == 200
    html = missing.content.decode()
    assert "Proceeding despite &#x27;psychosis_history&#x27; needs a written justification" in html
    assert 'value="iv" checked' in html and 'value="eligible" checked' in html
    assert not EligibilityDecision.objects.exists()

    signed = client.post(
        url,
        _sign_form(
            submitted,
            "eligible",
            approved_routes=["iv", "esketamine"],
            justification_psychosis_history=JUSTIFICATION,
        ),
        follow=True,
    )
    assert signed.redirect_chain[-1][0] == url
    decision = EligibilityDecision.objects.get()
    assert (decision.outcome, decision.approved_routes, decision.signed_by) == (
        "eligible",
        ["iv", "esketamine"],
        prescriber,
    )
    assert decision.justifications == {"psychosis_history": JUSTIFICATION}
    assert decision.intake_revision == submitted.revision and decision.rule_set.version == 1
    html = signed.content.decode()
    assert "Eligibility decision signed." in html
    assert "Current decision: <strong>Eligible for the chosen routes</strong> (iv, esketamine)" in (
        html
    )
    assert "must be re-signed" not in html
    assert "Decision history" in html and "stable since; psychiatrist agrees." in html


def test_an_absolute_finding_cannot_be_overridden_on_the_page(
    client, patient, submitted, prescriber
):
    client.force_login(prescriber)
    before = _state()
    got = client.post(
        reverse("intake:eligibility_review", args=[patient.uuid]),
        _sign_form(
            submitted,
            "eligible",
            approved_routes=["sublingual"],
            justification_psychosis_history=JUSTIFICATION,
        ),
    )
    assert got.status_code == 200
    html = got.content.decode()
    errors = re.findall(r'<p class="field-error" role="alert">(.*?)</p>', html)
    assert any(
        "At-home sublingual is closed by an absolute finding" in e and "cannot be overridden" in e
        for e in errors
    )
    assert _state() == before


def test_a_deferred_decision_must_say_what_is_awaited(client, patient, submitted, prescriber):
    client.force_login(prescriber)
    url = reverse("intake:eligibility_review", args=[patient.uuid])
    before = _state()
    got = client.post(url, _sign_form(submitted, "deferred", awaiting="   "))
    assert got.status_code == 200
    assert "Say what the decision is waiting for." in got.content.decode()
    assert _state() == before

    done = client.post(url, _sign_form(submitted, "deferred", awaiting="Cardiology letter"))
    assert done.status_code == 302
    assert EligibilityDecision.objects.get().awaiting == "Cardiology letter"
    assert "Deferred: Cardiology letter" in _review(client, patient).content.decode()


def test_a_stale_review_is_refused_and_writes_nothing(
    client, patient, submitted, nurse, prescriber
):
    client.force_login(prescriber)
    page = _review(client, patient).content.decode()
    seen = re.search(r'name="revision" value="(\d+)"', page).group(1)
    # Meanwhile the nurse corrects the intake.
    nurse_client = Client()
    nurse_client.force_login(nurse)
    changed = nurse_client.post(
        reverse("intake:intake_edit", args=[patient.uuid]), _staff_form(patient, allergies="Latex")
    )
    assert changed.status_code == 302
    submitted.refresh_from_db()
    assert submitted.revision == int(seen) + 1
    before = _state()
    got = client.post(
        reverse("intake:eligibility_review", args=[patient.uuid]),
        {"outcome": "ineligible", "revision": seen},
    )
    assert got.status_code == 200
    html = got.content.decode()
    assert "changed while you were reviewing" in html
    assert f'name="revision" value="{submitted.revision}"' in html  # the fresh one to sign
    assert _state() == before


@pytest.mark.parametrize("revision", ["abc", "1.5", "-1", "99999999999999999999999"])
def test_a_malformed_revision_is_refused_not_a_server_error(
    client, patient, submitted, prescriber, revision
):
    client.force_login(prescriber)
    client.raise_request_exception = False
    before = _state()
    got = client.post(
        reverse("intake:eligibility_review", args=[patient.uuid]),
        {"outcome": "ineligible", "revision": revision},
    )
    assert got.status_code in (200, 400), got.status_code
    assert _state() == before


def test_a_changed_intake_sends_the_decision_back_for_re_review(
    client, patient, submitted, nurse, prescriber
):
    eligibility.decision_sign(
        actor=prescriber,
        intake=submitted,
        outcome="eligible",
        approved_routes=["iv"],
        justifications={"psychosis_history": JUSTIFICATION},
    )
    client.force_login(prescriber)
    assert "must be re-signed" not in _review(client, patient).content.decode()
    chart = _chart(client, patient)
    assert "needs re-review" not in chart and "Eligible for the chosen routes" in chart

    client.force_login(nurse)
    assert (
        client.post(
            reverse("intake:intake_edit", args=[patient.uuid]),
            _staff_form(patient, allergies="Latex"),
        ).status_code
        == 302
    )
    submitted.refresh_from_db()
    assert submitted.revision == 2
    chart = _chart(client, patient)
    assert "needs re-review" in chart
    assert "Eligibility decision needs re-review" in chart  # the header alert

    client.force_login(prescriber)
    html = _review(client, patient).content.decode()
    assert "this decision must be re-signed before any treatment is planned" in html
    assert "<strong>Submitted</strong>, revision 2" in html
    assert not eligibility.planning_clearance(patient=patient, route="iv").allowed
    # Re-signing clears it.
    client.post(
        reverse("intake:eligibility_review", args=[patient.uuid]),
        _sign_form(
            submitted,
            "eligible",
            approved_routes=["iv"],
            justification_psychosis_history=JUSTIFICATION,
        ),
    )
    assert EligibilityDecision.objects.count() == 2
    assert "needs re-review" not in _chart(client, patient)
    assert "must be re-signed" not in _review(client, patient).content.decode()


def test_saving_the_same_answers_does_not_send_the_decision_back(
    client, patient, nurse, prescriber
):
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    client.post(url, _staff_form(patient, action="submit"))
    intake = Intake.objects.get()
    eligibility.decision_sign(actor=prescriber, intake=intake, outcome="ineligible")
    client.post(url, _staff_form(patient, action="save"))
    intake.refresh_from_db()
    assert intake.revision == 1
    assert "needs re-review" not in _chart(client, patient)


def _answers(intake: Intake) -> dict:
    intake.refresh_from_db()
    return {
        **{name: getattr(intake, name) for name in intake_services.INTAKE_FIELDS},
        "revision": intake.revision,
        "medications": [(m.name, m.medication_class, m.dose) for m in intake.medications.all()],
        "trials": [
            (t.drug, t.dose, t.duration_weeks, t.adequate, t.outcome, t.current_episode)
            for t in intake.trials.all()
        ],
    }


def test_a_submitted_intake_round_trips_through_its_page(client, patient, submitted, nurse):
    """Vitals, conditions, medications and trials as the page shows them post back unchanged
    (no yes/no answers recorded here): nothing changes and the revision stays."""
    before = _answers(submitted)
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    page = client.get(url)
    assert client.post(url, _as_submitted(page, action="save")).status_code == 302
    assert _answers(submitted) == before


def test_opening_and_saving_the_intake_unchanged_changes_nothing(
    client, patient, submitted, nurse, prescriber
):
    """A nurse opens the submitted intake and presses save without touching anything: every
    answer — the yes/no ones included — must come back as it was, and the signed decision
    must not be sent back for re-review."""
    intake_services.intake_save(
        actor=nurse,
        intake=submitted,
        data={"pregnant": False, "breastfeeding": False, "home_bp_monitor": True},
    )
    eligibility.decision_sign(actor=prescriber, intake=submitted, outcome="ineligible")
    before = _answers(submitted)
    assert (before["pregnant"], before["breastfeeding"], before["home_bp_monitor"]) == (
        False,
        False,
        True,
    )
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    page = client.get(url)
    html = page.content.decode()
    shown = {
        name: re.search(
            rf'<select name="{name}"[^>]*>.*?<option value="([^"]*)" selected', html, re.S
        )
        for name in ("pregnant", "breastfeeding", "home_bp_monitor")
    }
    assert client.post(url, _as_submitted(page, action="save")).status_code == 302
    after = _answers(submitted)
    assert {k: v for k, v in after.items() if before[k] != v} == {}
    assert "needs re-review" not in _chart(client, patient)
    assert {name: m and m.group(1) for name, m in shown.items()} == {
        "pregnant": "false",
        "breastfeeding": "false",
        "home_bp_monitor": "true",
    }


def test_the_patient_link_shows_the_saved_yes_no_answers(client, patient, submitted, nurse):
    intake_services.intake_save(
        actor=nurse, intake=submitted, data={"pregnant": False, "home_bp_monitor": True}
    )
    _, token = intake_services.intake_link_create(actor=nurse, intake=submitted)
    client.get(reverse("intake:public_start", args=[token]))
    page = client.get(reverse("intake:public_fill"))
    before = _answers(submitted)
    assert client.post(reverse("intake:public_fill"), _as_submitted(page)).status_code == 302
    after = _answers(submitted)
    assert (after["pregnant"], after["home_bp_monitor"]) == (False, True)
    assert after == before


# --------------------------------------------------------------------------- REMS


def test_rems_enrolment_is_recorded_and_shown_on_the_review(client, patient, submitted, prescriber):
    client.force_login(prescriber)
    review = _review(client, patient).content.decode()
    assert "Not enrolled." in review and "Record REMS enrolment" in review
    url = reverse("intake:rems_create", args=[patient.uuid])
    assert client.get(url).status_code == 200
    today = timezone.localdate()

    unsigned = client.post(url, {"enrolled_on": today.isoformat()})
    assert unsigned.status_code == 200
    assert 'id="id_signed_by_patient_error"' in unsigned.content.decode()
    future = client.post(
        url,
        {
            "enrolled_on": (today + datetime.timedelta(days=1)).isoformat(),
            "signed_by_patient": "on",
        },
    )
    assert future.status_code == 200
    assert 'id="id_enrolled_on_error"' in future.content.decode()
    assert not RemsEnrollment.objects.exists()

    done = client.post(
        url, {"enrolled_on": today.isoformat(), "signed_by_patient": "on"}, follow=True
    )
    assert done.redirect_chain[-1][0] == reverse("intake:eligibility_review", args=[patient.uuid])
    enrolment = RemsEnrollment.objects.get()
    assert (enrolment.enrolled_on, enrolment.signed_by_prescriber, enrolment.recorded_by) == (
        today,
        prescriber,
        prescriber,
    )
    html = done.content.decode()
    assert "REMS enrolment recorded." in html
    assert (
        f"Enrolled {today:%m/%d/%Y}, signed by the patient and {prescriber.display_name}." in html
    )
    assert "Not enrolled." not in html and "Record REMS enrolment" not in html


# --------------------------------------------------------------------------- the patient link


def _link_url(response) -> str:
    match = re.search(r'value="(http://testserver/intake/[^"]+/)"', response.content.decode())
    assert match, "the page shows no intake link"
    return _path(match.group(1))


def test_the_patient_fills_in_the_intake_through_a_link_then_the_questionnaires(
    client, patient, nurse
):
    client.force_login(nurse)
    created = client.post(reverse("intake:intake_link_create", args=[patient.uuid]))
    assert created.status_code == 200
    link_path = _link_url(created)
    assert link_path.startswith("/intake/")
    link = IntakeLink.objects.get()
    assert link.created_by == nurse and link.used_at is None
    assert link_path.split("/")[2] not in link.token_digest  # only a digest is stored

    anonymous = Client()
    start = anonymous.get(link_path)
    assert start.status_code == 302 and start.headers["Location"] == "/intake/"
    form = anonymous.get("/intake/")
    assert form.status_code == 200
    html = form.content.decode()
    assert "Your health history" in html and "Send my answers" in html
    for staff_field in ("indication", "systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm"):
        assert f'name="{staff_field}"' not in html, staff_field
    assert patient.mrn not in html

    answers = _patient_form(
        patient,
        meds=[{"name": "Lorazepam", "medication_class": "benzodiazepine", "dose": "1 mg"}],
        trials=TRIALS[:1],
        allergies="Penicillin",
        home_bp_monitor="true",
        # Not the patient's to answer: ignored.
        indication="ptsd",
        systolic_mmhg="400",
        diastolic_mmhg="82",
    )
    sent = anonymous.post("/intake/", answers)
    assert sent.status_code == 302
    assert re.fullmatch(r"/q/[^/]+/", sent.headers["Location"])
    questionnaire = anonymous.get(sent.headers["Location"], follow=True)
    assert questionnaire.redirect_chain[-1][0] == reverse("assessments:questionnaire_fill")
    html = questionnaire.content.decode()
    assert "Questionnaire 1 of 3" in html and 'name="instrument" value="phq9"' in html
    baseline = QuestionnaireLink.objects.get()
    assert (baseline.patient, baseline.timepoint, baseline.instrument_codes) == (
        patient,
        "baseline",
        ["phq9", "gad7", "cssrs-screen"],
    )

    intake = Intake.objects.get()
    assert (intake.status, intake.source, intake.submitted_by) == (
        "submitted",
        "patient_link",
        None,
    )
    assert intake.allergies == "Penicillin" and intake.home_bp_monitor is True
    assert intake.conditions == ["psychosis_history"]
    assert intake.indication == "" and intake.systolic_mmhg is None
    assert intake.diastolic_mmhg is None
    assert [(m.name, m.medication_class) for m in intake.medications.all()] == [
        ("Lorazepam", "benzodiazepine")
    ]
    assert [t.drug for t in intake.trials.all()] == ["sertraline"]
    event = AuditEvent.objects.filter(object_type="intake", action="update").latest("id")
    assert event.actor is None and event.patient == patient
    assert "through a link" in event.summary
    link.refresh_from_db()
    assert link.used_at is not None

    # The link works once.
    again = Client().get(link_path)
    assert again.status_code == 404 and b"no longer available" in again.content
    reuse = anonymous.get(link_path)
    assert reuse.status_code == 404 and b"no longer available" in reuse.content
    assert anonymous.get("/intake/").status_code == 404
    before = _state()
    assert anonymous.post("/intake/", answers).status_code == 404
    assert _state() == before

    # The care team sees what the patient sent.
    html = _review(client, patient).content.decode()
    assert "<strong>Submitted</strong>" in html and "Penicillin" in html and "Lorazepam" in html


def test_a_ptsd_intake_adds_the_pcl5_to_the_baseline(client, patient, nurse):
    intake = intake_services.intake_start(actor=nurse, patient=patient)
    intake_services.intake_save(actor=nurse, intake=intake, data={"indication": "ptsd"})
    _, token = intake_services.intake_link_create(actor=nurse, intake=intake)
    client.get(reverse("intake:public_start", args=[token]))
    sent = client.post("/intake/", _patient_form(patient))
    assert sent.status_code == 302
    assert QuestionnaireLink.objects.get().instrument_codes == [
        "phq9",
        "gad7",
        "cssrs-screen",
        "pcl5",
    ]
    assert Intake.objects.get().indication == "ptsd"


def test_a_bad_answer_on_the_link_is_shown_and_the_link_stays_usable(client, patient, nurse):
    intake = intake_services.intake_start(actor=nurse, patient=patient)
    _, token = intake_services.intake_link_create(actor=nurse, intake=intake)
    client.get(reverse("intake:public_start", args=[token]))
    before = _state()
    got = client.post("/intake/", _patient_form(patient, weight_kg="24"))
    assert got.status_code == 200
    html = got.content.decode()
    assert 'id="id_weight_kg_error"' in html and "between 25 and 350" in html
    assert _state() == before
    assert not QuestionnaireLink.objects.exists()
    # Corrected, it goes through.
    assert client.post("/intake/", _patient_form(patient, weight_kg="64")).status_code == 302
    assert Intake.objects.get().status == "submitted"


def test_the_patient_link_changes_a_submitted_intake_as_a_new_revision(
    client, patient, submitted, nurse, prescriber
):
    eligibility.decision_sign(actor=prescriber, intake=submitted, outcome="ineligible")
    _, token = intake_services.intake_link_create(actor=nurse, intake=submitted)
    client.get(reverse("intake:public_start", args=[token]))
    sent = client.post(
        "/intake/",
        _patient_form(patient, meds=MEDS, trials=TRIALS, allergies="Latex"),
    )
    assert sent.status_code == 302
    submitted.refresh_from_db()
    assert submitted.revision == 2 and submitted.allergies == "Latex"
    # Staff-only answers survive the patient's save.
    assert submitted.indication == "treatment_resistant_depression"
    assert submitted.systolic_mmhg == 128
    assert submitted.source == "staff"  # submitted by staff first
    staff = Client()
    staff.force_login(prescriber)
    assert "must be re-signed" in _review(staff, patient).content.decode()


# --------------------------------------------------------------------------- rule set page


def test_the_rules_page_lists_the_rules_with_label_rules_marked(client, clinic_admin, therapist):
    for actor in (clinic_admin, therapist):
        client.force_login(actor)
        got = client.get(reverse("intake:rule_set"))
        assert got.status_code == 200
        html = got.content.decode()
        assert 'Screening rule set <span class="muted">version 1</span>' in html
        assert "<code>psychosis_history</code>" in html
        assert "<code>esketamine_off_label</code>" in html
        assert '<span class="badge">label</span>' in html
        assert '<span class="badge">clinic policy</span>' in html


# --------------------------------------------------------------------------- query counts


def _patient_with(front_desk, prescriber, nurse, n: int, name: str):
    patient = register(front_desk, legal_family_name=name)
    patient_services.care_team_set(
        actor=front_desk, patient=patient, primary_prescriber=prescriber, nurses=[nurse]
    )
    intake = intake_services.intake_start(actor=nurse, patient=patient)
    intake = intake_services.intake_save(
        actor=nurse,
        intake=intake,
        submit=True,
        data=TRD_HISTORY["data"],
        medications=[
            {"name": f"Drug {i}", "medication_class": "other", "dose": "1 mg"} for i in range(n)
        ],
        trials=[
            {
                "drug": f"antidepressant {i}",
                "adequate": True,
                "outcome": "no_response",
                "current_episode": True,
            }
            for i in range(n)
        ],
    )
    for _ in range(n):
        eligibility.decision_sign(actor=prescriber, intake=intake, outcome="ineligible")
    eligibility.rems_record(
        actor=prescriber,
        patient=patient,
        enrolled_on=timezone.localdate(),
        signed_by_patient=True,
        prescriber=prescriber,
    )
    return patient


def test_the_review_page_query_count_stays_flat(client, front_desk, prescriber, nurse):
    small = _patient_with(front_desk, prescriber, nurse, 3, "Small")
    large = _patient_with(front_desk, prescriber, nurse, 12, "Large")
    client.force_login(prescriber)
    assert _review(client, small).status_code == 200  # warm up the session and caches
    counts = {}
    for label, patient in (("small", small), ("large", large)):
        with CaptureQueriesContext(connection) as queries:
            got = _review(client, patient)
        assert got.status_code == 200
        counts[label] = len(queries)
    assert "antidepressant 11" in got.content.decode()
    assert counts["small"] == counts["large"], counts
