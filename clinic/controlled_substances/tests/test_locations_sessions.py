"""A chair-side session draws only from the stock of its own location (issue 14; ADR 0007,
"Locations"): the session's location is its appointment's chair's room's location, and the
ledger finds it from the session reference the session app passes (`session_ref`), so the
session app needs no new argument. A vial kept at another location is refused with the
domain error `container_elsewhere`; nothing is drawn or written.

The sessions are the session tests' own (clinic/treatment_sessions/tests/conftest.py): a
Monday 09:00 appointment in Chair 1 of Room A, which is at the default location; the patient
weighs 80 kg, so the 0.5 mg/kg dose is 40 mg.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings

from clinic.controlled_substances.models import Container, LedgerEntry
from clinic.controlled_substances.tests.conftest import receive
from clinic.core.exceptions import Conflict
from clinic.locations.models import Location, LocationStaff
from clinic.treatment_sessions import services as sessions
from clinic.treatment_sessions.tests.conftest import (  # noqa: F401 — fixtures used by name
    MONDAY,
    at,
    chair,
    clock,
    device_product,
    identity_of,
    im_appointment,
    iv_appointment,
    iv_checked_in,
    iv_cleared,
    pass_prechecks,
    vial_product,
    vials,
    weighed_patient,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def north_vial(prescriber, nurse, vial_product, clock):  # noqa: F811
    """A second location, North, with one vial of its own; the nurse works at the default
    location, the prescriber at both."""
    main = Location.objects.get(is_default=True)
    north = Location.objects.create(
        name="North",
        code="NORTH",
        time_zone=settings.TIME_ZONE,
        dea_registration_number="BN7654321",
    )
    LocationStaff.objects.filter(user__in=[nurse, prescriber]).delete()
    LocationStaff.objects.bulk_create(
        [
            LocationStaff(location=main, user=nurse),
            LocationStaff(location=main, user=prescriber),
            LocationStaff(location=north, user=prescriber),
        ]
    )
    receipt = receive(prescriber, vial_product, containers=1, lot_number="N200", location=north)
    return receipt.containers.get()


def test_an_infusion_at_one_location_cannot_start_from_anothers_vial(
    iv_cleared,  # noqa: F811
    north_vial,
    vials,  # noqa: F811
    nurse,
    clock,  # noqa: F811
):
    clock.move_to(at(MONDAY, 9))
    with pytest.raises(Conflict) as refused:
        sessions.infusion_start(
            actor=nurse, session=iv_cleared, container=north_vial, drawn_mg="50"
        )
    assert refused.value.code == "container_elsewhere"
    assert Container.objects.get(pk=north_vial.pk).balance_mg == Decimal("100")
    # From the session's own location's vial it starts.
    sessions.infusion_start(actor=nurse, session=iv_cleared, container=vials[0], drawn_mg="50")


def test_an_im_dose_at_one_location_cannot_be_drawn_from_anothers_vial(
    im_appointment,  # noqa: F811
    north_vial,
    vials,  # noqa: F811
    nurse,
    clock,  # noqa: F811
):
    clock.move_to(at(MONDAY, 8, 50))
    session = sessions.session_check_in(
        actor=nurse, appointment=im_appointment, identity=identity_of(im_appointment)
    )
    session = pass_prechecks(nurse, session)
    clock.move_to(at(MONDAY, 9))
    with pytest.raises(Conflict) as refused:
        sessions.im_injection_record(
            actor=nurse,
            session=session,
            container=north_vial,
            drawn_mg="40",
            given_mg="40",
            site="deltoid_left",
        )
    assert refused.value.code == "container_elsewhere"
    assert not LedgerEntry.objects.filter(kind="administration").exists()
    sessions.im_injection_record(
        actor=nurse,
        session=session,
        container=vials[0],
        drawn_mg="40",
        given_mg="40",
        site="deltoid_left",
    )
    assert Container.objects.get(pk=vials[0].pk).balance_mg == Decimal("60")
