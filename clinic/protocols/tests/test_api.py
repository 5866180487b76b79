"""The treatment-plan API (clinic/protocols/api.py): the permission matrix, the preview's dose,
the plan page's validation messages, If-Match on status changes and cursor paging.

Expected values: the permission matrix of clinic/accounts/permissions.py (plan.prescribe:
prescribers; clinical reads: the care team and clinic administrators), the plan pages'
matrix (test_plans.py: front desk and billing 403, off-team clinicians 404), the `eligible`
fixture (female, 80 kg, 170 cm; IV and esketamine opened) and [A9] as test_plans.py states
it: IV induction at 0.5 mg/kg × 80 kg = 40.0 mg over 40 minutes, 6 infusions 3 a week; the
dose range of policy-defaults.md ("Dosing": IV 0.1–1.0 mg/kg) in the plan form's words.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from clinic.patients.tests.api_helpers import JSON, client_for
from clinic.protocols import services
from clinic.protocols.models import PlannedSession, ProtocolTemplate, TreatmentPlan
from tests.helpers import ACTOR_ORDER

pytestmark = pytest.mark.django_db


def monday_after(days=1):
    day = timezone.localdate() + datetime.timedelta(days=days)
    return day + datetime.timedelta(days=(7 - day.weekday()) % 7)


def plans_url(patient) -> str:
    return f"/api/v1/patients/{patient.uuid}/treatment-plans"


IV_3X = {"template": "iv-induction-3x-weekly"}

# fmt: off
MATRIX = {
    #              anon portal admin presc nurse ther desk bill off-team ×3
    "list":       [401, 401, 200, 200, 200, 200, 403, 403, 404, 404, 404],
    "detail":     [401, 401, 200, 200, 200, 200, 403, 403, 404, 404, 404],
    "preview":    [401, 401, 403, 200, 403, 403, 403, 403, 404, 403, 403],
    "create":     [401, 401, 403, 201, 403, 403, 403, 403, 404, 403, 403],
    "activate":   [401, 401, 403, 200, 403, 403, 403, 403, 404, 403, 403],
    "discontinue": [401, 401, 403, 200, 403, 403, 403, 403, 404, 403, 403],
}
# fmt: on


@pytest.fixture
def draft(eligible, prescriber):
    return services.plan_create(
        actor=prescriber,
        patient=eligible,
        template=ProtocolTemplate.objects.get(code="iv-induction-2x-weekly", version=1),
        start_date=monday_after(),
    )


def state() -> list:
    return list(TreatmentPlan.objects.order_by("pk").values()) + list(
        PlannedSession.objects.order_by("pk").values()
    )


def etag(patient, plan, reader) -> str:
    response = client_for(reader).get(f"{plans_url(patient)}/{plan.uuid}")
    assert response.status_code == 200, response.content
    return response["ETag"]


@pytest.mark.parametrize(
    ("name", "who", "expected"),
    [
        pytest.param(name, who, status, id=f"{name}-{who}")
        for name, statuses in MATRIX.items()
        for who, status in zip(ACTOR_ORDER, statuses, strict=True)
    ],
)
def test_permission_matrix(actors, eligible, draft, prescriber, name, who, expected):
    base = plans_url(eligible)
    one = f"{base}/{draft.uuid}"
    body = {**IV_3X, "start_date": monday_after(8).isoformat()}
    method, path, payload = {
        "list": ("get", base, None),
        "detail": ("get", one, None),
        "preview": ("post", f"{base}/preview", body),
        "create": ("post", base, body),
        "activate": ("post", f"{one}/activate", None),
        "discontinue": ("post", f"{one}/discontinue", {"reason": "Moved away"}),
    }[name]
    before = state()
    client = client_for(actors[who])
    if method == "get":
        response = client.get(path)
    else:
        tag = etag(eligible, draft, prescriber)
        response = client.post(path, payload or {}, content_type=JSON, HTTP_IF_MATCH=tag)
    assert response.status_code == expected, response.content
    if expected >= 400 or name in ("list", "detail", "preview"):
        assert state() == before, "a read or a refusal writes nothing"
    else:
        assert state() != before


def test_the_preview_is_the_dose_for_this_patients_weight_and_writes_nothing(eligible, prescriber):
    before = state()
    response = client_for(prescriber).post(
        f"{plans_url(eligible)}/preview",
        {**IV_3X, "start_date": monday_after().isoformat()},
        content_type=JSON,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert float(body["weight_kg"]) == 80.0
    assert len(body["sessions"]) == 6
    assert {
        (float(s["dose_mg"]), float(s["dose_mg_per_kg"]), float(s["weight_used_kg"]))
        for s in body["sessions"]
    } == {(40.0, 0.5, 80.0)}
    assert {s["infusion_minutes"] for s in body["sessions"]} == {40}
    assert state() == before


def test_create_answers_201_with_the_plan_and_its_etag(eligible, prescriber):
    response = client_for(prescriber).post(
        plans_url(eligible),
        {**IV_3X, "start_date": monday_after().isoformat(), "dose_mg_per_kg": "0.75"},
        content_type=JSON,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft" and len(body["sessions"]) == 6
    assert {float(s["dose_mg"]) for s in body["sessions"]} == {60.0}  # 0.75 × 80 kg
    plan = TreatmentPlan.objects.get()
    assert response["ETag"] == etag(eligible, plan, prescriber)


@pytest.mark.parametrize("dose", ["0.09", "1.01"])
def test_a_dose_outside_the_range_is_refused_in_the_pages_words(eligible, prescriber, dose):
    response = client_for(prescriber).post(
        plans_url(eligible),
        {**IV_3X, "start_date": monday_after().isoformat(), "dose_mg_per_kg": dose},
        content_type=JSON,
    )
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body", "dose_mg_per_kg"]
    assert problem["msg"].startswith("Enter a dose from 0.1 to 1.0 mg/kg")
    assert not TreatmentPlan.objects.exists()


def test_a_choice_the_route_does_not_take_or_an_unknown_option_is_refused(eligible, prescriber):
    response = client_for(prescriber).post(
        plans_url(eligible),
        {
            **IV_3X,
            "start_date": monday_after().isoformat(),
            "esketamine_dose_mg": 56,
            "options": {"colour": "blue"},
        },
        content_type=JSON,
    )
    assert response.status_code == 422
    assert {tuple(p["loc"]) for p in response.json()["detail"]} == {
        ("body", "esketamine_dose_mg"),
        ("body", "options.colour"),
    }


def test_activation_needs_the_current_tag_and_a_second_device_gets_412(eligible, draft, prescriber):
    one = f"{plans_url(eligible)}/{draft.uuid}"
    client = client_for(prescriber)
    missing = client.post(f"{one}/activate", {}, content_type=JSON)
    assert (missing.status_code, missing.json()["code"]) == (428, "precondition_required")
    tag = etag(eligible, draft, prescriber)
    signed = client.post(f"{one}/activate", {}, content_type=JSON, HTTP_IF_MATCH=tag)
    assert signed.status_code == 200 and signed.json()["status"] == "active"
    after = state()
    stale = client.post(
        f"{one}/discontinue",
        {"reason": "Read before it was signed"},
        content_type=JSON,
        HTTP_IF_MATCH=tag,
    )
    assert (stale.status_code, stale.json()["code"]) == (412, "precondition_failed")
    assert state() == after
    draft.refresh_from_db()
    assert draft.status == "active"


def test_a_titration_changes_the_tag(eligible, draft, prescriber):
    tag = etag(eligible, draft, prescriber)
    services.plan_titrate(
        actor=prescriber,
        plan=draft,
        from_session=2,
        reason="Tolerated",
        dose_mg_per_kg=Decimal("0.75"),
    )
    assert etag(eligible, draft, prescriber) != tag


def test_plans_page_by_cursor_newest_first(eligible, prescriber):
    template = ProtocolTemplate.objects.get(code="iv-induction-2x-weekly", version=1)
    starts = [monday_after(7 * week) for week in (1, 2, 3)]
    made = [
        services.plan_create(actor=prescriber, patient=eligible, template=template, start_date=s)
        for s in starts
    ]
    client = client_for(prescriber)
    first = client.get(f"{plans_url(eligible)}?limit=2").json()
    assert [p["uuid"] for p in first["items"]] == [str(made[2].uuid), str(made[1].uuid)]
    last = client.get(f"{plans_url(eligible)}?limit=2&cursor={first['next_cursor']}").json()
    assert [p["uuid"] for p in last["items"]] == [str(made[0].uuid)]
    assert last["next_cursor"] is None
