"""The intake and eligibility API's permission matrix: every role on and off the care team,
anonymous and a patient principal; a refusal writes nothing.

Expected statuses come from clinic/accounts/permissions.py (intake.edit: prescriber and nurse;
eligibility.sign: prescriber; patient.view_clinical: clinic admin and the clinical roles) and
the pages' own matrix (test_views_intake_access.py: off the care team is a 404). The API checks
the role before looking anything up, so a role that may not is 403 on or off the team (the off-
team therapist included), where the page answers 404; and answers 401 where a page redirects
to sign-in. A patient principal is not staff: 401 as well."""

from __future__ import annotations

import pytest

from clinic.screening.tests.test_api_intake import _sign, patch, path, post, written
from tests.helpers import ACTOR_ORDER

pytestmark = pytest.mark.django_db

# fmt: off
MATRIX = {
    #              anon portal admin presc nurse ther desk bill off-team ×3 (presc, nurse, ther)
    "intake_read":  [401, 401, 403, 200, 200, 403, 403, 403, 404, 404, 403],
    "intake_change": [401, 401, 403, 200, 200, 403, 403, 403, 404, 404, 403],
    "eligibility":  [401, 401, 200, 200, 200, 200, 403, 403, 404, 404, 404],
    "decision":     [401, 401, 403, 201, 403, 403, 403, 403, 404, 403, 403],
    "rems":         [401, 401, 403, 201, 403, 403, 403, 403, 404, 403, 403],
}
# fmt: on
CODES = {401: "unauthenticated", 403: "permission_denied", 404: "not_found"}


@pytest.mark.parametrize(
    ("name", "who", "expected"),
    [
        pytest.param(name, who, status, id=f"{name}-{who}")
        for name, statuses in MATRIX.items()
        for who, status in zip(ACTOR_ORDER, statuses, strict=True)
    ],
)
def test_permission_matrix(actors, submitted, name, who, expected):
    from clinic.patients.tests.api_helpers import client_for
    from clinic.screening.api_intake import intake_etag

    actor, patient = actors[who], submitted.patient
    before = written(patient)
    if name == "intake_read":
        response = client_for(actor).get(path(patient, "intake"))
    elif name == "intake_change":
        response = patch(
            actor, path(patient, "intake"), {"allergies": "Latex"}, intake_etag(submitted)
        )
    elif name == "eligibility":
        response = client_for(actor).get(path(patient, "eligibility"))
    elif name == "decision":
        response = _sign(actor, submitted)
    else:
        body = {"enrolled_on": "2026-01-05", "signed_by_patient": True}
        response = post(actor, path(patient, "rems-enrolments"), body)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response.json()["code"] == CODES[expected]
        assert written(patient) == before, "a refused request writes nothing"
    elif name in ("intake_change", "decision", "rems"):
        assert written(patient) != before
    else:
        assert written(patient) == before, "a read of an intake already started writes nothing"
