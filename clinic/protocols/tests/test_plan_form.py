"""The plan pages as a prescriber meets them (issue 11): each route's form shows only what
applies to it, and every message names the field in words (start dates out of the clinic's
bounds: test_plan_dates.py).

Expected values come from the sources: IV 0.5 mg/kg over 40 min, allowed 0.1–1.0 mg/kg; IM
0.5 mg/kg, allowed 0.25–1.0 mg/kg; esketamine 28, 56 or 84 mg, TRD from session 2 56 or
84 mg, day 1 56 mg (policy-defaults.md "Dosing"; label [C2]); infusion lengths 2–100 min
([A1], DosingPolicy); maintenance every 2–8 weeks (founding documents).
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from html import unescape

import pytest
from django.utils import timezone

from clinic.core.exceptions import InvalidInput
from clinic.protocols import services
from clinic.protocols.models import ProtocolTemplate, TreatmentPlan

pytestmark = pytest.mark.django_db

# An internal name: a lower-case word joined to another by an underscore (dose_mg_per_kg).
INTERNAL_NAME = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def template(code):
    return ProtocolTemplate.objects.get(code=code, version=1)


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


def new_url(patient, code: str) -> str:
    return f"/patients/{patient.uuid}/plans/new/?template={code}"


def messages_of(html: str) -> list[str]:
    """Every error a person reads on the page: next to a field, or above a form."""
    found = re.findall(r'<p class="field-error"[^>]*>(.*?)</p>', html, re.S)
    for block in re.findall(r'<div class="form-error"[^>]*>(.*?)</div>', html, re.S):
        found += re.findall(r"<p>(.*?)</p>", block, re.S)
    return [unescape(re.sub(r"\s+", " ", text).strip()) for text in found]


def field_error(html: str, name: str) -> list[str]:
    return [
        unescape(re.sub(r"\s+", " ", text).strip())
        for text in re.findall(rf'<p class="field-error" id="id_{name}_error"[^>]*>(.*?)</p>', html)
    ]


def inputs(html: str) -> set[str]:
    names = re.findall(r'<(?:input|select|textarea)\b[^>]*\bname="([a-z_]+)"', html)
    return set(names) - {"csrfmiddlewaretoken", "action"}


# --------------------------------------------------------------------------- one form per route


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            "iv-induction-2x-weekly",
            {"template", "start_date", "dose_mg_per_kg", "infusion_minutes", "weight_basis"},
        ),
        (
            "im-induction",
            {
                "template",
                "start_date",
                "dose_mg_per_kg",
                "weight_basis",
                "option_sessions",
                "option_sessions_per_week",
            },
        ),
        (
            "esketamine-trd",
            {
                "template",
                "start_date",
                "esketamine_dose_mg",
                "option_maintenance_interval_weeks",
                "option_maintenance_sessions",
            },
        ),
        ("esketamine-mdsi", {"template", "start_date", "esketamine_dose_mg"}),
        (
            "sublingual-home",
            {
                "template",
                "start_date",
                "option_dose_mg",
                "option_sessions",
                "option_interval_days",
                "option_phase",
            },
        ),
    ],
)
def test_each_route_shows_only_the_choices_that_apply_to_it(
    client, cleared, prescriber, code, expected
):
    client.force_login(prescriber)

    html = client.get(new_url(cleared, code)).content.decode()

    assert inputs(html) == expected | {"notes"}


def test_the_iv_form_offers_no_esketamine_doses_and_says_its_ranges(client, cleared, prescriber):
    client.force_login(prescriber)

    html = client.get(new_url(cleared, "iv-induction-2x-weekly")).content.decode()

    assert "28 mg" not in html and "84 mg" not in html
    assert "Leave blank for the protocol&#x27;s dose (0.5 mg/kg by default); clinic range " in html
    assert "0.1–1.0 mg/kg." in html
    assert "Leave blank for the protocol&#x27;s time (40 minutes by default); clinic range" in html


def _options(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option value="([^"]*)"', select)


def test_esketamine_offers_the_label_doses_the_protocol_allows(client, cleared, prescriber):
    client.force_login(prescriber)

    trd = client.get(new_url(cleared, "esketamine-trd")).content.decode()
    mdsi = client.get(new_url(cleared, "esketamine-mdsi")).content.decode()

    # TRD: 56 or 84 mg from session 2 [C2]; otherwise the clinic's 28, 56 or 84 mg.
    assert _options(trd, "esketamine_dose_mg") == ["", "56", "84"]
    assert _options(mdsi, "esketamine_dose_mg") == ["", "28", "56", "84"]
    assert "56 mg (2 devices)" in trd and "dose_mg_per_kg" not in trd


def test_an_im_plan_takes_its_dose_from_the_one_mg_per_kg_field(client, cleared, prescriber):
    client.force_login(prescriber)
    data = {
        "template": "im-induction",
        "start_date": in_days(3).isoformat(),
        "dose_mg_per_kg": "0.75",
        "option_sessions": "4",
        "option_sessions_per_week": "2",
        "action": "create",
    }

    client.post(new_url(cleared, "im-induction"), data)

    plan = TreatmentPlan.objects.get()
    # 0.75 mg/kg × 80 kg = 60.0 mg each, 4 sessions.
    assert [s.dose_mg for s in plan.sessions.order_by("number")] == [Decimal("60.0")] * 4


def test_a_sublingual_plan_takes_a_decimal_dose_and_a_named_phase(client, cleared, prescriber):
    client.force_login(prescriber)
    data = {
        "template": "sublingual-home",
        "start_date": in_days(2).isoformat(),
        "option_dose_mg": "12.5",
        "option_sessions": "4",
        "option_interval_days": "7",
        "option_phase": "induction",
        "action": "create",
    }

    response = client.post(new_url(cleared, "sublingual-home"), data)

    assert response.status_code == 302, messages_of(response.content.decode())
    plan = TreatmentPlan.objects.get()
    sessions = list(plan.sessions.order_by("number"))
    assert [(s.dose_mg, s.phase) for s in sessions] == [(Decimal("12.5"), "induction")] * 4


def test_an_iv_plan_keeps_the_prescribers_infusion_time_through_titration_and_maintenance(
    client, cleared, prescriber
):
    client.force_login(prescriber)
    base = new_url(cleared, "iv-induction-2x-weekly")
    data = {
        "template": "iv-induction-2x-weekly",
        "start_date": in_days(1).isoformat(),
        "infusion_minutes": "60",
        "action": "create",
    }
    client.post(base, data)
    plan = TreatmentPlan.objects.get()
    assert plan.infusion_minutes == 60
    assert {s.infusion_minutes for s in plan.sessions.all()} == {60}
    services.plan_activate(actor=prescriber, plan=plan)

    services.plan_titrate(
        actor=prescriber,
        plan=plan,
        from_session=4,
        reason="Tolerating well",
        dose_mg_per_kg=Decimal("0.6"),
    )
    last = plan.sessions.order_by("-planned_date").first().planned_date
    services.plan_set_maintenance(
        actor=prescriber,
        plan=plan,
        interval_weeks=4,
        count=2,
        start_date=last + datetime.timedelta(days=28),
    )

    sessions = list(plan.sessions.order_by("number"))
    assert len(sessions) == 8
    assert {s.infusion_minutes for s in sessions} == {60}
    # 0.6 mg/kg × 80 kg = 48.0 mg from session 4, carried into maintenance.
    assert [s.dose_mg for s in sessions] == [Decimal("40.0")] * 3 + [Decimal("48.0")] * 5


# --------------------------------------------------------------------------- messages in words


@pytest.mark.parametrize(
    ("code", "data", "field", "message"),
    [
        (
            "iv-induction-2x-weekly",
            {"dose_mg_per_kg": "3"},
            "dose_mg_per_kg",
            "Enter a dose from 0.1 to 1.0 mg/kg (clinic policy for IV infusion).",
        ),
        (
            "iv-induction-2x-weekly",
            {"dose_mg_per_kg": "lots"},
            "dose_mg_per_kg",
            "Enter the dose as a number of mg/kg, e.g. 0.5.",
        ),
        (
            "iv-induction-2x-weekly",
            {"infusion_minutes": "500"},
            "infusion_minutes",
            "Enter an infusion time of 2 to 100 minutes (clinic policy).",
        ),
        (
            "im-induction",
            {"dose_mg_per_kg": "0.2", "option_sessions": "4", "option_sessions_per_week": "1"},
            "dose_mg_per_kg",
            "Enter a dose from 0.25 to 1.0 mg/kg (clinic policy for IM injection).",
        ),
        (
            "im-induction",
            {"option_sessions_per_week": "1"},
            "option_sessions",
            "Enter the number of sessions: this protocol needs it.",
        ),
        (
            "im-induction",
            {"option_sessions": "0", "option_sessions_per_week": "1"},
            "option_sessions",
            "Enter at least 1.",
        ),
        (
            "esketamine-trd",
            {"esketamine_dose_mg": "28"},
            "esketamine_dose_mg",
            "Choose one of the doses listed.",
        ),
        (
            "sublingual-home",
            {"option_sessions": "4", "option_interval_days": "7", "option_phase": "induction"},
            "option_dose_mg",
            "Enter the dose (mg): this protocol needs it.",
        ),
        (
            "iv-induction-2x-weekly",
            {"start_date": ""},
            "start_date",
            "Enter the date of the first session.",
        ),
    ],
)
def test_every_refusal_names_the_field_in_words_next_to_it(
    client, cleared, prescriber, code, data, field, message
):
    client.force_login(prescriber)
    post = {"template": code, "start_date": in_days(1).isoformat(), "action": "preview", **data}

    html = client.post(new_url(cleared, code), post).content.decode()

    assert field_error(html, field) == [message]
    assert all(not INTERNAL_NAME.search(text) for text in messages_of(html)), messages_of(html)
    assert not TreatmentPlan.objects.exists()


def test_a_dose_the_calculator_refuses_is_worded_for_people(cleared, prescriber):
    """The service (the plan pages' only writer) words a dosing refusal; the calculator's own
    message names its request field, as the API contract asks."""
    with pytest.raises(InvalidInput) as caught:
        services.plan_preview(
            patient=cleared,
            template=template("iv-induction-2x-weekly"),
            start_date=in_days(1),
            options={},
            dose_mg_per_kg=Decimal("1.5"),
        )

    assert caught.value.errors == {
        "dose_mg_per_kg": [
            "Dose (mg/kg) must be between 0.1 and 1.0 mg/kg for IV infusion (clinic policy)."
        ]
    }


def test_an_option_the_schedule_refuses_is_worded_for_people(cleared, prescriber):
    with pytest.raises(InvalidInput) as caught:
        services.plan_preview(
            patient=cleared,
            template=template("im-induction"),
            start_date=in_days(1),
            options={"sessions": 4, "sessions_per_week": 3},
        )

    assert caught.value.errors == {"sessions_per_week": ["Sessions a week must be one of: 1, 2."]}


def test_a_weight_basis_the_patient_cannot_have_is_refused_next_to_that_choice(
    client, cleared, prescriber
):
    """Ideal body weight (Devine) for 170 cm female = 45.5 + 2.3 × (66.93 − 60) = 61.4 kg, below
    80 kg: allowed. For a patient recorded as 'other' the formula has no base: refused."""
    cleared.sex = "other"
    cleared.save(update_fields=["sex"])
    client.force_login(prescriber)
    post = {
        "template": "iv-induction-2x-weekly",
        "start_date": in_days(1).isoformat(),
        "weight_basis": "ideal",
        "action": "preview",
    }

    html = client.post(new_url(cleared, "iv-induction-2x-weekly"), post).content.decode()

    assert field_error(html, "weight_basis") == [
        "The patient's sex is needed for weight basis ideal."
    ]


# --------------------------------------------------------------------------- the plan page


@pytest.fixture
def active_iv_plan(cleared, prescriber):
    plan = services.plan_create(
        actor=prescriber,
        patient=cleared,
        template=template("iv-induction-2x-weekly"),
        start_date=in_days(1),
    )
    return services.plan_activate(actor=prescriber, plan=plan)


def detail_url(plan) -> str:
    return f"/patients/{plan.patient.uuid}/plans/{plan.uuid}/"


def test_the_titration_form_fits_the_route(client, active_iv_plan, prescriber):
    client.force_login(prescriber)

    html = client.get(detail_url(active_iv_plan)).content.decode()

    titrate = html.split("<h2>Titrate</h2>", 1)[1].split("</form>", 1)[0]
    assert inputs(titrate) == {"from_session", "dose_mg_per_kg", "reason"}


@pytest.mark.parametrize(
    ("action", "data", "field", "message"),
    [
        (
            "titrate",
            {"from_session": "9", "dose_mg_per_kg": "0.6", "reason": "Tolerating well"},
            "from_session",
            "The plan's last session is number 6.",
        ),
        (
            "titrate",
            {"from_session": "2", "dose_mg_per_kg": "", "reason": "Tolerating well"},
            "dose_mg_per_kg",
            "Enter the new dose in mg/kg.",
        ),
        (
            "titrate",
            {"from_session": "2", "dose_mg_per_kg": "1.2", "reason": "x"},
            "dose_mg_per_kg",
            "Enter a dose from 0.1 to 1.0 mg/kg (clinic policy for IV infusion).",
        ),
        (
            "maintenance",
            {"interval_weeks": "12", "count": "2", "start_date": "2031-01-01"},
            "interval_weeks",
            "Maintenance sessions are 2 to 8 weeks apart.",
        ),
        (
            "maintenance",
            {"interval_weeks": "4", "count": "2", "start_date": "2099-01-05"},
            "start_date",
            "Maintenance starts on {latest} at the latest (180 days after the later of today "
            "and the last planned session, clinic policy): check the year.",
        ),
    ],
)
def test_a_refused_change_shows_next_to_its_field_and_changes_nothing(
    client, active_iv_plan, prescriber, action, data, field, message
):
    client.force_login(prescriber)
    before = list(active_iv_plan.sessions.values_list("dose_mg", "planned_date"))
    last = max(date for _, date in before)

    response = client.post(detail_url(active_iv_plan) + f"{action}/", data)

    assert response.status_code == 422
    html = response.content.decode()
    latest = f"{max(timezone.localdate(), last) + datetime.timedelta(days=180):%m/%d/%Y}"
    assert field_error(html, field) == [message.format(latest=latest)]
    assert all(not INTERNAL_NAME.search(text) for text in messages_of(html))
    assert list(active_iv_plan.sessions.values_list("dose_mg", "planned_date")) == before
