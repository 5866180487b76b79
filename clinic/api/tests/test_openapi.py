"""The published API contract: the committed OpenAPI document must match what the code serves.

After an intended API change, regenerate it with
`DEBUG=1 uv run python manage.py export_openapi > docs/openapi.json` and review the diff.
"""

import json
from pathlib import Path

from django.core.management import call_command

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"


def test_served_openapi_matches_the_committed_document(client, capsys):
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200
    call_command("export_openapi")
    exported = json.loads(capsys.readouterr().out)
    assert served.json() == exported
    assert exported == json.loads(COMMITTED.read_text()), (
        "The API changed: regenerate docs/openapi.json (see this module's docstring)."
    )


# Every status each operation of the appointment, treatment-plan, session and alert routers can
# answer with (issue 16): 401/403 for everyone; 404 where a path or body names a record; 409
# where the service refuses a clash or a state; 412/428 for the If-Match of a change; 400/413
# with a body; 422 with any input. Each error with the one envelope.
CHANGE = {"200", "400", "401", "403", "404", "409", "412", "413", "422", "428"}
SESSION = "/api/v1/sessions/{session_uuid}"
ALERT = "/api/v1/alerts/suicidality/{alert_uuid}"
DECLARED = {
    ("get", "/api/v1/appointments"): {"200", "401", "403", "404", "422"},
    ("post", "/api/v1/appointments"): {"201", "400", "401", "403", "404", "409", "413", "422"},
    ("get", "/api/v1/appointments/proposals"): {"200", "401", "403", "404", "409", "422"},
    ("get", "/api/v1/appointments/{appointment_uuid}"): {"200", "401", "403", "404", "422"},
    ("post", "/api/v1/appointments/{appointment_uuid}/reschedule"): CHANGE,
    ("post", "/api/v1/appointments/{appointment_uuid}/cancel"): CHANGE,
    ("post", "/api/v1/appointments/{appointment_uuid}/no-show"): CHANGE,
    ("get", "/api/v1/patients/{patient_uuid}/treatment-plans"): {"200", "401", "403", "404", "422"},
    ("post", "/api/v1/patients/{patient_uuid}/treatment-plans"): {
        "201",
        "400",
        "401",
        "403",
        "404",
        "409",
        "413",
        "422",
    },
    ("post", "/api/v1/patients/{patient_uuid}/treatment-plans/preview"): {
        "200",
        "400",
        "401",
        "403",
        "404",
        "413",
        "422",
    },
    ("get", "/api/v1/patients/{patient_uuid}/treatment-plans/{plan_uuid}"): {
        "200",
        "401",
        "403",
        "404",
        "422",
    },
    # No body: no 400 or 413.
    ("post", "/api/v1/patients/{patient_uuid}/treatment-plans/{plan_uuid}/activate"): CHANGE
    - {"400", "413"},
    ("post", "/api/v1/patients/{patient_uuid}/treatment-plans/{plan_uuid}/complete"): CHANGE,
    ("post", "/api/v1/patients/{patient_uuid}/treatment-plans/{plan_uuid}/discontinue"): CHANGE,
    # The chair side (issue 16): every change of a session takes If-Match, but vitals, which
    # only append (201, no 412/428); a body-less change has no 400/413.
    ("get", "/api/v1/sessions"): {"200", "401", "403", "422"},
    ("post", "/api/v1/sessions/check-in"): {
        "201",
        "400",
        "401",
        "403",
        "404",
        "409",
        "413",
        "422",
    },
    ("get", SESSION): {"200", "401", "403", "404", "422"},
    ("post", SESSION + "/pre-checks"): CHANGE,
    ("post", SESSION + "/vitals"): {"201", "400", "401", "403", "404", "409", "413", "422"},
    ("post", SESSION + "/alerts/{alert_uuid}/acknowledge"): CHANGE,
    ("post", SESSION + "/infusion/start"): CHANGE,
    ("post", SESSION + "/infusion/pause"): CHANGE,
    ("post", SESSION + "/infusion/resume"): CHANGE - {"400", "413"},
    ("post", SESSION + "/infusion/rate"): CHANGE,
    ("post", SESSION + "/infusion/stop"): CHANGE,
    ("post", SESSION + "/injection"): CHANGE,
    ("post", SESSION + "/devices"): CHANGE,
    ("post", SESSION + "/administrations/{administration_uuid}/waste"): CHANGE,
    ("post", SESSION + "/recovery"): CHANGE - {"400", "413"},
    ("post", SESSION + "/discharge"): CHANGE,
    ("post", SESSION + "/stop"): CHANGE,
    ("get", "/api/v1/alerts/chair"): {"200", "401", "403", "422"},
    ("get", "/api/v1/alerts/suicidality"): {"200", "401", "403", "422"},
    ("get", ALERT): {"200", "401", "403", "404", "422"},
    ("post", ALERT + "/acknowledge"): CHANGE,
    ("post", ALERT + "/resolve"): CHANGE,
}
# The ledger (issue 16): reads; creates (201; 409 where the service refuses a state); the two
# mutable records' changes with If-Match. The public consultation request: no 401/403 (no
# credentials to refuse), 429 past the page's rate limit.
LEDGER = "/api/v1/ledger"
READ = {"200", "401", "403", "422"}
CREATE = {"201", "400", "401", "403", "413", "422"}
DECLARED.update(
    {
        ("get", LEDGER + "/stock"): READ,
        ("get", LEDGER + "/entries"): READ | {"404"},
        ("get", LEDGER + "/counts"): READ,
        ("get", LEDGER + "/counts/{count_uuid}"): READ | {"404"},
        ("get", LEDGER + "/discrepancies/{discrepancy_uuid}"): READ | {"404"},
        ("get", LEDGER + "/losses"): READ,
        ("get", LEDGER + "/losses/{report_uuid}"): READ | {"404"},
        ("post", LEDGER + "/receipts"): CREATE,
        ("post", LEDGER + "/containers/{container_uuid}/waste"): CREATE | {"404", "409"},
        ("post", LEDGER + "/counts"): CREATE | {"409"},
        ("post", LEDGER + "/losses"): CREATE,
        ("post", LEDGER + "/discrepancies/{discrepancy_uuid}/resolve"): CHANGE,
        ("post", LEDGER + "/losses/{report_uuid}/notified"): CHANGE,
        ("post", LEDGER + "/losses/{report_uuid}/form106"): CHANGE,
        ("post", "/api/v1/consultations"): {"201", "400", "413", "422", "429"},
    }
)
ENVELOPE = {"$ref": "#/components/schemas/ApiError"}


def test_issue_16_operations_declare_every_status_with_the_envelope(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for (method, path), statuses in DECLARED.items():
        responses = paths[path][method]["responses"]
        assert set(responses) == statuses, (method, path)
        for status in statuses - {"200", "201"}:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == ENVELOPE, (method, path, status)
    for (method, path), statuses in DECLARED.items():
        if "428" in statuses:  # a change: If-Match in, the record's new ETag out
            parameters = {p["name"]: p for p in paths[path][method]["parameters"]}
            assert parameters["If-Match"]["in"] == "header", path
            assert "ETag" in paths[path][method]["responses"]["200"]["headers"], path
    for path in (SESSION, ALERT, "/api/v1/appointments/{appointment_uuid}"):
        assert "ETag" in paths[path]["get"]["responses"]["200"]["headers"], path
    for path in ("/api/v1/sessions/check-in", SESSION + "/vitals"):
        assert "ETag" in paths[path]["post"]["responses"]["201"]["headers"], path


def test_the_ledgers_tags_and_the_public_operation(client):
    document = client.get("/api/v1/openapi.json").json()
    paths = document["paths"]
    for path in ("/discrepancies/{discrepancy_uuid}", "/losses/{report_uuid}"):
        assert "ETag" in paths[LEDGER + path]["get"]["responses"]["200"]["headers"], path
    assert "ETag" in paths[LEDGER + "/losses"]["post"]["responses"]["201"]["headers"]
    public = paths["/api/v1/consultations"]["post"]
    # No security requirement: the document says it takes no credentials.
    assert "security" not in public
    assert "Retry-After" in public["responses"]["429"]["headers"]
    # Every other operation keeps the API's authentication.
    for path, methods in paths.items():
        for method, operation in methods.items():
            if (method, path) != ("post", "/api/v1/consultations"):
                assert operation.get("security"), (method, path)
