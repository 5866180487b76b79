"""The one extension of a records request (45 CFR 164.524(b)(2)(ii)): when the clinic cannot
act within the first time limit it may extend it once, by no more than 30 days, if within that
first limit it gives the individual a written statement of the reasons and the date it will act.
The due date moves, the first one is kept, the reasons are required, and it is audited.

Today is Wednesday 9 December 2026 (the records-request tests' day)."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from clinic.core.exceptions import Conflict, InvalidInput, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.patients import services_records
from clinic.patients.models import RecordsRequest
from clinic.patients.records_policy import records_request_policy
from tests.helpers import ACTOR_ORDER, client_as, status_word

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 12, 9)
# Received 20 November: due 20 December (30 days); extended, due 19 January 2027 (30 more).
RECEIVED = datetime.date(2026, 11, 20)
FIRST_DUE = datetime.date(2026, 12, 20)
EXTENDED_DUE = datetime.date(2027, 1, 19)
REASONS = "The paper chart from 2019 is in off-site storage; it arrives next week."


def _noon(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(_noon(TODAY), tick=False):
        yield


def log(actor, patient, received_on=RECEIVED):
    return services_records.records_request_log(
        actor=actor,
        patient=patient,
        received_on=received_on,
        requester="patient",
        wanted_format="pdf",
    )


def extend(actor, request, reason=REASONS):
    return services_records.records_request_extend(actor=actor, request=request, reason=reason)


def _extension_events(request):
    return AuditEvent.objects.filter(
        object_type="records_request", object_id=str(request.uuid), summary__contains="extended"
    )


def test_an_extension_moves_the_due_date_by_30_days_keeps_the_first_and_is_audited(
    front_desk, patient
):
    request = log(front_desk, patient)
    assert request.due_on == FIRST_DUE
    extended = extend(front_desk, request)
    extended.refresh_from_db()
    assert (extended.first_due_on, extended.due_on) == (FIRST_DUE, EXTENDED_DUE)
    assert (extended.extended_on, extended.extended_by) == (TODAY, front_desk)
    assert extended.extension_reason == REASONS
    assert extended.status == "open"
    [event] = _extension_events(request)
    assert event.actor == front_desk and event.patient == patient and event.action == "update"
    assert event.summary == "Records request extended: due 12/20/2026, now 01/19/2027"
    assert event.changes["due_on"] == {"before": "2026-12-20", "after": "2027-01-19"}
    assert event.changes["extension_reason"]["after"] == REASONS


def test_only_once(front_desk, clinic_admin, patient):
    request = extend(front_desk, log(front_desk, patient))
    with pytest.raises(Conflict) as refused:
        extend(clinic_admin, request, "Still waiting for the storage company.")
    assert refused.value.code == "records_request_extended"
    assert "one extension" in refused.value.message
    request.refresh_from_db()
    assert (request.due_on, request.extended_by) == (EXTENDED_DUE, front_desk)
    assert _extension_events(request).count() == 1


def test_not_after_the_first_due_date_but_on_it(front_desk, patient):
    late = log(front_desk, patient, received_on=datetime.date(2026, 11, 4))  # due 12/04
    with pytest.raises(Conflict) as refused:
        extend(front_desk, late)
    assert refused.value.code == "records_request_extension_late"
    late.refresh_from_db()
    assert (late.due_on, late.first_due_on) == (datetime.date(2026, 12, 4), None)
    on_the_day = log(front_desk, patient, received_on=datetime.date(2026, 11, 9))  # due today
    assert extend(front_desk, on_the_day).due_on == datetime.date(2027, 1, 8)


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501, "nul\x00"])
def test_the_reasons_are_required(front_desk, patient, reason):
    request = log(front_desk, patient)
    with pytest.raises(InvalidInput) as refused:
        extend(front_desk, request, reason)
    assert "reason" in refused.value.errors
    request.refresh_from_db()
    assert (request.due_on, request.first_due_on) == (FIRST_DUE, None)
    assert not _extension_events(request).exists()


def test_a_closed_request_is_not_extended(front_desk, patient):
    request = log(front_desk, patient)
    services_records.records_request_withdraw(actor=front_desk, request=request, reason="Twice")
    with pytest.raises(Conflict) as refused:
        extend(front_desk, request)
    assert refused.value.code == "records_request_closed"


def test_the_days_are_policy_never_more_than_the_rules_30(front_desk, patient, settings):
    settings.CLINIC_POLICY = {"records_requests": {"extension_days": 10}}
    assert extend(front_desk, log(front_desk, patient)).due_on == datetime.date(2026, 12, 30)
    settings.CLINIC_POLICY = {"records_requests": {"extension_days": 31}}
    with pytest.raises(ImproperlyConfigured, match=r"164\.524\(b\)\(2\)\(ii\)"):
        records_request_policy()


def test_only_the_desk_and_the_administrator_extend(actors, patient):
    request = log(actors["front_desk"], patient)
    for who in ("prescriber", "nurse", "therapist", "billing", "patient_principal"):
        with pytest.raises(PermissionDenied):
            extend(actors[who], request)
    request.refresh_from_db()
    assert request.first_due_on is None
    assert extend(actors["clinic_admin"], request).extended_by == actors["clinic_admin"]


def test_the_database_keeps_an_extension_whole(front_desk, patient):
    request = log(front_desk, patient)
    rows = RecordsRequest.objects.filter(pk=request.pk)
    whole = {
        "first_due_on": FIRST_DUE,
        "due_on": EXTENDED_DUE,
        "extended_on": TODAY,
        "extended_by": front_desk,
        "extension_reason": REASONS,
    }
    for broken in (
        {"extension_reason": ""},  # no reasons
        {"extended_by": None},
        {"extended_on": datetime.date(2026, 12, 21)},  # after the first due date
        {"due_on": FIRST_DUE},  # the due date did not move
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            rows.update(**(whole | broken))
    rows.update(**whole)  # whole, it is accepted


# POST to extend, per actor (ACTOR_ORDER): whether the request was extended.
EXTENDS = {"clinic_admin", "front_desk"}


@pytest.mark.parametrize("who", ACTOR_ORDER)
def test_extend_page_permission_matrix(client, actors, patient, front_desk, who):
    request = log(front_desk, patient)
    response = client_as(client, actors[who]).post(
        reverse("patients:records_request_extend", args=[patient.uuid, request.uuid]),
        {"reason": REASONS},
    )
    request.refresh_from_db()
    assert (request.first_due_on is not None) == (who in EXTENDS)
    if who == "anonymous":
        assert status_word(response) == "login"
    elif who not in EXTENDS:
        assert response.status_code in (403, 404)
        assert not _extension_events(request).exists()


def test_the_desk_extends_from_the_request_page_and_the_dates_show_everywhere(
    client, front_desk, patient
):
    """Received 4 November, due 4 December; extended on 1 December, so on 9 December it is
    not late: due 3 January."""
    client.force_login(front_desk)
    with time_machine.travel(_noon(datetime.date(2026, 12, 1)), tick=False):
        request = log(front_desk, patient, received_on=datetime.date(2026, 11, 4))
        page_url = reverse("patients:records_request_detail", args=[patient.uuid, request.uuid])
        extend_url = reverse("patients:records_request_extend", args=[patient.uuid, request.uuid])
        page = client.get(page_url).content.decode()
        assert "Extend by 30 days" in page and "164.524(b)(2)(ii)" in page
        refused = client.post(extend_url, {"reason": ""})
        assert refused.status_code == 422
        assert "This field is required" in refused.content.decode()
        request.refresh_from_db()
        assert request.first_due_on is None
        done = client.post(extend_url, {"reason": REASONS})
        assert done.status_code == 302
    client.force_login(front_desk)  # eight days idle: signed in again
    page = client.get(page_url).content.decode()
    assert "Due 01/03/2027" in page and "Extended from 12/04/2026" in page
    assert f"Reasons given: {REASONS}" in page
    assert "Extend by 30 days" not in page  # once only
    listed = client.get(reverse("patients:records_request_list")).content.decode()
    assert "Due 01/03/2027" in listed and "Extended from 12/04/2026" in listed
    assert "Late" not in listed
    chart = client.get(reverse("patients:patient_chart", args=[patient.uuid])).content.decode()
    assert "Extended from 12/04/2026" in chart
    home = client.get(reverse("dashboard:home")).content.decode()
    assert "1</strong> open" in home
    assert " late</span>" not in home  # the card counts it by its moved due date


def test_a_late_request_offers_no_extension(client, front_desk, patient):
    client.force_login(front_desk)
    request = log(front_desk, patient, received_on=datetime.date(2026, 11, 4))  # due 12/04
    page = client.get(
        reverse("patients:records_request_detail", args=[patient.uuid, request.uuid])
    ).content.decode()
    assert "Extend by" not in page
    refused = client.post(
        reverse("patients:records_request_extend", args=[patient.uuid, request.uuid]),
        {"reason": REASONS},
    )
    assert refused.status_code == 302
    messages = client.get(refused["Location"]).content.decode()
    assert "within the first time limit" in messages
    request.refresh_from_db()
    assert request.first_due_on is None
