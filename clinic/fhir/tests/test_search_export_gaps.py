"""What issue 16 left of /fhir/R4/: `_lastUpdated` on Patient and Appointment searches,
`_since` on `$export`, the per-user rate limit (429 with Retry-After) and the base URL of
KetaCare's own identifiers as a setting.

The clock is the session tests' (time-machine, Monday 2 June 2031, America/New_York, 08:30):
the weight and the plan are recorded at 08:30, the IV session's reading at 08:50 and its
infusion (the session last changed) at 09:40."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from clinic.fhir import terminology
from clinic.fhir.models import BulkExport
from clinic.fhir.tests.bulk_helpers import download, kick_off, poll
from clinic.fhir.tests.helpers import bearer, entries, outcome
from clinic.treatment_sessions.tests.conftest import MONDAY, at

pytestmark = pytest.mark.django_db

UTC = datetime.UTC


def _get(client, path, who):
    return client.get(path.replace("+", "%2B"), **who)


def _ids(response) -> list[str]:
    return [resource["id"] for resource in entries(response)]


def _params(resource_type: str) -> set[str]:
    from clinic.fhir.capability import search_params

    return search_params(resource_type)


def test_patient_search_narrows_by_last_updated(client, front_desk):
    from clinic.patients.tests.factories import register

    with time_machine.travel(datetime.datetime(2026, 3, 2, 15, tzinfo=UTC), tick=False):
        march = register(front_desk, legal_given_name="Ada", phone_mobile="(555) 010-1111")
    with time_machine.travel(datetime.datetime(2026, 5, 4, 15, tzinfo=UTC), tick=False):
        may = register(front_desk, legal_given_name="Bea", phone_mobile="(555) 010-2222")
    desk = bearer(front_desk)
    assert _ids(_get(client, "/fhir/R4/Patient?_lastUpdated=ge2026-04-01", desk)) == [str(may.uuid)]
    assert _ids(_get(client, "/fhir/R4/Patient?_lastUpdated=lt2026-04-01", desk)) == [
        str(march.uuid)
    ]
    [found] = entries(_get(client, "/fhir/R4/Patient?_lastUpdated=2026-03-02", desk))
    assert datetime.datetime.fromisoformat(found["meta"]["lastUpdated"]) == datetime.datetime(
        2026, 3, 2, 15, tzinfo=UTC
    )
    response = _get(client, "/fhir/R4/Patient?_lastUpdated=ge2026-04-01", desk)
    assert response.json()["total"] == 1
    # With _id it narrows the one patient named, too.
    assert (
        _ids(_get(client, f"/fhir/R4/Patient?_id={march.uuid}&_lastUpdated=ge2026-04-01", desk))
        == []
    )
    # And by POST with the MRN.
    mrn_search = client.post(
        "/fhir/R4/Patient/_search",
        {"identifier": may.mrn, "_lastUpdated": "lt2026-04-01"},
        **desk,
    )
    assert _ids(mrn_search) == []
    outcome(_get(client, "/fhir/R4/Patient?_lastUpdated=2026-02-30", desk), 400, "invalid")
    assert "_lastUpdated" in _params("Patient")


def test_appointment_search_narrows_by_last_updated(
    client, front_desk, patient, iv_appointment, clock
):
    """Booked at 08:30 on Monday; cancelled on Wednesday at 10:00."""
    desk = bearer(front_desk)
    search = f"/fhir/R4/Appointment?patient={patient.uuid}"
    assert _ids(_get(client, f"{search}&_lastUpdated=2031-06-02", desk)) == [
        str(iv_appointment.uuid)
    ]
    assert _ids(_get(client, f"{search}&_lastUpdated=ge2031-06-03", desk)) == []
    clock.move_to(at(MONDAY + datetime.timedelta(days=2), 10, 0))
    iv_appointment.status, iv_appointment.status_reason = "cancelled", "The patient has flu"
    iv_appointment.save()
    [found] = entries(_get(client, f"{search}&_lastUpdated=ge2031-06-03", desk))
    assert found["status"] == "cancelled"
    assert datetime.datetime.fromisoformat(found["meta"]["lastUpdated"]) == at(
        MONDAY + datetime.timedelta(days=2), 10, 0
    )
    assert _ids(_get(client, f"{search}&_lastUpdated=lt2031-06-03", desk)) == []
    outcome(_get(client, f"{search}&_lastUpdated=ap2031-06-02", desk), 400, "not-supported")


def test_the_capability_statement_lists_last_updated_on_patient_and_appointment(client):
    statement = client.get("/fhir/R4/metadata").json()
    CapabilityStatement.model_validate(statement)
    for resource in statement["rest"][0]["resource"]:
        if resource["type"] in ("Patient", "Appointment"):
            assert "_lastUpdated" in {p["name"] for p in resource["searchParam"]}


def test_since_exports_only_what_changed_since(
    client, django_capture_on_commit_callbacks, nurse, patient, iv_stopped
):
    since = "2031-06-02T09:00:00-04:00"  # after the plan and the weight, before the infusion
    started = kick_off(
        client,
        django_capture_on_commit_callbacks,
        nurse,
        f"Patient/{patient.uuid}/$export",
        _since=since,
    )
    assert started.status_code == 202
    assert BulkExport.objects.get().since == datetime.datetime.fromisoformat(since)
    manifest = poll(client, nurse, started).json()
    assert manifest["request"].endswith("_since=2031-06-02T09%3A00%3A00-04%3A00")
    got = {entry["type"]: download(client, nurse, entry["url"]) for entry in manifest["output"]}
    assert "Encounter" in got and "MedicationAdministration" in got  # changed at 09:40
    assert "CarePlan" not in got and "MedicationRequest" not in got  # made at 08:30
    observations = [o["id"].rsplit("-", 1)[1] for o in got.get("Observation", [])]
    assert "weight" not in observations  # 08:30
    cutoff = datetime.datetime.fromisoformat(since)
    for kind, resources in got.items():
        for resource in resources:
            if kind == "Practitioner":
                assert "meta" not in resource  # no change time: always kept
            else:
                assert datetime.datetime.fromisoformat(resource["meta"]["lastUpdated"]) >= cutoff


def test_since_at_the_instant_of_a_change_keeps_it(
    client, django_capture_on_commit_callbacks, nurse, patient, iv_stopped
):
    started = kick_off(
        client,
        django_capture_on_commit_callbacks,
        nurse,
        f"Patient/{patient.uuid}/$export",
        _since=at(MONDAY, 9, 40).isoformat(),
        _type="Encounter",
    )
    [entry] = poll(client, nurse, started).json()["output"]
    assert len(download(client, nurse, entry["url"])) == 1


def test_the_fhir_api_is_rate_limited_per_user(client, settings, actors, patient):
    settings.FHIR_RATE_LIMIT_COUNT = 2
    settings.FHIR_RATE_LIMIT_WINDOW_MIN = 1
    desk = bearer(actors["front_desk"])
    second_token_of_the_desk = bearer(actors["front_desk"])
    read = f"/fhir/R4/Patient/{patient.uuid}"
    assert client.get(read, **desk).status_code == 200
    assert client.get(read, **second_token_of_the_desk).status_code == 200
    refused = client.get(read, **desk)
    message = outcome(refused, 429, "throttled")
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert f"{refused['Retry-After']} s" in message
    # Another token of the same person is no way round it.
    outcome(client.get(read, **second_token_of_the_desk), 429, "throttled")
    # Someone else has their own count; the public CapabilityStatement is not counted.
    assert client.get(read, **bearer(actors["prescriber"])).status_code == 200
    assert client.get("/fhir/R4/metadata").status_code == 200
    # A bad token is refused as before, never counted against anyone.
    outcome(client.get(read, HTTP_AUTHORIZATION="Bearer nope"), 401, "login")


def test_the_window_lapses(client, settings, actors, patient):
    settings.FHIR_RATE_LIMIT_COUNT = 1
    desk = bearer(actors["front_desk"])
    read = f"/fhir/R4/Patient/{patient.uuid}"
    with time_machine.travel(datetime.datetime(2026, 12, 1, 9, tzinfo=UTC), tick=False) as t:
        assert client.get(read, **desk).status_code == 200
        assert client.get(read, **desk).status_code == 429
        t.shift(datetime.timedelta(seconds=61))
        # The in-memory cache expires by the clock too.
        assert client.get(read, **desk).status_code == 200


def test_the_base_url_is_a_setting_with_todays_value_by_default(settings):
    assert settings.KETACARE_FHIR_BASE == terminology.KETACARE_BASE
    assert terminology.KETACARE_BASE == "https://ketacare.example/fhir"
    assert terminology.MRN_SYSTEM == "https://ketacare.example/fhir/sid/mrn"


def test_the_base_url_comes_from_the_environment():
    code = (
        "from clinic.fhir import terminology as t; "
        "print(t.MRN_SYSTEM, t.INSTRUMENT_SYSTEM, t.questionnaire_url('phq9'))"
    )
    env = {**os.environ, "KETACARE_FHIR_BASE": "https://fhir.clinic.example.org/ "}
    printed = subprocess.run(  # noqa: S603  (this interpreter, a fixed program)
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert printed == [
        "https://fhir.clinic.example.org/sid/mrn",
        "https://fhir.clinic.example.org/CodeSystem/instrument",
        "https://fhir.clinic.example.org/Questionnaire/phq9",
    ]


def test_a_setting_that_differs_from_the_environment_stops_start_up(settings):
    from django.apps import apps

    settings.KETACARE_FHIR_BASE = "https://elsewhere.example/fhir"
    with pytest.raises(ImproperlyConfigured, match="KETACARE_FHIR_BASE"):
        apps.get_app_config("fhir").ready()
