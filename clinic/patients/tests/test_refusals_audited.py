"""Issue 13, defect 8: a write refused for lack of role is audited as a denial (pages and API),
once, even when the refusal rolled back the service's transaction; and the role is checked
before anything is looked up, so a refusal tells nothing about which patients or staff exist.
"""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from clinic.core.models import AuditEvent
from clinic.patients.tests.api_helpers import (
    API,
    add_measurement,
    add_member,
    call,
    client_for,
    db_state,
    register,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def chart(make_staff):
    desk = make_staff("front_desk", username="ra_desk")
    nurse = make_staff("nurse", username="ra_nurse")
    therapist = make_staff("therapist", username="ra_therapist")
    patient = register(desk)
    add_member(patient, nurse, "nurse")
    add_member(patient, therapist, "therapist")
    return patient, nurse, therapist


def denials(user) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(actor=user, action="denied"))


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("patch", "", {"city": "Duluth"}),
        (
            "put",
            "/care-team",
            {"primary_prescriber": None, "prescribers": [], "nurses": [], "therapists": []},
        ),
        ("post", "/measurements", {"measured_on": "2026-01-05", "weight_kg": "70.0"}),
    ],
)
def test_an_api_write_refused_for_lack_of_role_is_audited_once(
    chart, make_staff, method, suffix, body
):
    patient, _, _ = chart
    billing = make_staff("billing", username="ra_billing")
    before = db_state()

    response = call(client_for(billing), method, f"{API}/{patient.uuid}{suffix}", body)

    assert response.status_code == 403, response.content
    assert db_state() == before
    [event] = denials(billing)
    assert event.channel == "api"
    assert event.object_id == str(patient.uuid)
    assert "role lacks" in event.summary
    # The role was checked before the patient was looked up: no view of the chart either.
    assert not AuditEvent.objects.filter(actor=billing, action="view").exists()


def test_care_team_put_by_billing_does_not_tell_whether_a_staff_id_exists(chart, make_staff):
    patient, nurse, _ = chart
    billing = make_staff("billing", username="ra_billing")
    client = client_for(billing)
    url = f"{API}/{patient.uuid}/care-team"
    empty = {"primary_prescriber": None, "prescribers": [], "therapists": []}

    known = call(client, "put", url, {**empty, "nurses": [str(nurse.uuid)]})
    unknown = call(client, "put", url, {**empty, "nurses": [str(uuid.uuid4())]})
    no_patient = call(
        client, "put", f"{API}/{uuid.uuid4()}/care-team", {**empty, "nurses": [str(nurse.uuid)]}
    )

    assert known.status_code == unknown.status_code == no_patient.status_code == 403
    assert known.json() == unknown.json() == no_patient.json()
    assert len(denials(billing)) == 3


def test_a_page_write_refused_for_lack_of_role_is_audited(chart, make_staff):
    patient, _, _ = chart
    billing = make_staff("billing", username="ra_billing")
    before = db_state()

    response = client_for(billing).post(
        reverse("patients:patient_edit", kwargs={"patient_uuid": patient.uuid}),
        {"city": "Duluth"},
    )

    assert response.status_code == 403
    assert db_state() == before
    [event] = denials(billing)
    assert event.channel != "api"
    assert event.object_id == str(patient.uuid)


def test_a_care_team_refusal_on_a_page_is_a_403_audited_before_the_record_is_looked_up(chart):
    """A therapist on the team may not correct a measurement: refused (403, audited) whether
    or not the measurement exists, instead of a message after looking it up."""
    patient, nurse, therapist = chart
    measurement = add_measurement(patient, nurse, days_ago=1, weight="70.0")
    client = client_for(therapist)
    before = db_state()

    responses = [
        client.post(
            reverse(
                "patients:measurement_entered_in_error",
                kwargs={"patient_uuid": patient.uuid, "measurement_uuid": key},
            ),
            {"reason": "Scale was not zeroed"},
        )
        for key in (measurement.uuid, uuid.uuid4())
    ]

    assert [r.status_code for r in responses] == [403, 403]
    assert db_state() == before
    assert len(denials(therapist)) == 2


def test_a_refusal_already_audited_where_it_happened_is_not_audited_twice(chart, make_staff):
    patient, _, _ = chart
    desk = make_staff("front_desk", username="ra_desk2")

    response = call(client_for(desk), "get", f"{API}/{patient.uuid}/measurements")

    assert response.status_code == 403
    [event] = denials(desk)
    assert event.summary.startswith("Clinical data refused")


def test_a_refusal_inside_a_service_transaction_is_left_to_the_middleware(chart, make_staff):
    """patient_update refuses inside @transaction.atomic; the denial is written after."""
    from clinic.core.exceptions import PermissionDenied
    from clinic.patients import services

    patient, _, _ = chart
    billing = make_staff("billing", username="ra_billing")
    with pytest.raises(PermissionDenied) as refused:
        services.patient_update(actor=billing, patient=patient, data={"city": "Duluth"})
    assert refused.value.capability == "patient.edit_demographics"
    assert refused.value.audited is False  # audited where the request is answered


def test_a_refusal_a_page_catches_and_shows_as_a_message_is_still_audited(rf, make_staff):
    """The one shared place: RequestContextMiddleware audits every refusal raised while it
    served the request, after the view (and its transaction) is done, even one the view caught
    to show as a message instead of a 403."""
    from django.db import transaction
    from django.http import HttpResponse

    from clinic.core.access import require
    from clinic.core.exceptions import DomainError
    from clinic.core.middleware import RequestContextMiddleware

    billing = make_staff("billing", username="ra_billing")

    def page(request):
        try:
            with transaction.atomic():
                require(request.user, "patient.edit_care_team")
        except DomainError as error:
            return HttpResponse(error.message)
        return HttpResponse("changed")

    request = rf.post("/patients/x/care-team/")
    request.user = billing
    response = RequestContextMiddleware(page)(request)

    assert response.content == b"Your role does not allow this."
    [event] = denials(billing)
    assert "patient.edit_care_team" in event.summary
    assert event.channel == "web"
