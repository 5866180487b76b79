"""Requests for a copy of a patient's record (issue 16, "right-of-access requests are logged
with the date fulfilled"). The deadline is the HIPAA Privacy Rule's: act within 30 days of
receipt, 45 CFR 164.524(b)(2)(i); a clinic may promise less, never more."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.core.exceptions import Conflict, InvalidInput, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.patients import services_records
from clinic.patients.models import RecordsRequest
from clinic.patients.records_policy import records_request_policy
from clinic.patients.tests.factories import register
from tests.helpers import ACTOR_ORDER, client_as, status_word

pytestmark = pytest.mark.django_db

# A Wednesday; 30 days after 4 November 2026 is 4 December 2026.
TODAY = datetime.date(2026, 12, 9)
RECEIVED = datetime.date(2026, 11, 4)


@pytest.fixture(autouse=True)
def today():
    noon = timezone.make_aware(datetime.datetime.combine(TODAY, datetime.time(12)))
    with time_machine.travel(noon, tick=False):
        yield


def log(actor, patient, **overrides):
    values = {
        "received_on": RECEIVED,
        "requester": "patient",
        "wanted_format": "pdf",
        "deliver_to": "Secure e-mail",
    } | overrides
    return services_records.records_request_log(actor=actor, patient=patient, **values)


def test_a_request_is_due_30_days_after_it_arrived_and_audited(front_desk, patient):
    request = log(front_desk, patient)
    assert request.due_on == datetime.date(2026, 12, 4)  # 164.524(b)(2)(i): 30 days
    assert AuditEvent.objects.filter(
        action="create", object_type="records_request", patient=patient, actor=front_desk
    ).exists()


def test_a_clinic_may_promise_fewer_days_never_more(front_desk, patient, settings):
    settings.CLINIC_POLICY = {"records_requests": {"days_to_act": 15}}
    assert log(front_desk, patient).due_on == datetime.date(2026, 11, 19)
    settings.CLINIC_POLICY = {"records_requests": {"days_to_act": 45}}
    with pytest.raises(ImproperlyConfigured, match="164.524"):
        records_request_policy()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"received_on": TODAY + datetime.timedelta(days=1)}, "received_on"),
        ({"received_on": datetime.date(1999, 12, 31)}, "received_on"),
        ({"requester": "representative"}, "requester_name"),  # who, if not the patient?
        ({"requester": "lawyer"}, "requester"),
        ({"wanted_format": "fax"}, "wanted_format"),
        ({"deliver_to": "x" * 301}, "deliver_to"),
        ({"note": "nul\x00"}, "note"),
    ],
)
def test_bad_input_is_refused_by_field(front_desk, patient, overrides, field):
    with pytest.raises(InvalidInput) as refused:
        log(front_desk, patient, **overrides)
    assert field in refused.value.errors
    assert not RecordsRequest.objects.exists()


def test_fulfilled_once_with_the_day_and_how_never_before_it_arrived(front_desk, patient):
    request = log(front_desk, patient)
    with pytest.raises(InvalidInput) as early:
        services_records.records_request_fulfil(
            actor=front_desk, request=request, fulfilled_on=datetime.date(2026, 11, 3), how="Sent"
        )
    assert "11/04/2026" in early.value.errors["fulfilled_on"][0]
    with pytest.raises(InvalidInput):
        services_records.records_request_fulfil(
            actor=front_desk, request=request, fulfilled_on=TODAY, how=""
        )
    done = services_records.records_request_fulfil(
        actor=front_desk, request=request, fulfilled_on=datetime.date(2026, 11, 20), how="Sent"
    )
    assert (done.status, done.closed_on, done.closed_by) == (
        "fulfilled",
        datetime.date(2026, 11, 20),
        front_desk,
    )
    with pytest.raises(Conflict):
        services_records.records_request_withdraw(actor=front_desk, request=done, reason="Twice")


def test_the_database_refuses_a_closed_request_without_its_day(front_desk, patient):
    request = log(front_desk, patient)
    with pytest.raises(IntegrityError), transaction.atomic():
        RecordsRequest.objects.filter(pk=request.pk).update(status="fulfilled")
    with pytest.raises(IntegrityError), transaction.atomic():
        RecordsRequest.objects.filter(pk=request.pk).update(due_on=datetime.date(2026, 11, 1))


def test_only_the_desk_and_the_administrator_handle_requests(actors, patient):
    for who in ("prescriber", "nurse", "billing", "therapist"):
        with pytest.raises(PermissionDenied):
            log(actors[who], patient)
    assert log(actors["clinic_admin"], patient).logged_by == actors["clinic_admin"]


# GET status per actor (ACTOR_ORDER): the open-request list, the chart's "log" form, the
# request's page, and the whole-record PDF from the chart.
MATRIX = {
    "anonymous": ["login"] * 4,
    "patient_principal": [403] * 4,
    "clinic_admin": [200, 200, 200, 200],
    "prescriber": [403, 403, 403, 200],
    "nurse": [403, 403, 403, 200],
    "therapist": [403, 403, 403, 200],
    "front_desk": [200, 200, 200, 403],
    "billing": [403, 403, 403, 403],
    "prescriber_off_team": [403, 403, 403, 404],
    "nurse_off_team": [403, 403, 403, 404],
    "therapist_off_team": [403, 403, 403, 404],
}


@pytest.mark.parametrize("who", ACTOR_ORDER)
def test_records_request_pages_permission_matrix(client, actors, patient, front_desk, who):
    request = log(front_desk, patient)
    client = client_as(client, actors[who])
    pages = [
        reverse("patients:records_request_list"),
        reverse("patients:records_request_new", args=[patient.uuid]),
        reverse("patients:records_request_detail", args=[patient.uuid, request.uuid]),
        reverse("dashboard:whole_record_download", args=[patient.uuid, "pdf"]),
    ]
    assert [status_word(client.get(url)) for url in pages] == MATRIX[who]
    posted = client.post(
        reverse("patients:records_request_withdraw", args=[patient.uuid, request.uuid]),
        {"reason": "Logged twice"},
    )
    request.refresh_from_db()
    assert (request.status == "withdrawn") == (MATRIX[who][0] == 200), posted


def test_the_desk_logs_a_request_from_the_chart_and_closes_it(client, front_desk, patient):
    client.force_login(front_desk)
    chart = client.get(reverse("patients:patient_chart", args=[patient.uuid]))
    assert b"Log a records request" in chart.content
    assert b"whole-record" not in chart.content  # the file is the care team's to produce
    response = client.post(
        reverse("patients:records_request_new", args=[patient.uuid]),
        {
            "received_on": "2026-11-04",
            "requester": "representative",
            "requester_name": "",
            "wanted_format": "fhir",
        },
    )
    assert response.status_code == 422 and b"Name who asked" in response.content
    response = client.post(
        reverse("patients:records_request_new", args=[patient.uuid]),
        {
            "received_on": "2026-11-04",
            "requester": "representative",
            "requester_name": "Sam Rivera (health care proxy)",
            "wanted_format": "fhir",
        },
    )
    request = RecordsRequest.objects.get()
    assert response.status_code == 302
    page = client.get(response["Location"])
    # Received 11/04, due 12/04, today 12/09: late, and said so.
    assert b"Late: was due 12/04/2026" in page.content
    assert b"The file holds the whole clinical record: the clinic administrator" in page.content
    home = client.get(reverse("dashboard:home"))
    assert b"1 late" in home.content
    client.post(
        reverse("patients:records_request_fulfil", args=[patient.uuid, request.uuid]),
        {"fulfilled_on": "2026-12-09", "how": "Sent by secure e-mail"},
    )
    request.refresh_from_db()
    assert (request.status, request.closed_on) == ("fulfilled", TODAY)
    assert b"1 late" not in client.get(reverse("dashboard:home")).content


def test_the_care_team_downloads_the_whole_record_for_a_request(client, prescriber, patient):
    client.force_login(prescriber)
    chart = client.get(reverse("patients:patient_chart", args=[patient.uuid]))
    assert reverse("dashboard:whole_record_download", args=[patient.uuid, "pdf"]).encode() in (
        chart.content
    )
    response = client.get(reverse("dashboard:whole_record_download", args=[patient.uuid, "pdf"]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(
        action="export", object_type="patient_record", actor=prescriber, patient=patient
    ).exists()
    unknown = reverse("dashboard:whole_record_download", args=[patient.uuid, "docx"])
    assert client.get(unknown).status_code == 404


def test_the_open_list_puts_the_late_first_and_reads_the_same_queries_however_long(
    client, front_desk
):
    client.force_login(front_desk)

    def requests(count, offset, received_on):
        for index in range(count):
            other = register(front_desk, legal_given_name=f"R{offset + index}")
            log(front_desk, other, received_on=received_on)

    requests(1, 0, datetime.date(2026, 12, 1))
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("patients:records_request_list")).status_code == 200
    requests(6, 1, RECEIVED)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("patients:records_request_list"))
    assert len(many) == len(few)
    text = response.content.decode()
    assert text.count("Late: was due 12/04/2026") == 6
    assert text.index("Late: was due") < text.index("Due 12/31/2026")
