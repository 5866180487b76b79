"""A plan's titration and maintenance through the API (clinic/protocols/api.py): the plan page's
two other actions (views.plan_action "titrate" and "maintenance"), with its forms, its services,
its words, and If-Match on the plan.

Expected values: the permission matrix of clinic/accounts/permissions.py (plan.prescribe:
prescribers only) and the plan page's (off the care team: 404 for a prescriber, 403 for a role
that may not prescribe, before anything is read); the `eligible` fixture (female, 80 kg,
170 cm; IV and esketamine opened); the built-in "iv-induction-2x-weekly" protocol of [A10]
(6 infusions, 2 a week, 0.5 mg/kg over 40 minutes: 40.0 mg on 80 kg); the clinic's IV range
0.1–1.0 mg/kg (policy-defaults.md "Dosing") in the titration form's words; maintenance 2 to 8
weeks apart, 1 to 52 sessions at a time (forms.MaintenanceForm); the label's esketamine doses
28, 56 and 84 mg [C2].
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from clinic.core.models import AuditEvent
from clinic.patients.tests.api_helpers import JSON, client_for
from clinic.protocols import services
from clinic.protocols.models import ProtocolTemplate, TreatmentPlan
from clinic.protocols.tests.test_api import etag, monday_after, plans_url, state
from tests.helpers import ACTOR_ORDER

pytestmark = pytest.mark.django_db

# fmt: off
MATRIX = {
    #               anon portal admin presc nurse ther desk bill off-team ×3 (presc, nurse, ther)
    "titrate":     [401, 401, 403, 200, 403, 403, 403, 403, 404, 403, 403],
    "maintenance": [401, 401, 403, 200, 403, 403, 403, 403, 404, 403, 403],
}
# fmt: on
CODES = {401: "unauthenticated", 403: "permission_denied", 404: "not_found"}
TITRATION = {"from_session": 4, "dose_mg_per_kg": "0.75", "reason": "Tolerated well"}


def _template(code: str) -> ProtocolTemplate:
    return ProtocolTemplate.objects.get(code=code, version=1)


@pytest.fixture
def draft(eligible, prescriber):
    return services.plan_create(
        actor=prescriber,
        patient=eligible,
        template=_template("iv-induction-2x-weekly"),
        start_date=monday_after(),
    )


@pytest.fixture
def active(draft, prescriber):
    return services.plan_activate(actor=prescriber, plan=draft)


def _post(actor, patient, plan, action: str, body: dict, *, if_match: str | None = None):
    """POST .../<action> with the plan's current tag (as `prescriber` read it) unless told."""
    headers = {} if if_match is None else {"HTTP_IF_MATCH": if_match}
    return client_for(actor).post(
        f"{plans_url(patient)}/{plan.uuid}/{action}", body, content_type=JSON, **headers
    )


def _maintenance_body(plan) -> dict:
    last = max(s.planned_date for s in plan.sessions.all())
    return {
        "interval_weeks": 4,
        "count": 3,
        "start_date": (last + datetime.timedelta(days=14)).isoformat(),
    }


def _doses(body) -> list[tuple[int, float, float]]:
    return [
        (s["number"], float(s["dose_mg"]), float(s["dose_mg_per_kg"])) for s in body["sessions"]
    ]


# ------------------------------------------------------------------ permission matrix


@pytest.mark.parametrize(
    ("name", "who", "expected"),
    [
        pytest.param(name, who, status, id=f"{name}-{who}")
        for name, statuses in MATRIX.items()
        for who, status in zip(ACTOR_ORDER, statuses, strict=True)
    ],
)
def test_permission_matrix(actors, eligible, active, prescriber, name, who, expected):
    body = TITRATION if name == "titrate" else _maintenance_body(active)
    tag = etag(eligible, active, prescriber)
    before = state()
    response = _post(actors[who], eligible, active, name, body, if_match=tag)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response.json()["code"] == CODES[expected]
        assert state() == before, "a refusal writes nothing"
    else:
        assert state() != before


# ------------------------------------------------------------------ titration


def test_a_titration_changes_the_later_sessions_and_answers_the_new_tag(
    eligible, draft, prescriber
):
    response = _post(
        prescriber,
        eligible,
        draft,
        "titrate",
        TITRATION,
        if_match=etag(eligible, draft, prescriber),
    )
    assert response.status_code == 200, response.content
    body = response.json()
    # Sessions 1-3 keep 0.5 mg/kg × 80 kg; 4-6 get 0.75 mg/kg × 80 kg = 60.0 mg.
    assert _doses(body) == [
        (1, 40.0, 0.5),
        (2, 40.0, 0.5),
        (3, 40.0, 0.5),
        (4, 60.0, 0.75),
        (5, 60.0, 0.75),
        (6, 60.0, 0.75),
    ]
    assert [s["dose_change_reason"] for s in body["sessions"]] == [""] * 3 + ["Tolerated well"] * 3
    assert {s["infusion_minutes"] for s in body["sessions"]} == {40}
    assert response["ETag"] == etag(eligible, draft, prescriber)
    event = AuditEvent.objects.filter(object_type="treatment_plan", object_id=draft.uuid).latest(
        "id"
    )
    assert event.summary == "Dose titrated from session 4: Tolerated well"
    assert event.actor == prescriber and event.patient == eligible


@pytest.mark.parametrize("dose", ["0.09", "1.01"])
def test_a_dose_outside_the_clinics_range_is_refused_as_on_the_page(
    eligible, draft, prescriber, dose
):
    tag, before = etag(eligible, draft, prescriber), state()
    response = _post(
        prescriber,
        eligible,
        draft,
        "titrate",
        {**TITRATION, "dose_mg_per_kg": dose},
        if_match=tag,
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input"
    (problem,) = body["detail"]
    assert problem["loc"] == ["body", "dose_mg_per_kg"]
    assert problem["msg"] == "Enter a dose from 0.1 to 1.0 mg/kg (clinic policy for IV infusion)."
    assert state() == before


def test_titration_refusals_name_their_field(eligible, draft, prescriber):
    tag, before = etag(eligible, draft, prescriber), state()
    cases = [
        ({**TITRATION, "from_session": 7}, "from_session", "The plan's last session is number 6."),
        ({**TITRATION, "from_session": 0}, "from_session", "Sessions are numbered from 1."),
        ({**TITRATION, "reason": ""}, "reason", "Say why the dose changes."),
        (
            {"from_session": 2, "reason": "Higher", "esketamine_dose_mg": 56},
            "esketamine_dose_mg",
            "The iv route does not take this choice.",
        ),
    ]
    for body, field, message in cases:
        response = _post(prescriber, eligible, draft, "titrate", body, if_match=tag)
        assert response.status_code == 422, body
        problems = {tuple(p["loc"]): p["msg"] for p in response.json()["detail"]}
        assert problems[("body", field)] == message, body
    missing_dose = _post(
        prescriber, eligible, draft, "titrate", {"from_session": 2, "reason": "x"}, if_match=tag
    )
    assert missing_dose.json()["detail"][0]["loc"] == ["body", "dose_mg_per_kg"]
    assert missing_dose.json()["detail"][0]["msg"] == "Enter the new dose in mg/kg."
    unknown = _post(prescriber, eligible, draft, "titrate", {**TITRATION, "dose": 1}, if_match=tag)
    assert unknown.status_code == 422
    assert state() == before


def test_a_finished_plan_is_not_titrated(eligible, active, prescriber):
    services.plan_finish(actor=prescriber, plan=active, discontinued=True, reason="Moved away")
    tag, before = etag(eligible, active, prescriber), state()
    response = _post(prescriber, eligible, active, "titrate", TITRATION, if_match=tag)
    assert (response.status_code, response.json()["code"]) == (409, "plan_finished")
    assert state() == before


def test_titration_needs_the_current_tag(eligible, draft, prescriber):
    before = state()
    missing = _post(prescriber, eligible, draft, "titrate", TITRATION, if_match=None)
    assert (missing.status_code, missing.json()["code"]) == (428, "precondition_required")
    stale_tag = etag(eligible, draft, prescriber)
    services.plan_titrate(
        actor=prescriber,
        plan=draft,
        from_session=2,
        reason="Another device first",
        dose_mg_per_kg=Decimal("0.6"),
    )
    changed = state()
    assert changed != before
    stale = _post(prescriber, eligible, draft, "titrate", TITRATION, if_match=stale_tag)
    assert (stale.status_code, stale.json()["code"]) == (412, "precondition_failed")
    assert state() == changed


def test_an_esketamine_dose_is_one_of_the_labels(cleared, prescriber):
    plan = services.plan_create(
        actor=prescriber,
        patient=cleared,
        template=_template("esketamine-trd"),
        start_date=monday_after(),
    )
    tag = etag(cleared, plan, prescriber)
    refused = _post(
        prescriber,
        cleared,
        plan,
        "titrate",
        {"from_session": 2, "esketamine_dose_mg": 70, "reason": "Tolerability"},
        if_match=tag,
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "esketamine_dose_mg"]
    per_kg = _post(
        prescriber, cleared, plan, "titrate", {**TITRATION, "from_session": 2}, if_match=tag
    )
    assert per_kg.status_code == 422
    assert per_kg.json()["detail"][0]["msg"] == "The esketamine route does not take this choice."
    done = _post(
        prescriber,
        cleared,
        plan,
        "titrate",
        {"from_session": 2, "esketamine_dose_mg": 84, "reason": "Tolerability"},
        if_match=tag,
    )
    assert done.status_code == 200, done.content
    doses = [float(s["dose_mg"]) for s in done.json()["sessions"]]
    assert doses[0] == 56.0 and set(doses[1:]) == {84.0}


# ------------------------------------------------------------------ maintenance


def test_maintenance_appends_sessions_at_the_latest_dose(eligible, active, prescriber):
    body = _maintenance_body(active)
    response = _post(
        prescriber,
        eligible,
        active,
        "maintenance",
        body,
        if_match=etag(eligible, active, prescriber),
    )
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["maintenance_interval_weeks"] == 4
    assert answer["session_count"] == 9
    added = answer["sessions"][6:]
    first = datetime.date.fromisoformat(body["start_date"])
    assert [(s["number"], s["phase"]) for s in added] == [
        (7, "maintenance"),
        (8, "maintenance"),
        (9, "maintenance"),
    ]
    assert [s["planned_date"] for s in added] == [
        (first + datetime.timedelta(weeks=weeks)).isoformat() for weeks in (0, 4, 8)
    ]
    assert {(float(s["dose_mg"]), s["infusion_minutes"]) for s in added} == {(40.0, 40)}
    assert response["ETag"] == etag(eligible, active, prescriber)
    event = AuditEvent.objects.filter(object_type="treatment_plan", object_id=active.uuid).latest(
        "id"
    )
    assert event.summary == f"Maintenance every 4 weeks: 3 sessions from {first}"


def test_maintenance_is_set_on_an_active_plan_only(eligible, draft, prescriber):
    tag, before = etag(eligible, draft, prescriber), state()
    response = _post(
        prescriber, eligible, draft, "maintenance", _maintenance_body(draft), if_match=tag
    )
    assert (response.status_code, response.json()["code"]) == (409, "plan_not_active")
    assert state() == before


def test_maintenance_refusals_name_their_field(eligible, active, prescriber):
    tag, before = etag(eligible, active, prescriber), state()
    body = _maintenance_body(active)
    last = max(s.planned_date for s in active.sessions.all())
    cases = [
        (
            {**body, "interval_weeks": 9},
            "interval_weeks",
            "Maintenance sessions are 2 to 8 weeks apart.",
        ),
        (
            {**body, "interval_weeks": 1},
            "interval_weeks",
            "Maintenance sessions are 2 to 8 weeks apart.",
        ),
        ({**body, "count": 53}, "count", "Add 1 to 52 sessions at a time."),
        (
            {**body, "start_date": last.isoformat()},
            "start_date",
            "Maintenance starts after the last planned session.",
        ),
    ]
    for sent, field, message in cases:
        response = _post(prescriber, eligible, active, "maintenance", sent, if_match=tag)
        assert response.status_code == 422, sent
        problems = {tuple(p["loc"]): p["msg"] for p in response.json()["detail"]}
        assert problems == {("body", field): message}, sent
    assert state() == before
    missing = _post(prescriber, eligible, active, "maintenance", body, if_match=None)
    assert (missing.status_code, missing.json()["code"]) == (428, "precondition_required")
    stale = _post(prescriber, eligible, active, "maintenance", body, if_match='"stale"')
    assert (stale.status_code, stale.json()["code"]) == (412, "precondition_failed")
    assert state() == before
    assert TreatmentPlan.objects.get(pk=active.pk).maintenance_interval_weeks is None


# ------------------------------------------------------------------ the published contract

ONE_PLAN = "/api/v1/patients/{patient_uuid}/treatment-plans/{plan_uuid}"
CHANGE = {"200", "400", "401", "403", "404", "409", "412", "413", "422", "428"}


def test_the_operations_declare_every_status_with_the_envelope(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for action in ("titrate", "maintenance"):
        operation = paths[f"{ONE_PLAN}/{action}"]["post"]
        assert set(operation["responses"]) == CHANGE, action
        for status in CHANGE - {"200"}:
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ApiError"}, (action, status)
        parameters = {p["name"]: p for p in operation["parameters"]}
        assert parameters["If-Match"]["in"] == "header"
        assert "ETag" in operation["responses"]["200"]["headers"]


# ------------------------------------------------------------------ two devices at once


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_titrations_sent_with_one_tag_write_one(eligible, draft, prescriber):
    """PostgreSQL only (SQLite serialises every writer): the tag is compared under the plan's
    row lock, so the second titration waits for the first, sees sessions whose doses changed
    and is refused; one titration is written."""
    from tests.concurrency import in_threads

    tag = etag(eligible, draft, prescriber)
    clients = [client_for(prescriber), client_for(prescriber)]
    doses = ["0.6", "0.8"]

    def work(i):
        return clients[i].post(
            f"{plans_url(eligible)}/{draft.uuid}/titrate",
            {**TITRATION, "dose_mg_per_kg": doses[i], "reason": f"Device {i + 1}"},
            content_type=JSON,
            HTTP_IF_MATCH=tag,
        )

    responses = in_threads(2, work)

    assert sorted(r.status_code for r in responses) == [200, 412], responses
    (winner,) = [r for r in responses if r.status_code == 200]
    (loser,) = [r for r in responses if r.status_code == 412]
    assert loser.json()["code"] == "precondition_failed"
    later = draft.sessions.filter(number__gte=4)
    # The later sessions carry the winner's dose and reason, never a mix.
    reasons = {s.dose_change_reason for s in later}
    assert len(reasons) == 1
    (reason,) = reasons
    won = doses[int(reason.removeprefix("Device ")) - 1]
    assert {s.dose_mg_per_kg for s in later} == {Decimal(won)}
    assert winner.json()["sessions"][3]["dose_change_reason"] == reason
    assert (
        AuditEvent.objects.filter(
            object_type="treatment_plan", object_id=draft.uuid, summary__startswith="Dose titrated"
        ).count()
        == 1
    )
