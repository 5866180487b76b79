"""The session record API's permission matrix (api/record.py): every role, on and off the
care team, anonymous and a patient principal; a refusal writes nothing. And a session kept at
a location one does not work at: charted only by its own staff, decided by its prescriber.

Expected statuses come from clinic/accounts/permissions.py (session.run: prescriber, nurse;
session.override: prescriber) and the session page's own matrix (test_views.py: off the care
team is a 404, a role that may not is a 403 before anything is looked up). The API answers 401
where a page redirects to sign-in, and a patient principal is not staff: 401 as well.
"""

from __future__ import annotations

import pytest

from clinic.locations.models import Location
from clinic.patients.tests.api_helpers import client_for
from clinic.treatment_sessions import services
from clinic.treatment_sessions.tests.api_helpers import etag_of, one, post, record_rows
from clinic.treatment_sessions.tests.conftest import pass_prechecks
from clinic.treatment_sessions.tests.test_api_permissions import river_nurse  # noqa: F401
from tests.helpers import ACTOR_ORDER

pytestmark = pytest.mark.django_db

# fmt: off
MATRIX = {
    #                        anon portal admin presc nurse ther desk bill off: presc nurse ther
    "bp_confirm":            [401, 401, 403, 200, 403, 403, 403, 403, 404, 403, 403],
    "override":              [401, 401, 403, 200, 403, 403, 403, 403, 404, 403, 403],
    "score":                 [401, 401, 403, 201, 201, 403, 403, 403, 404, 404, 403],
    "side_effect":           [401, 401, 403, 201, 201, 403, 403, 403, 404, 404, 403],
    "adverse_event":         [401, 401, 403, 201, 201, 403, 403, 403, 404, 404, 403],
    "vitals_error":          [401, 401, 403, 200, 200, 403, 403, 403, 404, 404, 403],
    "side_effect_error":     [401, 401, 403, 200, 200, 403, 403, 403, 404, 404, 403],
    "adverse_event_error":   [401, 401, 403, 200, 200, 403, 403, 403, 404, 404, 403],
}
# fmt: on
CODES = {401: "unauthenticated", 403: "permission_denied", 404: "not_found"}
REASON = {"reason": "Rechecked after five minutes' rest; asymptomatic"}
NAUSEA = {"kind": "nausea", "severity": "mild"}
EVENT = {"description": "Vasovagal episode", "seriousness": "non_serious", "outcome": "resolved"}


@pytest.fixture
def iv_high_bp(iv_checked_in, nurse):
    """A pre-dose reading of 150/95: above 140/90 (policy-defaults.md), for a prescriber to
    confirm."""
    return pass_prechecks(nurse, iv_checked_in, systolic=150, diastolic=95)


def _request(name, request, nurse):
    """(session, path, body) of each operation."""
    if name == "bp_confirm":
        session = request.getfixturevalue("iv_high_bp")
        return session, f"{one(session)}/pre-dose-bp/confirm", REASON
    if name == "override":
        session = request.getfixturevalue("iv_checked_in")
        return session, f"{one(session)}/pre-checks/override", REASON
    session = request.getfixturevalue("iv_running")
    path = one(session)
    if name == "score":
        return session, f"{path}/scores", {"kind": "moaas", "answers": [4]}
    if name == "side_effect":
        return session, f"{path}/side-effects", NAUSEA
    if name == "adverse_event":
        return session, f"{path}/adverse-events", EVENT
    wrong = {"reason": "Charted on the wrong chair"}
    if name == "vitals_error":
        entry = session.vitals.first()
        return session, f"{path}/vitals/{entry.uuid}/entered-in-error", wrong
    if name == "side_effect_error":
        effect = services.side_effect_record(actor=nurse, session=session, **NAUSEA)
        return session, f"{path}/side-effects/{effect.uuid}/entered-in-error", wrong
    assert name == "adverse_event_error"
    event = services.adverse_event_record(actor=nurse, session=session, **EVENT)
    return session, f"{path}/adverse-events/{event.uuid}/entered-in-error", wrong


@pytest.mark.parametrize(
    ("name", "who", "expected"),
    [
        pytest.param(name, who, status, id=f"{name}-{who}")
        for name, statuses in MATRIX.items()
        for who, status in zip(ACTOR_ORDER, statuses, strict=True)
    ],
)
def test_permission_matrix(actors, request, nurse, clock, name, who, expected):
    session, path, body = _request(name, request, nurse)
    if_match = etag_of(session, nurse)
    before = record_rows()
    response = post(actors[who], path, body, if_match=if_match)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response.json()["code"] == CODES[expected]
        assert record_rows() == before, "a refused request writes nothing"
    else:
        assert record_rows() != before


def test_charting_is_for_the_staff_where_the_session_is(iv_running, river_nurse):  # noqa: F811
    """A nurse of the care team who works at another location reads the record but does not
    chart on it (403), as on the page."""
    assert client_for(river_nurse).get(one(iv_running)).status_code == 200
    tag = etag_of(iv_running, river_nurse)
    before = record_rows()
    refused = post(river_nurse, f"{one(iv_running)}/side-effects", NAUSEA, if_match=tag)
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    assert record_rows() == before


def test_a_prescriber_decides_from_anywhere(iv_checked_in, nurse, prescriber, clinic_admin):
    """A prescriber's decision follows the care team, not the location (the in-basket answers
    from a phone): one who works elsewhere only still overrides."""
    from clinic.locations import services as locations

    elsewhere = locations.location_open(
        actor=clinic_admin,
        details=locations.LocationDetails(name="Riverside", code="RVS", time_zone="UTC"),
    )
    main = Location.objects.get(is_default=True)
    locations.location_staff_set(actor=clinic_admin, location=main, staff_ids=[nurse.pk])
    locations.location_staff_set(actor=clinic_admin, location=elsewhere, staff_ids=[prescriber.pk])
    response = post(
        prescriber,
        f"{one(iv_checked_in)}/pre-checks/override",
        REASON,
        if_match=etag_of(iv_checked_in, prescriber),
    )
    assert response.status_code == 200, response.content
