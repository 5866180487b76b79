"""What the intake, review and REMS page tests share: the forms as a browser posts them, a
reader for the forms a page renders, the answers a nurse or a patient gives, and readers for the
review's route cards."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from django.urls import reverse

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

JUSTIFICATION = "One brief episode in 2009; stable since; psychiatrist agrees."


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
