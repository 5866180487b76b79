"""`seed_demo --patients N --years Y --locations L --seed S`: a network's history in bulk.

The invariants at a small size (30 patients, 1 year, 2 locations): the same seed gives the
same content; the ledger's hash chain and balances verify and its rows stay append-only;
every dose comes from stock at the session's own location; no chair holds two appointments
at once; every questionnaire's score is its instrument's score for its answers, with an alert
wherever the suicidality rule raises one; every date lies within the clinic's plausibility
bounds; each location carries identifiers of the right form.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections import defaultdict
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from clinic.assessments.instruments import get_instrument
from clinic.assessments.models import AlertFollowUp, AssessmentResponse, SuicidalityAlert
from clinic.assessments.suicidality import suicidality_triggers
from clinic.controlled_substances.models import Container, LedgerEntry, Lot
from clinic.core.parsing import EARLIEST_EVENT_AT
from clinic.core.policy import date_policy
from clinic.locations.identifiers import dea_number_problem, npi_problem
from clinic.locations.models import Location
from clinic.patients.models import Patient
from clinic.scheduling.models import Appointment
from clinic.treatment_sessions.models import DoseAdministration, TreatmentSession, VitalsEntry
from clinic.treatment_sessions.rules import rems_form_missing

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
OPTIONS = {"patients": 30, "years": 1, "locations": 2, "seed": 5, "today": TODAY}


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, stderr=StringIO(), **{**OPTIONS, **options})
    return out.getvalue()


def fingerprint() -> str:
    """A digest of the seeded content by public id (uuid), never by row id."""
    columns = [
        (Location, ("code", "name", "dea_registration_number", "service_facility_npi")),
        (Patient, ("uuid", "legal_family_name", "date_of_birth")),
        (Appointment, ("uuid", "chair__uuid", "starts_at", "status")),
        (TreatmentSession, ("uuid", "checked_in_at", "dose_planned_mg")),
        (VitalsEntry, ("uuid", "taken_at", "systolic_mmhg", "spo2_percent")),
        (LedgerEntry, ("uuid", "kind", "container__uuid", "quantity_mg", "balance_after_mg")),
        (AssessmentResponse, ("uuid", "instrument_code", "answers", "total", "taken_at")),
        (SuicidalityAlert, ("uuid", "status", "response__uuid")),
    ]
    parts = [list(model.objects.order_by(names[0]).values_list(*names)) for model, names in columns]
    text = json.dumps(parts, default=str, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


class _Undo(Exception):
    pass


def test_the_same_seed_gives_the_same_history_and_another_seed_another():
    try:
        with transaction.atomic():
            seed()
            first = fingerprint()
            raise _Undo
    except _Undo:
        pass
    try:
        with transaction.atomic():
            seed(seed=6)
            other = fingerprint()
            raise _Undo
    except _Undo:
        pass
    seed()

    assert fingerprint() == first
    assert other != first


def test_the_history_keeps_the_clinic_invariants():
    output = seed()
    sessions = TreatmentSession.objects.count()
    assert sessions > 100 and VitalsEntry.objects.count() > 5 * sessions
    assert "rows" in output  # progress lines: phase, rows, elapsed

    # The ledger's chain and balances verify; its rows still refuse UPDATE.
    verified = StringIO()
    call_command("verify_integrity", stdout=verified)
    assert "Integrity verified." in verified.getvalue()
    table = LedgerEntry._meta.db_table
    # The table's name is the model's own; no input reaches the statement.
    update = f"UPDATE {table} SET reason = 'changed' WHERE id = (SELECT MIN(id) FROM {table})"  # noqa: S608
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(update)

    # Every dose (and every ledger line of a session) comes from stock at its own location.
    for dose in DoseAdministration.objects.select_related(
        "container", "session__appointment__chair__room", "ledger_entry"
    ):
        location_id = dose.session.appointment.chair.room.location_id
        assert dose.container.location_id == location_id
        assert dose.ledger_entry.container_id == dose.container_id
    session_location = {
        str(s.uuid): s.appointment.chair.room.location_id
        for s in TreatmentSession.objects.select_related("appointment__chair__room")
    }
    for entry in LedgerEntry.objects.exclude(session_ref="").select_related("container"):
        assert entry.container.location_id == session_location[entry.session_ref]
    # Every residual drawn and not given is wasted, witnessed by someone else.
    for entry in LedgerEntry.objects.filter(kind="administration"):
        wasted = sum((w.wasted_mg for w in entry.residual_wastes.all()), Decimal(0))
        assert wasted == entry.drawn_mg - entry.given_mg
    for waste in LedgerEntry.objects.filter(kind="waste"):
        assert waste.witness_id is not None and waste.witness_id != waste.actor_id

    # No chair and no patient holds two appointments at once.
    for key in ("chair_id", "patient_id"):
        held = defaultdict(list)
        for appointment in Appointment.objects.exclude(status="cancelled"):
            held[getattr(appointment, key)].append((appointment.starts_at, appointment.ends_at))
        for spans in held.values():
            spans.sort()
            for (_, ends), (starts, _) in zip(spans, spans[1:], strict=False):
                assert ends <= starts

    # Every score is the instrument's own for the answers; alerts where the rule raises one.
    alerted = set(SuicidalityAlert.objects.values_list("response_id", flat=True))
    alerted |= set(AlertFollowUp.objects.values_list("response_id", flat=True))
    for response in AssessmentResponse.objects.all():
        instrument = get_instrument(response.instrument_code)
        result = instrument.score(response.answers)
        assert (response.total, response.severity, response.complete) == (
            result.total,
            result.severity or "",
            result.complete,
        )
        assert response.flags == list(result.flags)
        raises = bool(suicidality_triggers(instrument, response.answers, result))
        assert raises == (response.pk in alerted)
    assert AssessmentResponse.objects.filter(instrument_code="phq9").count() > sessions

    # Dates: nothing before 2000 or before birth, nothing seen after today, bookings and
    # expiries within the plausibility bounds.
    policy = date_policy()
    start_of_today = datetime.datetime.combine(TODAY, datetime.time.min, tzinfo=datetime.UTC)
    horizon = TODAY + datetime.timedelta(days=policy.booking_days_ahead)
    oldest = TODAY.replace(year=TODAY.year - policy.oldest_patient_age_years)
    for patient in Patient.objects.all():
        assert oldest <= patient.date_of_birth < TODAY
    born = dict(Patient.objects.values_list("pk", "date_of_birth"))
    for session in TreatmentSession.objects.all():
        assert EARLIEST_EVENT_AT <= session.checked_in_at < start_of_today
        assert session.checked_in_at.date() > born[session.patient_id]
        assert session.discharged_at > session.checked_in_at
    for appointment in Appointment.objects.all():
        assert appointment.starts_at >= EARLIEST_EVENT_AT
        assert appointment.starts_at.date() <= horizon
        assert (appointment.status == "booked") == (appointment.starts_at >= start_of_today)
    for response in AssessmentResponse.objects.all():
        assert born[response.patient_id] < response.taken_at.date()
        assert response.taken_at < start_of_today
    for lot in Lot.objects.all():
        assert lot.expiry <= TODAY + datetime.timedelta(days=policy.expiry_days_ahead)
    assert Container.objects.filter(balance_mg__lt=0).count() == 0

    # Every session has its nurse's note; every esketamine session its REMS monitoring form,
    # answered in full.
    assert not TreatmentSession.objects.filter(nurse_note="").exists()
    esketamine = TreatmentSession.objects.filter(route="esketamine")
    assert esketamine.exists()
    for session in esketamine:
        assert rems_form_missing(session.rems_form) == []

    # The locations: the default and one more, each with identifiers of the right form.
    locations = list(Location.objects.all())
    assert len(locations) == 2
    assert len({loc.dea_registration_number for loc in locations}) == 2
    for location in locations:
        assert npi_problem(location.service_facility_npi) is None
        assert dea_number_problem(location.dea_registration_number) is None
        assert location.place_of_service_code == "11"
        assert location.spravato_rems_setting_id
        assert location.rooms.count() == 2


def test_refuses_a_clinic_that_already_has_patients():
    seed()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no patients"):
        seed()


def test_past_sessions_are_signed_over_their_record_and_the_last_days_wait_for_signature():
    from clinic.treatment_sessions.services.signature import content_sha256
    from clinic.treatment_sessions.state import session_content

    seed()
    cutoff = datetime.datetime.combine(TODAY, datetime.time.min, tzinfo=datetime.UTC)
    signed = TreatmentSession.objects.filter(signed_at__isnull=False).select_related(
        "patient", "signed_by"
    )
    assert signed.count() > 100
    for session in signed[:40]:
        # Signed by a prescriber on the patient's care team, after the discharge, over the
        # same record the signing service builds.
        assert session.signed_by.role == "prescriber"
        assert session.patient.care_team_members.filter(staff=session.signed_by).exists()
        assert session.discharged_at < session.signed_at
        assert session.signed_content == session_content(session)
        assert session.signed_sha256 == content_sha256(session.signed_content)
    # Sessions that ended in the last two days before the seed's day are the ones to sign.
    recent = cutoff - datetime.timedelta(days=2)
    unsigned = TreatmentSession.objects.filter(signed_at__isnull=True)
    assert not unsigned.filter(discharged_at__lt=recent).exists()
    assert not signed.filter(discharged_at__gte=recent).exists()
