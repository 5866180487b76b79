"""Protocol templates through the API (clinic/protocols/api_templates.py), as the templates page
(views.template_list): read by clinicians (patient.view_clinical: clinic administrator,
prescriber, nurse, therapist) and whoever manages templates (protocol.manage_templates: the
clinic administrator); added only by the latter, through the page's form and service. Templates
are not patient records, so the care team plays no part: off-team clinicians read them too.

Expected values: the built-in protocols (clinic/protocols/schedules/built_in.py, version 1 of
each code, each definition in its published JSON form) and the service's rules (a built-in code
is never redefined; saving a code again adds its next version; a plan stays pinned).
"""

from __future__ import annotations

import copy

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.core.models import AuditEvent
from clinic.core.text import CONTROL_CHARACTER_MESSAGE
from clinic.patients.tests.api_helpers import JSON, client_for
from clinic.protocols import services, services_templates
from clinic.protocols.models import ProtocolTemplate
from clinic.protocols.schedules import BUILT_IN
from tests.helpers import ACTOR_ORDER

pytestmark = pytest.mark.django_db

API = "/api/v1/protocol-templates"

# fmt: off
MATRIX = {
    #           anon portal admin presc nurse ther desk bill off-team ×3 (presc, nurse, ther)
    "list":    [401, 401, 200, 200, 200, 200, 403, 403, 200, 200, 200],
    "detail":  [401, 401, 200, 200, 200, 200, 403, 403, 200, 200, 200],
    "version": [401, 401, 200, 200, 200, 200, 403, 403, 200, 200, 200],
    "create":  [401, 401, 201, 403, 403, 403, 403, 403, 403, 403, 403],
}
# fmt: on
CODES = {401: "unauthenticated", 403: "permission_denied"}
IV_2X = "iv-induction-2x-weekly"
# What a plan is made from: every built-in protocol that names its route ("maintenance" names
# none: it is appended to a running plan, never a plan's own protocol), as the page lists them.
PLANNABLE = sorted(code for code, definition in BUILT_IN.items() if definition.route)


def _definition(code: str = IV_2X) -> dict:
    return copy.deepcopy(BUILT_IN[code].as_dict())


def _rows() -> list:
    return list(ProtocolTemplate.objects.order_by("pk").values())


def _create(actor, body):
    return client_for(actor).post(API, body, content_type=JSON)


@pytest.mark.parametrize(
    ("name", "who", "expected"),
    [
        pytest.param(name, who, status, id=f"{name}-{who}")
        for name, statuses in MATRIX.items()
        for who, status in zip(ACTOR_ORDER, statuses, strict=True)
    ],
)
def test_permission_matrix(actors, patient, name, who, expected):
    services.builtin_templates_ensure()
    before = _rows()
    client = client_for(actors[who])
    if name == "create":
        body = {"code": "iv-our-series", "name": "Our IV series", "definition": _definition()}
        response = client.post(API, body, content_type=JSON)
    else:
        path = {"list": API, "detail": f"{API}/{IV_2X}", "version": f"{API}/{IV_2X}/versions/1"}
        response = client.get(path[name])
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response.json()["code"] == CODES[expected]
    if name != "create" or expected >= 400:
        assert _rows() == before, "a read or a refusal writes nothing"
    else:
        assert len(_rows()) == len(before) + 1


def test_the_list_is_every_built_in_protocol_with_what_a_plan_is_built_from(prescriber):
    response = client_for(prescriber).get(API)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["next_cursor"] is None
    assert [t["code"] for t in body["items"]] == PLANNABLE
    for item in body["items"]:
        definition = BUILT_IN[item["code"]]
        assert item["version"] == 1 and item["built_in"] and item["active"]
        assert item["name"] == definition.name
        assert item["route"] == definition.route
        assert item["definition"] == _definition(item["code"])


def test_the_list_pages_by_code_each_once(nurse):
    client, seen, cursor = client_for(nurse), [], None
    while True:
        page = client.get(API, {"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        assert len(page["items"]) <= 2
        seen += [item["code"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == PLANNABLE
    foreign = client.get(API, {"cursor": "not-a-cursor"})
    assert (foreign.status_code, foreign.json()["code"]) == (422, "invalid_input")


def test_a_new_version_is_listed_and_the_old_one_stays_readable(clinic_admin, prescriber):
    first = _create(
        clinic_admin,
        {"code": "iv-our-series", "name": "Our IV series", "definition": _definition()},
    )
    assert first.status_code == 201, first.content
    assert (first.json()["version"], first.json()["built_in"]) == (1, False)
    renamed = {"code": "iv-our-series", "name": "Our IV series, v2", "definition": _definition()}
    second = _create(clinic_admin, renamed)
    assert second.status_code == 201 and second.json()["version"] == 2
    client = client_for(prescriber)
    listed = {t["code"]: t for t in client.get(API).json()["items"]}
    assert (listed["iv-our-series"]["version"], listed["iv-our-series"]["name"]) == (
        2,
        "Our IV series, v2",
    )
    assert client.get(f"{API}/iv-our-series").json()["version"] == 2
    old = client.get(f"{API}/iv-our-series/versions/1").json()
    assert (old["version"], old["name"]) == (1, "Our IV series")
    # A retired version leaves the list (no new plan is made from it) but stays readable.
    ProtocolTemplate.objects.filter(code="iv-our-series", version=2).update(is_active=False)
    listed = {t["code"]: t for t in client.get(API).json()["items"]}
    assert listed["iv-our-series"]["version"] == 1
    retired = client.get(f"{API}/iv-our-series/versions/2").json()
    assert retired["active"] is False
    event = AuditEvent.objects.filter(object_type="protocol_template").latest("id")
    assert (event.object_id, event.actor) == ("iv-our-series v2", clinic_admin)


def test_an_unknown_protocol_or_version_is_not_found(prescriber):
    client = client_for(prescriber)
    for path in (f"{API}/no-such-protocol", f"{API}/{IV_2X}/versions/2"):
        response = client.get(path)
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), path


def test_refusals_name_the_field_and_write_nothing(clinic_admin):
    services.builtin_templates_ensure()
    before = _rows()
    broken = _definition()
    broken["phases"][0]["sessions"] = 0
    hidden = _definition()
    hidden["description"] = "Twice weekly\u202e"
    cases = [
        (
            {"code": IV_2X, "name": "Mine", "definition": _definition()},
            "code",
            "Built-in protocols cannot be redefined; choose a new code.",
        ),
        (
            {"code": "iv-ours", "name": "Ours\u202e", "definition": _definition()},
            "name",
            None,
        ),
        ({"code": "iv-ours", "name": "Ours", "definition": hidden}, "definition", None),
        ({"code": "iv ours!", "name": "Ours", "definition": _definition()}, "code", None),
        ({"code": "iv-ours", "name": "Ours", "definition": {}}, "definition", None),
        ({"code": "iv-ours", "name": "Ours", "definition": broken}, None, None),
    ]
    for body, field, message in cases:
        response = _create(clinic_admin, body)
        assert response.status_code == 422, body
        problems = response.json()["detail"]
        fields = {p["loc"][-1] if p["loc"][0] == "body" else p["loc"][0] for p in problems}
        if field is None:
            # The service names the part of the definition at fault, under `definition`.
            assert all(str(p["loc"][1]).startswith("definition.") for p in problems), problems
        else:
            assert field in fields, problems
        if message:
            assert message in [p["msg"] for p in problems]
    hidden_reply = _create(clinic_admin, {"code": "iv-ours", "name": "Ours", "definition": hidden})
    assert CONTROL_CHARACTER_MESSAGE in [p["msg"] for p in hidden_reply.json()["detail"]]
    assert _rows() == before


def test_the_list_reads_in_the_same_queries_however_many_templates(clinic_admin, prescriber):
    client = client_for(prescriber)
    client.get(API)  # the built-in protocols, and the session, in place

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(API).status_code == 200
        return len(captured)

    few = queries()
    for number in range(5):
        services_templates.template_create(
            actor=clinic_admin,
            code=f"iv-series-{number}",
            name=f"IV series {number}",
            definition=_definition(),
        )
        services_templates.template_create(
            actor=clinic_admin,
            code=f"iv-series-{number}",
            name=f"IV series {number}, again",
            definition=_definition(),
        )
    assert queries() == few


# ------------------------------------------------------------------ the published contract

READ = {"200", "401", "403", "422"}
DECLARED = {
    ("get", API): READ,
    ("get", API + "/{code}"): READ | {"404"},
    ("get", API + "/{code}/versions/{version}"): READ | {"404"},
    ("post", API): {"201", "400", "401", "403", "409", "413", "422"},
}


def test_the_operations_declare_every_status_with_the_envelope(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for (method, path), statuses in DECLARED.items():
        responses = paths[path][method]["responses"]
        assert set(responses) == statuses, (method, path)
        for status in statuses - {"200", "201"}:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ApiError"}, (method, path, status)
