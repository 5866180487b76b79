"""The problem list's pages: the permission matrix on every page and action, what each role sees
on the chart, the intake's suggestions and the code search, refusals shown beside the field,
writes that a refused actor cannot make, and a chart whose query count does not grow with the
list."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.billing import services
from clinic.billing.models import Diagnosis
from clinic.core.models import AuditEvent
from clinic.screening.models import Intake
from tests.helpers import ACTOR_ORDER, chart_html, client_as, status_word

pytestmark = pytest.mark.django_db


@pytest.fixture
def diagnosis(patient, prescriber):
    return services.diagnosis_record(actor=prescriber, patient=patient, code="F33.1", primary=True)


def _add_url(patient):
    return reverse("billing:diagnosis_add", args=[patient.uuid])


# Expected status per actor, from docs/permissions.md (`diagnosis.record`: the care team's
# prescribers). Out of reach is a 404, as for the chart.
ADD_PAGE = dict(
    zip(
        ACTOR_ORDER,
        ["login", 403, 403, 200, 403, 403, 403, 403, 404, 404, 404],
        strict=True,
    )
)
SEARCH = dict(
    zip(ACTOR_ORDER, ["login", 403, 403, 200, 403, 403, 403, 403, 200, 403, 403], strict=True)
)


@pytest.mark.parametrize("who", ACTOR_ORDER)
def test_the_add_page_and_the_code_search_permission_matrix(client, patient, actors, who):
    client = client_as(client, actors[who])
    assert status_word(client.get(_add_url(patient))) == ADD_PAGE[who]
    search = client.get(reverse("billing:icd10_search"), {"q": "depress"})
    assert status_word(search) == SEARCH[who]


ACTIONS = ["primary", "resolve", "entered_in_error"]


def _action_url(name, patient, diagnosis):
    route = {
        "primary": "billing:diagnosis_make_primary",
        "resolve": "billing:diagnosis_resolve",
        "entered_in_error": "billing:diagnosis_entered_in_error",
    }[name]
    return reverse(route, args=[patient.uuid, diagnosis.uuid])


@pytest.mark.parametrize("who", [w for w in ACTOR_ORDER if w != "prescriber"])
@pytest.mark.parametrize("action", ACTIONS + ["add"])
def test_a_refused_actor_changes_nothing(client, patient, actors, diagnosis, who, action):
    before = list(Diagnosis.objects.values())
    data = {"resolved_on": "2026-01-05", "reason": "Wrong", "icd10_code": "F41.1"}
    url = _add_url(patient) if action == "add" else _action_url(action, patient, diagnosis)
    response = client_as(client, actors[who]).post(url, data)
    assert status_word(response) in ("login", 403, 404)
    assert list(Diagnosis.objects.values()) == before


@pytest.mark.parametrize(
    ("who", "sees_list", "may_change"),
    [
        ("prescriber", True, True),
        ("nurse", True, False),
        ("therapist", True, False),
        ("clinic_admin", True, False),
        ("billing", True, False),  # codes claims from it
        ("front_desk", False, False),
    ],
)
def test_the_chart_shows_the_problem_list_to_those_who_may_see_it(
    client, patient, actors, diagnosis, who, sees_list, may_change
):
    html = chart_html(client_as(client, actors[who]), patient)
    assert ("Diagnoses (problem list)" in html) is sees_list
    assert ("Major depressive disorder, recurrent, moderate" in html) is sees_list
    assert ("Add a diagnosis" in html) is may_change
    assert ("Make primary" in html or "Mark entered in error" in html) is may_change


def test_billing_sees_diagnoses_but_not_the_clinical_chart(client, patient, actors, diagnosis):
    html = chart_html(client_as(client, actors["billing"]), patient)
    assert "F33.1" in html and "primary" in html
    assert "Weight and height" not in html  # clinical sections stay closed to billing
    assert "Screening and eligibility" not in html


def test_the_intake_indication_is_offered_as_codes_to_pick(client, patient, prescriber):
    Intake.objects.create(patient=patient, indication="ptsd")
    client.force_login(prescriber)
    page = client.get(_add_url(patient)).content.decode()
    assert "Suggested by the intake (PTSD)" in page
    assert 'value="F43.10"' in page and 'value="F43.12"' in page
    # Picking fills the code in and saves nothing.
    picked = client.post(_add_url(patient), {"pick": "F43.12"})
    assert picked.status_code == 200
    assert 'value="F43.12"' in picked.content.decode()
    assert "Post-traumatic stress disorder, chronic" in picked.content.decode()
    assert not Diagnosis.objects.exists()


def test_the_code_search_returns_billable_codes_to_pick(client, prescriber):
    client.force_login(prescriber)
    html = client.get(reverse("billing:icd10_search"), {"q": "chronic post-traumatic"}).content
    assert b'name="pick" value="F43.12"' in html
    assert (
        b"No billable code matches"
        in client.get(reverse("billing:icd10_search"), {"q": "zzzz qqqq"}).content
    )


def test_adding_from_the_page_lands_on_the_chart(client, patient, prescriber):
    client.force_login(prescriber)
    response = client.post(
        _add_url(patient), {"icd10_code": "f41.1", "onset_date": "2025-06-01", "primary": "on"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/patients/{patient.uuid}/#diagnoses")
    diagnosis = Diagnosis.objects.get()
    assert (diagnosis.icd10_code, diagnosis.is_primary) == ("F41.1", True)
    html = chart_html(client, patient)
    assert "F41.1 added to the problem list." in html and "Generalized anxiety disorder" in html


def test_a_refused_code_is_explained_beside_the_field(client, patient, prescriber):
    client.force_login(prescriber)
    page = client.post(_add_url(patient), {"icd10_code": "F42.0"}).content.decode()
    assert "F42.0 is a WHO ICD-10 code that ICD-10-CM does not have" in page
    assert 'id="id_icd10_code_error"' in page
    assert not Diagnosis.objects.exists()


def test_resolve_and_correct_from_the_chart(client, patient, prescriber, diagnosis):
    client.force_login(prescriber)
    client.post(_action_url("resolve", patient, diagnosis), {"resolved_on": "2026-11-30"})
    diagnosis.refresh_from_db()
    assert diagnosis.status == "resolved" and str(diagnosis.resolved_on) == "2026-11-30"
    html = chart_html(client, patient)
    assert "Resolved and corrected (1)" in html and "Resolved 11/30/2026" in html
    assert "No active diagnosis on the problem list." in html


def test_a_chart_read_audits_as_much_with_one_diagnosis_as_with_many(client, patient, prescriber):
    client.force_login(prescriber)

    def events_of_one_read() -> int:
        before = AuditEvent.objects.count()
        chart_html(client, patient)
        return AuditEvent.objects.count() - before

    services.diagnosis_record(actor=prescriber, patient=patient, code="F33.1")
    with_one = events_of_one_read()
    for code in ("F41.1", "F43.10"):
        services.diagnosis_record(actor=prescriber, patient=patient, code=code)
    assert events_of_one_read() == with_one


def test_the_chart_query_count_does_not_grow_with_the_problem_list(client, patient, prescriber):
    client.force_login(prescriber)
    url = reverse("patients:patient_chart", args=[patient.uuid])
    client.get(url)
    services.diagnosis_record(actor=prescriber, patient=patient, code="F33.1", primary=True)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for code in ("F41.1", "F43.10", "F31.81", "G89.4"):
        diagnosis = services.diagnosis_record(actor=prescriber, patient=patient, code=code)
    services.diagnosis_resolve(
        actor=prescriber, diagnosis=diagnosis, resolved_on=timezone.localdate()
    )
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(one)
