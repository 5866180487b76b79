"""The database's own guarantees for sessions: writes that go around the services still cannot
leave a stopped session without its reason, a signature without its hash, a device counted twice
or an alert acknowledged without an action."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from clinic.controlled_substances.services import administration_record
from clinic.treatment_sessions.models import (
    DoseAdministration,
    InfusionEvent,
    SessionAlert,
    SessionOverride,
    SideEffect,
    TreatmentSession,
    VitalsEntry,
)
from clinic.treatment_sessions.tests.conftest import MONDAY, at, fresh

pytestmark = pytest.mark.django_db


def _refused(write):
    with pytest.raises(IntegrityError), transaction.atomic():
        write()


def test_a_stopped_session_needs_a_reason(iv_checked_in):
    rows = TreatmentSession.objects.filter(pk=iv_checked_in.pk)

    _refused(lambda: rows.update(phase="stopped", stop_reason=""))

    assert fresh(iv_checked_in).phase == "checked_in"
    rows.update(phase="stopped", stop_reason="Unwell")
    assert fresh(iv_checked_in).phase == "stopped"


def test_a_signed_session_needs_its_hash(iv_checked_in):
    rows = TreatmentSession.objects.filter(pk=iv_checked_in.pk)

    _refused(lambda: rows.update(signed_at=timezone.now(), signed_sha256=""))

    assert not fresh(iv_checked_in).is_signed


def test_a_device_number_is_counted_once_per_session(esketamine_dosed, nurse, patient, devices):
    entry = administration_record(
        actor=nurse, container=devices[2], patient=patient, drawn_mg="28", given_mg="28"
    )

    _refused(
        lambda: DoseAdministration.objects.create(
            session=esketamine_dosed,
            kind="esketamine_device",
            ledger_entry=entry,
            container=devices[2],
            drawn_mg=Decimal(28),
            given_mg=Decimal(28),
            given_at=at(MONDAY, 9, 10),
            device_number=2,
            recorded_by=nurse,
        )
    )

    assert sorted(
        DoseAdministration.objects.filter(session=esketamine_dosed).values_list(
            "device_number", flat=True
        )
    ) == [1, 2]


def test_an_acknowledged_alert_needs_an_action(iv_running, nurse):
    from clinic.treatment_sessions import services

    _entry, alerts = services.vitals_record(actor=nurse, session=iv_running, spo2_percent=89)
    rows = SessionAlert.objects.filter(pk=alerts[0].pk)

    _refused(lambda: rows.update(acknowledged_at=timezone.now(), acknowledged_by=nurse))

    assert rows.get().acknowledged_at is None


def test_an_alert_is_raised_once_per_reading_and_code(iv_running, nurse):
    from clinic.treatment_sessions import services

    _entry, alerts = services.vitals_record(actor=nurse, session=iv_running, spo2_percent=89)
    alert = alerts[0]

    _refused(
        lambda: SessionAlert.objects.create(
            session=iv_running,
            vitals=alert.vitals,
            code=alert.code,
            severity="critical",
            message="Again",
        )
    )


def test_an_override_needs_a_reason(iv_checked_in, prescriber):
    _refused(
        lambda: SessionOverride.objects.create(
            session=iv_checked_in, kind="pre_checks", prescriber=prescriber, reason=""
        )
    )


def test_a_pause_needs_a_reason(iv_running, nurse):
    _refused(
        lambda: InfusionEvent.objects.create(
            session=iv_running, kind="pause", occurred_at=at(MONDAY, 9, 5), recorded_by=nurse
        )
    )


def test_an_other_side_effect_needs_its_description(iv_running, nurse):
    _refused(
        lambda: SideEffect.objects.create(
            session=iv_running,
            kind="other",
            severity="mild",
            noticed_at=at(MONDAY, 9, 5),
            recorded_by=nurse,
        )
    )


def test_a_blood_pressure_has_both_values_or_neither(iv_running, nurse):
    _refused(
        lambda: VitalsEntry.objects.create(
            session=iv_running,
            taken_at=at(MONDAY, 9, 5),
            phase="dosing",
            systolic_mmhg=120,
            recorded_by=nurse,
        )
    )


def test_the_dose_given_is_never_more_than_drawn(iv_stopped):
    rows = DoseAdministration.objects.filter(session=iv_stopped)

    _refused(lambda: rows.update(given_mg=Decimal("60")))

    assert rows.get().given_mg == Decimal("40.000")


def test_one_session_per_appointment(iv_checked_in, nurse):
    _refused(
        lambda: TreatmentSession.objects.create(
            appointment=iv_checked_in.appointment,
            patient=iv_checked_in.patient,
            route="iv",
            policy_values={},
            checked_in_at=at(MONDAY, 8, 55),
            checked_in_by=nurse,
        )
    )


def test_open_and_signed_read_from_the_phase_and_signature(iv_checked_in):
    assert iv_checked_in.is_open and not iv_checked_in.is_signed
    assert TreatmentSession.objects.open().filter(pk=iv_checked_in.pk).exists()

    TreatmentSession.objects.filter(pk=iv_checked_in.pk).update(
        phase="stopped", stop_reason="Unwell"
    )

    assert not fresh(iv_checked_in).is_open
    assert not TreatmentSession.objects.open().filter(pk=iv_checked_in.pk).exists()
