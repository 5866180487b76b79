"""The session API's permission matrix (clinic/treatment_sessions/api/): every role, on and off
the care team, anonymous and a patient principal; a refusal writes nothing. And a session kept
at a location one does not work at: read by its care team, charted only by its own staff.

Expected statuses come from clinic/accounts/permissions.py (session.board: clinic admin,
prescriber, nurse; session.run: prescriber, nurse; patient.view_clinical: clinic admin and the
clinical roles) and the session page's own matrix (test_views.py: off the care team is a 404,
a role that may not is a 403 before anything is looked up). The API answers 401 where a page
redirects to sign-in, and a patient principal is not staff: 401 as well.
"""

from __future__ import annotations

import pytest

from clinic.locations import services as locations
from clinic.locations.models import Location
from clinic.patients.tests.api_helpers import client_for
from clinic.treatment_sessions import services
from clinic.treatment_sessions.tests.api_helpers import (
    API,
    HIGH_BP,
    chair_rows,
    etag_of,
    one,
    post,
)
from clinic.treatment_sessions.tests.conftest import MONDAY
from tests.helpers import ACTOR_ORDER

pytestmark = pytest.mark.django_db

# fmt: off
MATRIX = {
    #                  anon portal admin presc nurse ther desk bill off-team ×3 (presc, nurse, ther)
    "list":           [401, 401, 200, 200, 200, 403, 403, 403, 200, 200, 403],
    "detail":         [401, 401, 200, 200, 200, 200, 403, 403, 404, 404, 404],
    "check_in":       [401, 401, 403, 201, 201, 403, 403, 403, 404, 404, 403],
    "pre_checks":     [401, 401, 403, 200, 200, 403, 403, 403, 404, 404, 403],
    "vitals":         [401, 401, 403, 201, 201, 403, 403, 403, 404, 404, 403],
    "alert_ack":      [401, 401, 403, 200, 200, 403, 403, 403, 404, 404, 403],
    "infusion_start": [401, 401, 403, 200, 200, 403, 403, 403, 404, 404, 403],
    "stop":           [401, 401, 403, 200, 200, 403, 403, 403, 404, 404, 403],
    # 09:40, just after the infusion stopped: observation runs 30 min more (policy-defaults.md),
    # so discharge is blocked for those who may ask.
    "discharge":      [401, 401, 403, 409, 409, 403, 403, 403, 404, 404, 403],
    "chair_alerts":   [401, 401, 403, 200, 200, 403, 403, 403, 200, 200, 403],
}
# fmt: on
CODES = {
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    409: "discharge_blocked",
}
# Which fixture session each operation runs on.
SESSION_OF = {
    "detail": "iv_cleared",
    "pre_checks": "iv_cleared",
    "vitals": "iv_cleared",
    "alert_ack": "iv_cleared",
    "infusion_start": "iv_cleared",
    "stop": "iv_cleared",
    "discharge": "iv_stopped",
}


def _request(name, request, nurse):
    """(method, path, body) of each operation."""
    if name == "list":
        return "get", f"{API}?date={MONDAY.isoformat()}", None
    if name == "chair_alerts":
        return "get", "/api/v1/alerts/chair", None
    if name == "check_in":
        appointment = request.getfixturevalue("iv_appointment")
        return (
            "post",
            f"{API}/check-in",
            {
                "appointment": str(appointment.uuid),
                "full_name_confirmed": True,
                "stated_date_of_birth": appointment.patient.date_of_birth.isoformat(),
            },
        )
    session = request.getfixturevalue(SESSION_OF[name])
    path = one(session)
    if name == "detail":
        return "get", path, None
    if name == "pre_checks":
        return "post", f"{path}/pre-checks", {"intention": "To rest"}
    if name == "vitals":
        return "post", f"{path}/vitals", HIGH_BP
    if name == "alert_ack":
        _entry, alerts = services.vitals_record(actor=nurse, session=session, **HIGH_BP)
        return "post", f"{path}/alerts/{alerts[0].uuid}/acknowledge", {"action": "continue"}
    if name == "infusion_start":
        vials = request.getfixturevalue("vials")
        return (
            "post",
            f"{path}/infusion/start",
            {"container": str(vials[0].uuid), "drawn_mg": "50", "rate_ml_per_h": "150"},
        )
    if name == "stop":
        return "post", f"{path}/stop", {"reason": "The patient felt unwell"}
    assert name == "discharge"
    return (
        "post",
        f"{path}/discharge",
        {"escort_present": True, "instructions_given": True},
    )


@pytest.mark.parametrize(
    ("name", "who", "expected"),
    [
        pytest.param(name, who, status, id=f"{name}-{who}")
        for name, statuses in MATRIX.items()
        for who, status in zip(ACTOR_ORDER, statuses, strict=True)
    ],
)
def test_permission_matrix(actors, request, nurse, clock, name, who, expected):
    method, path, body = _request(name, request, nurse)
    session_name = SESSION_OF.get(name)
    if_match = None
    if method == "post" and session_name:
        if_match = etag_of(request.getfixturevalue(session_name), nurse)
    before = chair_rows()
    if method == "get":
        response = client_for(actors[who]).get(path)
    else:
        response = post(actors[who], path, body, if_match=if_match)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response.json()["code"] == CODES[expected]
        assert chair_rows() == before, "a refused request writes nothing"
    elif method == "post":
        assert chair_rows() != before


def test_anonymous_is_refused_before_anything_is_read(iv_cleared):
    response = client_for(None).get(one(iv_cleared))
    assert (response.status_code, response.json()["code"]) == (401, "unauthenticated")


# --------------------------------------------------------------------------- another location


@pytest.fixture
def river_nurse(clinic_admin, nurse, prescriber, front_desk, make_staff, patient):
    """A nurse on the patient's care team who works at a second location only (Riverside);
    `nurse` and the prescriber work at the main location, where the session's chair is."""
    from clinic.patients.services import care_team_set

    main = Location.objects.get(is_default=True)
    riverside = locations.location_open(
        actor=clinic_admin,
        details=locations.LocationDetails(
            name="Riverside", code="RVS", time_zone="America/New_York"
        ),
    )
    locations.location_staff_set(
        actor=clinic_admin, location=main, staff_ids=[nurse.pk, prescriber.pk, front_desk.pk]
    )
    person = make_staff("nurse", username="rivernurse")
    locations.location_staff_set(actor=clinic_admin, location=riverside, staff_ids=[person.pk])
    care_team_set(
        actor=front_desk, patient=patient, primary_prescriber=prescriber, nurses=[nurse, person]
    )
    return person


def test_the_care_team_reads_a_session_elsewhere_but_charts_only_where_it_works(
    iv_cleared, river_nurse
):
    response = client_for(river_nurse).get(one(iv_cleared))
    assert response.status_code == 200
    assert response.json()["can_run"] is False  # the page says where it is, without forms
    before = chair_rows()
    refused = post(river_nurse, f"{one(iv_cleared)}/vitals", HIGH_BP)
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    assert chair_rows() == before
    listed = client_for(river_nurse).get(f"{API}?date={MONDAY.isoformat()}")
    assert listed.status_code == 200
    assert listed.json()["items"] == []  # her own location's day: no session there
    other = client_for(river_nurse).get(
        f"{API}?date={MONDAY.isoformat()}&location={Location.objects.get(is_default=True).uuid}"
    )
    assert (other.status_code, other.json()["code"]) == (403, "permission_denied")
