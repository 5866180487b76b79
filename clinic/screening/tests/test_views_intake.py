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
from clinic.screening import selectors, services
from clinic.screening.choices import Condition
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
from clinic.screening.tests.test_eligibility import TRD_HISTORY, history
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
    intake = services.intake_start(actor=nurse, patient=patient)
    return services.intake_save(actor=nurse, intake=intake, submit=True, **TRD_HISTORY)


# --------------------------------------------------------------------------- helpers


def _formset(prefix: str, rows: list[dict], initial: int = 0) -> dict[str, str]:
    """A formset's POST data as the browser sends it: the page renders the saved rows as initial
    forms plus one blank one (more after "Add a row"); a yes/no is "true" or "false", and an
    unanswered one is left out."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(max(initial + 1, len(rows))),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            if isinstance(value, bool):
                data[f"{prefix}-{index}-{key}"] = "true" if value else "false"
            elif value is not None:
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


def _history(*yes: str) -> dict[str, str]:
    """Every condition's yes/no as the page posts it: these yes, the others no."""
    return {f"condition_{code}": "true" if code in yes else "false" for code in Condition.values}


PATIENT_ANSWERS = {
    **_history("psychosis_history"),
    "history_detail": "",
    "allergies": "",
    "psychiatric_history": "",
    "substance_use": "",
    "pregnant": "false",
    "breastfeeding": "false",
    "weight_kg": "80",
    "height_cm": "170",
    "home_treatment_monitor_name": "",
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
        "takes_medications": "true" if meds else "false",
        "tried_antidepressants": "true" if trials else "false",
        **_formset("med", meds, saved_meds),
        **_formset("trial", trials, saved_trials),
        "action": action,
        **overrides,
    }


def _patient_form(patient, meds=(), trials=(), **overrides) -> dict:
    saved_meds, saved_trials = _saved_rows(patient)
    return {
        **PATIENT_ANSWERS,
        "takes_medications": "true" if meds else "false",
        "tried_antidepressants": "true" if trials else "false",
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


def _findings(card: str) -> list[tuple[str, str]]:
    """(title, level) of each finding in a route card, in the card's order."""
    return re.findall(
        r'<li class="finding-(?:\w+)"><strong>([^<]*)</strong> <span class="badge level-(\w+)">',
        card,
    )


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


def _cell_error(html: str, widget_id: str) -> str | None:
    """The message shown right under a field (or a table cell), by the field's id."""
    found = re.search(rf'<p class="field-error" id="{widget_id}_error"[^>]*>([^<]*)</p>', html)
    return found and found.group(1)


def _summary(html: str) -> list[str]:
    """The error list above the form, one item per problem."""
    block = re.search(r'<div class="form-error error-summary".*?</div>', html, re.S)
    return [re.sub(r"<[^>]+>", "", item) for item in re.findall(r"<li>(.*?)</li>", block.group(0))]


def test_a_trial_outcome_without_a_drug_is_shown_at_its_cell(client, patient, nurse):
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    client.post(url, _staff_form(patient, action="save"))
    before = _state()
    rows = [
        *TRIALS,
        {"drug": "", "outcome": "no_response", "adequate": True, "current_episode": True},
    ]
    got = client.post(url, _staff_form(patient, action="save", trials=rows))
    assert got.status_code == 200
    html = got.content.decode()
    assert _cell_error(html, "id_trial-2-drug") == (
        "Enter the antidepressant&#x27;s name: a trial is of a named drug."
    )
    assert _summary(html) == [
        "Antidepressant 3: Antidepressant: Enter the antidepressant&#x27;s name: a trial is of "
        "a named drug."
    ]
    assert _state() == before


def test_a_medication_without_a_class_is_shown_at_its_cell(client, patient, nurse):
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    client.get(url)
    before = _state()
    got = client.post(url, _staff_form(patient, meds=[{"name": "Lorazepam", "dose": "1 mg"}]))
    assert got.status_code == 200
    html = got.content.decode()
    assert (
        _cell_error(html, "id_med-0-medication_class") == "Choose its class (Other when none fits)."
    )
    assert 'value="Lorazepam"' in html and 'value="1 mg"' in html  # kept for correction
    assert _state() == before


def test_a_trial_row_the_form_refuses_says_why(client, patient, nurse):
    """A row the formset itself refuses (600 weeks: more than the form's maximum of 520) must
    say so next to that cell; the user cannot otherwise tell why nothing happened."""
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    client.get(url)
    before = _state()
    rows = [{**TRIALS[0], "duration_weeks": 600}]
    got = client.post(url, _staff_form(patient, action="submit", trials=rows))
    assert got.status_code == 200
    assert _state() == before
    html = got.content.decode()
    assert "less than or equal to 520" in _cell_error(html, "id_trial-0-duration_weeks")


def test_a_row_error_names_the_row_the_user_sees(client, patient, nurse):
    """A new intake: the first trial row is left blank and the second has an outcome but no
    drug. The message must point at the second row, where the mistake is."""
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    client.get(url)
    rows = [{}, {"drug": "", "outcome": "no_response", "adequate": True, "current_episode": False}]
    got = client.post(url, _staff_form(patient, trials=rows))
    assert got.status_code == 200
    html = got.content.decode()
    assert _cell_error(html, "id_trial-0-drug") is None
    assert "a trial is of a named drug" in _cell_error(html, "id_trial-1-drug")
    assert any(item.startswith("Antidepressant 2: ") for item in _summary(html))


def test_every_error_is_shown_at_once_next_to_its_field(client, patient, nurse):
    """The form's own checks (a number that is not a number, weeks beyond the maximum) and the
    services' (a range, a contradiction, the tables against their yes/no) in one round."""
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    client.get(url)
    before = _state()
    got = client.post(
        url,
        _staff_form(
            patient,
            action="submit",
            meds=[{"name": "Lorazepam", "dose": "1 mg"}],
            trials=[{**TRIALS[0], "duration_weeks": 600}],
            heart_rate_bpm="fast",
            systolic_mmhg="120",
            diastolic_mmhg="130",
            weight_kg="900",
            takes_medications="false",
            allergies="Penicillin",
        ),
    )
    assert got.status_code == 200
    html = got.content.decode()
    expected = {
        "id_heart_rate_bpm": "Enter a number.",
        "id_diastolic_mmhg": "The diastolic pressure must be below the systolic.",
        # policy-defaults.md "Vital signs": weight 25–350 kg.
        "id_weight_kg": "Weight must be between 25 and 350 kg.",
        "id_takes_medications": "You answered no, but medicines are listed below: answer yes, "
        "or clear those rows.",
        "id_med-0-medication_class": "Choose its class (Other when none fits).",
    }
    for widget_id, message in expected.items():
        shown = _cell_error(html, widget_id)
        assert shown is not None, widget_id
        assert shown == message, (widget_id, shown)
    assert "less than or equal to 520" in _cell_error(html, "id_trial-0-duration_weeks")
    assert len(_summary(html)) == 6
    # Nothing typed is lost.
    assert 'value="fast"' in html and 'value="900"' in html and "Penicillin" in html
    assert _state() == before


def test_a_yes_without_rows_is_an_error_at_the_question(client, patient, nurse):
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    client.get(url)
    got = client.post(url, _staff_form(patient, meds=[], trials=[], takes_medications="true"))
    assert got.status_code == 200
    assert _cell_error(got.content.decode(), "id_takes_medications") == (
        "You answered yes: list at least one medicine below."
    )


def test_a_row_can_be_added_without_javascript_keeping_everything_typed(client, patient, nurse):
    """ "Add a medicine row" posts the whole form: the page comes back with one more row and
    everything typed in place, nothing saved and nothing judged yet."""
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    first = client.get(url).content.decode()
    assert (
        first.count('name="med-') - first.count('name="med-TOTAL')
        == (
            3 + 4  # one blank row of three cells, plus the formset's four management fields
        )
        - 1
    )
    before = _state()
    typed = _staff_form(
        patient,
        meds=[{"name": "Lorazepam", "medication_class": "benzodiazepine", "dose": "1 mg"}],
        weight_kg="not a number",
        add_row="med",
    )
    got = client.post(url, typed)
    assert got.status_code == 200
    html = got.content.decode()
    assert _state() == before
    assert 'name="med-TOTAL_FORMS" value="2"' in html
    assert 'id="id_med-1-name"' in html and "autofocus" in html
    assert 'value="Lorazepam"' in html and 'value="not a number"' in html
    assert "Nothing was saved" not in html and 'class="field-error"' not in html
    # Then saved with the new row filled in: both medicines, in order.
    typed.pop("add_row")
    typed.update(
        {
            "med-TOTAL_FORMS": "2",
            "med-1-name": "Tramadol",
            "med-1-medication_class": "opioid",
            "weight_kg": "80",
        }
    )
    assert client.post(url, typed).status_code == 302
    intake = Intake.objects.get()
    assert [(m.name, m.medication_class) for m in intake.medications.all()] == [
        ("Lorazepam", "benzodiazepine"),
        ("Tramadol", "opioid"),
    ]


def test_blank_rows_are_ignored(client, patient, nurse):
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    client.get(url)
    rows = [{}, MEDS[0], {}, {}]
    assert client.post(url, _staff_form(patient, meds=rows)).status_code == 302
    assert [m.name for m in Intake.objects.get().medications.all()] == ["Sertraline"]


def test_every_input_on_the_intake_form_has_a_label(client, patient, nurse):
    """The issue counted 38 unlabelled inputs and 10 unnamed selects on this page."""
    client.force_login(nurse)
    html = client.get(reverse("intake:intake_edit", args=[patient.uuid])).content.decode()
    ids = re.findall(
        r'<(?:input|select|textarea)\b(?![^>]*type="(?:hidden|submit)")[^>]*\bid="([^"]+)"', html
    )
    labelled = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', html))
    assert ids and set(ids) <= labelled, set(ids) - labelled
    unnamed = re.findall(
        r'<(?:input|select|textarea)\b(?![^>]*type="(?:hidden|submit)")(?![^>]*\bid=)[^>]*>', html
    )
    assert unnamed == []


def test_a_male_patient_is_not_asked_about_pregnancy(client, front_desk, prescriber, nurse):
    patient = register(front_desk, sex="male", legal_family_name="Okoro")
    patient_services.care_team_set(
        actor=front_desk, patient=patient, primary_prescriber=prescriber, nurses=[nurse]
    )
    client.force_login(nurse)
    url = reverse("intake:intake_edit", args=[patient.uuid])
    html = client.get(url).content.decode()
    assert 'name="pregnant"' not in html and 'name="breastfeeding"' not in html
    assert "Pregnancy and breastfeeding are not asked: the recorded sex is male." in html
    form = _staff_form(patient, action="submit")
    del form["pregnant"], form["breastfeeding"]
    assert client.post(url, form).status_code == 302
    evaluation, _ = selectors.intake_evaluate(Intake.objects.get(patient=patient))
    assert evaluation.missing == ()


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
    # Findings in words (the rules' titles, rules.py), never as rule codes.
    for route in ("iv", "im", "esketamine"):
        assert _findings(cards[route]) == [("Past psychosis", "relative")]
    assert set(_findings(cards["sublingual"])) == {
        ("Past psychosis: no unmonitored home sessions", "absolute"),
        ("No treatment monitor at home", "absolute"),
        ("No blood-pressure monitor at home", "absolute"),
    }
    for code in ("psychosis_history", "no_treatment_monitor", "no_home_bp_monitor"):
        assert code not in html.replace(f"justification_{code}", "")
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
    intake = services.intake_start(actor=nurse, patient=patient)
    data = {
        **TRD_HISTORY["data"],
        "condition_answers": history("psychosis_history", "hypersensitivity"),
    }
    services.intake_save(actor=nurse, intake=intake, submit=True, **{**TRD_HISTORY, "data": data})
    client.force_login(prescriber)
    cards = _route_cards(_review(client, patient).content.decode())
    levels = [level for _title, level in _findings(cards["iv"])]
    assert levels == sorted(levels, key=["absolute", "relative", "caution"].index)
    assert levels[0] == "absolute" and "relative" in levels
    assert _verdict(cards["iv"]) == "Not eligible"


def test_a_treatment_without_failed_trials_is_not_treatment_resistant(
    client, patient, nurse, prescriber
):
    intake = services.intake_start(actor=nurse, patient=patient)
    services.intake_save(
        actor=nurse,
        intake=intake,
        submit=True,
        data={
            **TRD_HISTORY["data"],
            "indication": "major_depression",
            "takes_medications": False,
            "tried_antidepressants": False,
        },
        medications=[],
        trials=[],
    )
    client.force_login(prescriber)
    html = _review(client, patient).content.decode()
    assert "<strong>Not treatment-resistant</strong>: 0 adequate trials" in html
    assert "Tried antidepressants: <strong>No</strong>." in html
    assert "Takes medicines now: <strong>No</strong>." in html
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
    assert "Proceeding despite “Past psychosis” needs a written justification" in html
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
    services.decision_sign(
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
    assert not selectors.planning_clearance(patient=patient, route="iv").allowed
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
    services.decision_sign(actor=prescriber, intake=intake, outcome="ineligible")
    client.post(url, _staff_form(patient, action="save"))
    intake.refresh_from_db()
    assert intake.revision == 1
    assert "needs re-review" not in _chart(client, patient)


def _answers(intake: Intake) -> dict:
    intake.refresh_from_db()
    return {
        **{name: getattr(intake, name) for name in services.INTAKE_FIELDS},
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
    services.intake_save(
        actor=nurse,
        intake=submitted,
        data={"pregnant": False, "breastfeeding": False, "home_bp_monitor": True},
    )
    services.decision_sign(actor=prescriber, intake=submitted, outcome="ineligible")
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
        name: re.search(rf'<input type="radio" name="{name}" value="([^"]*)"[^>]* checked', html)
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
    services.intake_save(
        actor=nurse, intake=submitted, data={"pregnant": False, "home_bp_monitor": True}
    )
    _, token = services.intake_link_create(actor=nurse, intake=submitted)
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
    intake = services.intake_start(actor=nurse, patient=patient)
    services.intake_save(actor=nurse, intake=intake, data={"indication": "ptsd"})
    _, token = services.intake_link_create(actor=nurse, intake=intake)
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
    intake = services.intake_start(actor=nurse, patient=patient)
    _, token = services.intake_link_create(actor=nurse, intake=intake)
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
    services.decision_sign(actor=prescriber, intake=submitted, outcome="ineligible")
    _, token = services.intake_link_create(actor=nurse, intake=submitted)
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
    intake = services.intake_start(actor=nurse, patient=patient)
    intake = services.intake_save(
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
        services.decision_sign(actor=prescriber, intake=intake, outcome="ineligible")
    services.rems_record(
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


# --------------------------------------------------------------------------- incomplete intakes


@pytest.fixture
def empty_submitted(patient, nurse):
    """The issue's first finding: a fresh patient's intake submitted with nothing filled in."""
    intake = services.intake_start(actor=nurse, patient=patient)
    return services.intake_save(actor=nurse, intake=intake, data={}, submit=True)


# api-calculators.md §3's missing inputs in the review's words (rules.MISSING_INPUT_TITLES), for
# the empty intake: everything but the age, which comes from the date of birth on record.
EMPTY_MISSING_WORDS = (
    "weight, screening blood pressure (systolic and diastolic), heart rate, indication, "
    "medical history (a yes or no for every condition), current medicines (yes or no, and "
    "each medicine&#x27;s class), pregnancy, breastfeeding"
)


def test_an_empty_intake_is_reviewed_as_incomplete_with_what_is_missing(
    client, patient, empty_submitted, prescriber
):
    client.force_login(prescriber)
    html = _review(client, patient).content.decode()
    cards = _route_cards(html)
    incomplete = f"Incomplete — cannot be signed eligible until: {EMPTY_MISSING_WORDS}"
    assert {route: _verdict(card) for route, card in cards.items()} == {
        "iv": incomplete,
        "im": incomplete,
        "esketamine": "Not eligible",
        "sublingual": "Not eligible",
    }
    intake_url = reverse("intake:intake_edit", args=[patient.uuid])
    assert f'href="{intake_url}"' in cards["iv"]
    assert "The intake is incomplete" in html
    # The page does not offer "eligible", nor any route to open.
    assert 'value="eligible"' not in html and 'name="approved_routes"' not in html
    assert "“Eligible” is not offered: no route is open while the intake is incomplete." in html
    # Not-answered questions are said as such.
    assert "Not answered: 16 of 16" in html
    assert "Takes medicines now: <strong>Not answered</strong>." in html
    assert "Tried antidepressants: <strong>Not answered</strong>." in html


def test_eligible_is_refused_on_the_server_for_an_incomplete_route(
    client, patient, empty_submitted, prescriber
):
    client.force_login(prescriber)
    before = _state()
    got = client.post(
        reverse("intake:eligibility_review", args=[patient.uuid]),
        _sign_form(empty_submitted, "eligible", approved_routes=["iv", "im"]),
    )
    assert got.status_code == 200
    errors = re.findall(r'<p class="field-error" role="alert">(.*?)</p>', got.content.decode())
    assert errors == [
        f"{label} cannot be signed eligible: the intake is incomplete. Not answered yet: "
        f"{EMPTY_MISSING_WORDS}."
        for label in ("IV infusion", "IM injection")
    ]
    assert _state() == before


@pytest.mark.parametrize(
    ("outcome", "extra"), [("ineligible", {}), ("deferred", {"awaiting": "Vitals at the visit"})]
)
def test_not_eligible_and_deferred_can_be_signed_on_an_incomplete_intake(
    client, patient, empty_submitted, prescriber, outcome, extra
):
    client.force_login(prescriber)
    got = client.post(
        reverse("intake:eligibility_review", args=[patient.uuid]),
        _sign_form(empty_submitted, outcome, **extra),
    )
    assert got.status_code == 302
    assert EligibilityDecision.objects.get().outcome == outcome


def test_a_patient_submitted_intake_says_staff_must_add_their_answers(client, patient, nurse):
    intake = services.intake_start(actor=nurse, patient=patient)
    _, token = services.intake_link_create(actor=nurse, intake=intake)
    client.get(reverse("intake:public_start", args=[token]))
    # Everything the patient is asked, answered.
    assert client.post(
        "/intake/", _patient_form(patient, meds=MEDS, trials=TRIALS)
    ).status_code == (302)
    staff = Client()
    staff.force_login(nurse)
    html = _review(staff, patient).content.decode()
    assert (
        "No route can be signed eligible until these are answered: <strong>screening blood "
        "pressure (systolic and diastolic), heart rate, indication</strong>" in html
    )
    assert "does not ask the indication, the screening blood pressure or the heart rate" in html
    assert "<strong>staff add them</strong> on the intake" in html


@pytest.mark.parametrize("who", ["prescriber", "nurse", "therapist", "clinic_admin"])
def test_who_is_offered_the_link_to_complete_the_intake(
    client, patient, empty_submitted, actors, who
):
    """The review is readable by every clinical viewer; only those who may edit the intake
    (intake.edit: the care team's prescribers and nurses) get the link, so none ends in 403."""
    client.force_login(actors[who])
    html = _review(client, patient).content.decode()
    may_edit = who in ("prescriber", "nurse")
    assert ("Complete the intake" in html) is may_edit
    assert ("A prescriber or nurse on the care team completes the intake." in html) is (
        not may_edit
    )
    assert "The intake is incomplete" in html


def test_an_older_eligible_decision_on_an_intake_with_gaps_is_flagged_not_changed(
    client, patient, submitted, prescriber
):
    decision = services.decision_sign(
        actor=prescriber,
        intake=submitted,
        outcome="eligible",
        approved_routes=["iv"],
        justifications={"psychosis_history": JUSTIFICATION},
    )
    # As issue 11's data migration leaves it: signed before "missing" existed, on an intake
    # whose unticked history boxes are now unanswered.
    evaluation = {k: v for k, v in decision.evaluation.items() if k != "missing"}
    EligibilityDecision.objects.filter(pk=decision.pk).update(evaluation=evaluation)
    Intake.objects.filter(pk=submitted.pk).update(condition_answers={"psychosis_history": True})
    stored = EligibilityDecision.objects.values().get()
    client.force_login(prescriber)
    html = _review(client, patient).content.decode()
    assert (
        "The intake behind this decision had unanswered questions</strong> when it was signed"
        in (html)
    )
    assert "checked again on the same intake revision" in html
    assert "medical history (a yes or no for every condition)" in html
    assert "had gaps: medical history (a yes or no for every condition)" in html  # history
    assert "<strong>Past psychosis</strong>: " + JUSTIFICATION.replace("'", "&#x27;") in html
    assert EligibilityDecision.objects.values().get() == stored  # not changed


def test_the_plan_page_says_when_the_decision_rests_on_an_intake_with_gaps(
    client, patient, submitted, prescriber
):
    """Existing decisions are not revoked (issue 11); where the plan is made, the prescriber is
    told the intake behind an older decision had unanswered questions."""
    from clinic.protocols import services as protocol_services

    protocol_services.builtin_templates_ensure()
    decision = services.decision_sign(
        actor=prescriber,
        intake=submitted,
        outcome="eligible",
        approved_routes=["iv"],
        justifications={"psychosis_history": JUSTIFICATION},
    )
    client.force_login(prescriber)
    page = f"/patients/{patient.uuid}/plans/new/"
    data = {"template": "iv-induction-2x-weekly", "action": "preview"}
    assert "unanswered questions" not in client.post(page, data).content.decode()
    evaluation = {k: v for k, v in decision.evaluation.items() if k != "missing"}
    EligibilityDecision.objects.filter(pk=decision.pk).update(evaluation=evaluation)
    Intake.objects.filter(pk=submitted.pk).update(condition_answers={"psychosis_history": True})
    html = client.post(page, data).content.decode()
    assert (
        "The eligibility decision was signed on an intake with unanswered questions (medical "
        "history (a yes or no for every condition)): complete the intake and have the decision "
        "re-signed."
    ) in html
