"""The floor per location (issue 14): the chair board, the day list and the REMS list show the
location one works at; a nurse of one location cannot reach another's (not by the switcher,
not by `?location=`): a 403, audited. The clinic administrator may list every location. The
REMS form carries the location's own REMS setting ID (each location is its own certified
setting), the clinic's setting only when the location has none.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.controlled_substances.tests.conftest import receive
from clinic.core.exceptions import InvalidInput, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.locations import services as locations
from clinic.locations.models import Location, LocationStaff
from clinic.patients.services import care_team_set
from clinic.patients.tests.factories import register
from clinic.scheduling import services as scheduling
from clinic.scheduling.models import Appointment
from clinic.treatment_sessions import services
from clinic.treatment_sessions.models import TreatmentSession
from clinic.treatment_sessions.page import usable_containers
from clinic.treatment_sessions.state import rems_form_prefill
from clinic.treatment_sessions.tests.conftest import MONDAY, at, fresh, identity_of
from tests.helpers import text_drawn_in_pdf

pytestmark = pytest.mark.django_db

BOARD_URL = reverse("treatment_sessions:board")
DAY_URL = reverse("treatment_sessions:day")
REMS_URL = reverse("treatment_sessions:rems_due")
SCHEDULE_URL = reverse("scheduling:calendar")


@pytest.fixture
def main():
    return Location.objects.get(is_default=True)


@pytest.fixture
def riverside(clinic_admin, main, nurse, prescriber, front_desk, clock):
    """A second location with one chair; `nurse` (and the prescriber, front desk) work at the
    main location only."""
    location = locations.location_open(
        actor=clinic_admin,
        details=locations.LocationDetails(
            name="Riverside", code="RVS", time_zone="America/New_York"
        ),
    )
    locations.location_staff_set(
        actor=clinic_admin, location=main, staff_ids=[nurse.pk, prescriber.pk, front_desk.pk]
    )
    room = scheduling.room_create(actor=clinic_admin, name="River Room", location=location)
    scheduling.chair_create(actor=clinic_admin, room=room, name="River 1")
    return location


@pytest.fixture
def river_nurse(make_staff, clinic_admin, riverside):
    person = make_staff("nurse", username="rivernurse")
    locations.location_staff_set(actor=clinic_admin, location=riverside, staff_ids=[person.pk])
    return person


@pytest.fixture
def river_booking(riverside, river_nurse, front_desk):
    """A patient booked at 11:00 today in Riverside's chair."""
    patient = register(front_desk, legal_given_name="Riley", email="riley@example.org")
    return Appointment.objects.create(
        patient=patient,
        chair=riverside.rooms.get().chairs.get(),
        nurse=river_nurse,
        starts_at=at(MONDAY, 11),
        ends_at=at(MONDAY, 12),
        route="iv",
        created_by=front_desk,
    )


def _page(client, user, url):
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


# --------------------------------------------------------------------------- each sees their own


def test_each_nurse_sees_only_her_location_s_chairs(client, nurse, river_nurse, chair):
    assert "River 1" not in _page(client, nurse, BOARD_URL)
    assert "Chair 1" in _page(client, nurse, BOARD_URL)
    river = _page(client, river_nurse, BOARD_URL)
    assert "River 1" in river and "Chair 1" not in river


def test_the_day_list_is_the_location_s(client, nurse, river_nurse, river_booking, iv_appointment):
    at_main = _page(client, nurse, DAY_URL)
    assert "River 1" not in at_main and "Chair 1" in at_main
    at_river = _page(client, river_nurse, DAY_URL)
    assert "River 1" in at_river and "Chair 1" not in at_river


def test_the_schedule_is_the_location_s(client, nurse, river_nurse, river_booking):
    url = f"{SCHEDULE_URL}?date={MONDAY.isoformat()}"
    assert "River 1" not in _page(client, nurse, url)
    assert "River 1" in _page(client, river_nurse, url)


@pytest.mark.parametrize("url", [BOARD_URL, DAY_URL, REMS_URL, SCHEDULE_URL])
def test_another_location_by_query_parameter_is_refused_and_audited(client, nurse, riverside, url):
    client.force_login(nurse)
    response = client.get(f"{url}?location={riverside.uuid}")
    assert response.status_code == 403
    assert AuditEvent.objects.filter(actor=nurse, action="denied").count() == 1
    # Nor every location at once.
    assert client.get(f"{url}?location=all").status_code == 403


@pytest.mark.parametrize("url", [BOARD_URL, DAY_URL, REMS_URL, SCHEDULE_URL])
def test_one_s_own_location_by_query_parameter_is_shown(client, nurse, main, url):
    client.force_login(nurse)
    assert client.get(f"{url}?location={main.uuid}").status_code == 200


def test_a_nurse_who_switched_sees_the_new_location_s_board(
    client, clinic_admin, nurse, main, riverside
):
    locations.location_staff_set(actor=clinic_admin, location=riverside, staff_ids=[nurse.pk])
    client.force_login(nurse)
    client.post(reverse("locations:choose"), {"location": str(riverside.uuid)})
    assert "River 1" in client.get(BOARD_URL).content.decode()


def test_the_admin_lists_every_location_with_a_location_column(
    client, clinic_admin, river_booking, iv_appointment
):
    page = _page(client, clinic_admin, f"{DAY_URL}?location=all")
    assert "River 1" in page and "Chair 1" in page and "RVS" in page
    assert "at every location" in page
    # The chair board is one location's.
    assert client.get(f"{BOARD_URL}?location=all").status_code == 404
    assert "River 1" in _page(
        client, clinic_admin, f"{BOARD_URL}?location={river_booking.chair.room.location.uuid}"
    )


# --------------------------------------------------------------------------- REMS


def test_the_rems_list_is_the_location_s(client, nurse, river_nurse, esketamine_dosed):
    label = esketamine_dosed.patient.display_name
    assert label in _page(client, nurse, REMS_URL)
    assert label not in _page(client, river_nurse, REMS_URL)


def test_the_rems_form_uses_the_location_s_setting_id(settings, main, esketamine_dosed):
    settings.SPRAVATO_REMS_SETTING_ID = "HCS-CLINIC"
    main.spravato_rems_setting_id = "HCS-MAIN-7"
    main.save()
    assert rems_form_prefill(fresh(esketamine_dosed))["setting_id"] == "HCS-MAIN-7"
    main.spravato_rems_setting_id = ""
    main.save()
    assert rems_form_prefill(fresh(esketamine_dosed))["setting_id"] == "HCS-CLINIC"


# --------------------------------------------------------------------------- query counts


def _grow(clinic_admin, n: int) -> None:
    """`n` more locations, each with a room of three chairs."""
    for i in range(n):
        place = locations.location_open(
            actor=clinic_admin,
            details=locations.LocationDetails(
                name=f"Site {i}", code=f"S{i}", time_zone="America/New_York"
            ),
        )
        room = scheduling.room_create(actor=clinic_admin, name="Room", location=place)
        for c in range(3):
            scheduling.chair_create(actor=clinic_admin, room=room, name=f"Chair {c}")


def _board_queries(client) -> int:
    client.get(BOARD_URL)  # the session and the first poll's one-off reads
    with CaptureQueriesContext(connection) as captured:
        assert client.get(BOARD_URL).status_code == 200
    return len(captured.captured_queries)


def test_the_board_reads_the_same_queries_however_many_locations_and_chairs(
    client, clinic_admin, nurse, riverside, chair, iv_appointment, django_assert_num_queries
):
    client.force_login(nurse)
    small = _board_queries(client)
    _grow(clinic_admin, 5)
    for n in range(5):
        scheduling.chair_create(actor=clinic_admin, room=chair.room, name=f"Extra {n}")
    client.get(BOARD_URL)
    with django_assert_num_queries(small):
        assert client.get(BOARD_URL).status_code == 200


def test_the_day_list_shows_the_location_s_local_time(
    client, clinic_admin, front_desk, make_staff, clock
):
    """A location in Los Angeles: 11:00 in New York (the test clinic's zone) is 08:00 there."""
    pacific = locations.location_open(
        actor=clinic_admin,
        details=locations.LocationDetails(
            name="Pacific", code="PAC", time_zone="America/Los_Angeles"
        ),
    )
    west_nurse = make_staff("nurse", username="westnurse")
    locations.location_staff_set(actor=clinic_admin, location=pacific, staff_ids=[west_nurse.pk])
    room = scheduling.room_create(actor=clinic_admin, name="Bay", location=pacific)
    Appointment.objects.create(
        patient=register(front_desk, legal_given_name="Wes"),
        chair=scheduling.chair_create(actor=clinic_admin, room=room, name="Bay 1"),
        nurse=west_nurse,
        starts_at=at(MONDAY, 11),
        ends_at=at(MONDAY, 12),
        route="iv",
        created_by=front_desk,
    )
    page = _page(client, west_nurse, DAY_URL)
    assert "<strong>08:00</strong>–09:00" in page


# --------------------------------------------------------------------------- one session, one place
# A session, its check-in and its REMS form are the location's of its chair: a nurse of another
# location is refused them as she is refused that location's chair board (403, audited), even
# when the patient is on her care team (the care team is the network's). The clinic
# administrator reaches every location; a clinic of one location sees no change.

REFUSAL = "Refused {method} {route}: You do not work at that location."


@pytest.fixture
def river_nurse_on_the_team(river_nurse, front_desk, prescriber, nurse, patient):
    """`river_nurse` (Riverside only) joins `patient`'s care team."""
    care_team_set(
        actor=front_desk,
        patient=patient,
        primary_prescriber=prescriber,
        nurses=[nurse, river_nurse],
    )
    return river_nurse


def _refusals(user):
    return list(
        AuditEvent.objects.filter(actor=user, action="denied").values_list("summary", flat=True)
    )


def _session_url(name, session):
    return reverse(f"treatment_sessions:{name}", args=[session.uuid])


def test_a_nurse_of_another_location_reads_the_session_but_cannot_chart_there(
    client, riverside, river_nurse_on_the_team, iv_checked_in
):
    """The care team is the network's: she may read the record, as the prescriber who signs
    it may; the page says where the session is and offers her no chair-side entry."""
    client.force_login(river_nurse_on_the_team)
    response = client.get(_session_url("detail", iv_checked_in))
    html = response.content.decode()
    assert response.status_code == 200
    main = iv_checked_in.appointment.chair.room.location
    assert f"This session is at <strong>{main.name}</strong>, where you do not work" in html
    assert _session_url("vitals", iv_checked_in) not in html
    assert AuditEvent.objects.filter(
        actor=river_nurse_on_the_team, action="view", object_type="treatment_session"
    ).exists()


def test_the_session_s_own_nurse_sees_no_such_note_and_charts(client, nurse, iv_checked_in):
    client.force_login(nurse)
    html = client.get(_session_url("detail", iv_checked_in)).content.decode()
    assert "where you do not work" not in html
    assert _session_url("vitals", iv_checked_in) in html


def test_a_nurse_of_another_location_cannot_chart_on_the_session(
    client, riverside, river_nurse_on_the_team, iv_checked_in
):
    client.force_login(river_nurse_on_the_team)
    response = client.post(
        _session_url("vitals", iv_checked_in),
        {"vitals-systolic_mmhg": "128", "vitals-diastolic_mmhg": "78"},
    )
    assert response.status_code == 403
    assert not fresh(iv_checked_in).vitals.exists()
    assert len(_refusals(river_nurse_on_the_team)) == 1


def test_a_nurse_of_another_location_is_refused_the_rems_form_but_reads_its_pdf(
    client, riverside, river_nurse_on_the_team, esketamine_dosed
):
    client.force_login(river_nurse_on_the_team)
    assert client.get(_session_url("rems_form", esketamine_dosed)).status_code == 403
    assert client.post(_session_url("rems_form", esketamine_dosed), {}).status_code == 403
    assert len(_refusals(river_nurse_on_the_team)) == 2
    assert fresh(esketamine_dosed).rems_form in (None, {})
    # The PDF is a read of the record: the care team's, at any location.
    assert client.get(_session_url("rems_pdf", esketamine_dosed)).status_code == 200


def test_a_nurse_of_another_location_cannot_check_the_patient_in(
    client, riverside, river_nurse_on_the_team, iv_appointment
):
    client.force_login(river_nurse_on_the_team)
    url = reverse("treatment_sessions:check_in", args=[iv_appointment.uuid])
    assert client.get(url).status_code == 403
    response = client.post(
        url,
        {
            "full_name_confirmed": "on",
            "stated_date_of_birth": iv_appointment.patient.date_of_birth.isoformat(),
            "assigned_nurse": str(iv_appointment.nurse.uuid),
        },
    )
    assert response.status_code == 403
    assert not TreatmentSession.objects.exists()
    assert Appointment.objects.get(pk=iv_appointment.pk).status == "booked"
    assert sorted(_refusals(river_nurse_on_the_team)) == [
        REFUSAL.format(method=method, route="sessions/check-in/<uuid:appointment_uuid>/")
        for method in ("GET", "POST")
    ]


def test_the_check_in_service_refuses_another_location_s_nurse_too(
    riverside, river_nurse_on_the_team, iv_appointment
):
    with pytest.raises(PermissionDenied):
        services.session_check_in(
            actor=river_nurse_on_the_team,
            appointment=iv_appointment,
            identity=identity_of(iv_appointment),
        )
    assert not TreatmentSession.objects.exists()


def test_the_nurse_of_the_session_s_own_location_works_on(client, riverside, nurse, iv_checked_in):
    client.force_login(nurse)
    assert client.get(_session_url("detail", iv_checked_in)).status_code == 200


def test_the_clinic_administrator_opens_a_session_at_any_location(
    client, clinic_admin, riverside, iv_checked_in
):
    assert not LocationStaff.objects.filter(user=clinic_admin).exists()
    client.force_login(clinic_admin)
    assert client.get(_session_url("detail", iv_checked_in)).status_code == 200
    assert not _refusals(clinic_admin)


def test_a_clinic_of_one_location_sees_no_change(client, nurse, iv_appointment, clock):
    """No second location, and the nurse has no membership row: she checks in and opens the
    session as before."""
    assert Location.objects.count() == 1
    assert not LocationStaff.objects.filter(user=nurse).exists()
    client.force_login(nurse)
    url = reverse("treatment_sessions:check_in", args=[iv_appointment.uuid])
    clock.move_to(at(MONDAY, 8, 50))
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "full_name_confirmed": "on",
            "stated_date_of_birth": iv_appointment.patient.date_of_birth.isoformat(),
            "assigned_nurse": str(nurse.uuid),
        },
    )
    session = TreatmentSession.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _session_url("detail", session)
    assert client.get(_session_url("detail", session)).status_code == 200
    assert not _refusals(nurse)


# --------------------------------------------------------------------------- the stock at the chair


def _options(page: str, name: str) -> str:
    """The <option>s of the select named `name`, as text."""
    found = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.DOTALL)
    assert found, name
    return found.group(1)


def test_the_container_picker_lists_only_the_session_s_location_s_stock(
    client, clinic_admin, riverside, nurse, iv_cleared, vials, vial_product
):
    receive(clinic_admin, vial_product, containers=1, lot_number="RIV9", location=riverside)
    client.force_login(nurse)
    picker = _options(_page(client, nurse, _session_url("detail", iv_cleared)), "start-container")
    assert "lot L100" in picker and "RIV9" not in picker
    assert picker.count("<option value=") - picker.count('<option value=""') == len(vials)


def test_the_container_picker_at_a_location_lists_its_own_stock(
    clinic_admin, riverside, vial_product, vials, clock
):
    river_vial = receive(
        clinic_admin, vial_product, containers=1, lot_number="RIV9", location=riverside
    ).containers.get()
    today = MONDAY
    assert [c.pk for c in usable_containers("iv", today, location=riverside)] == [river_vial.pk]
    main = Location.objects.get(is_default=True)
    assert [c.pk for c in usable_containers("iv", today, location=main)] == [v.pk for v in vials]


def test_the_waste_witness_is_chosen_from_the_session_s_location_s_staff(
    client, riverside, river_nurse, nurse, prescriber, iv_running
):
    """The infusion's stop form offers a witness for the residual: the main location's
    prescriber, not Riverside's nurse (the ledger would refuse her: `witness_at`)."""
    witnesses = _options(
        _page(client, nurse, _session_url("detail", iv_running)), "iv-stop-witness"
    )
    assert prescriber.display_name in witnesses
    assert river_nurse.display_name not in witnesses


def test_the_residual_waste_witness_list_is_the_location_s(
    client, riverside, river_nurse, nurse, prescriber, iv_running, clock
):
    """After a stop without a witness, the residual waits on the page with its own waste
    form, whose witness list is the location's too."""
    clock.move_to(at(MONDAY, 9, 40))
    services.infusion_stop(actor=nurse, session=iv_running, given_mg="40")
    page = _page(client, nurse, _session_url("detail", iv_running))
    administration = fresh(iv_running).administrations.get()
    witnesses = _options(page, f"waste-{administration.uuid}-witness")
    assert prescriber.display_name in witnesses
    assert river_nurse.display_name not in witnesses


def test_in_a_clinic_of_one_location_every_licensed_colleague_may_witness(
    client, make_staff, nurse, prescriber, iv_running
):
    colleague = make_staff("nurse", username="colleague", first_name="Cora", last_name="Lane")
    witnesses = _options(
        _page(client, nurse, _session_url("detail", iv_running)), "iv-stop-witness"
    )
    assert prescriber.display_name in witnesses and colleague.display_name in witnesses


# --------------------------------------------------------------------------- the REMS setting


def test_the_rems_form_and_pdf_name_the_session_s_location(
    client, settings, nurse, esketamine_dosed
):
    settings.CLINIC_NAME = "KetaCare Network Holdings"
    main = Location.objects.get(is_default=True)
    main.name = "Harbour Point"
    main.save()
    client.force_login(nurse)
    page = _page(client, nurse, _session_url("rems_form", esketamine_dosed))
    assert "esketamine session of 06/02/2031 at Harbour Point" in page
    response = client.get(_session_url("rems_pdf", esketamine_dosed))
    assert response.status_code == 200
    text = text_drawn_in_pdf(response.content)
    assert "(Harbour Point)" in text
    assert "KetaCare Network Holdings" not in text


def test_the_chair_is_run_by_a_nurse_who_works_at_its_location(
    client, riverside, nurse, river_nurse_on_the_team, iv_appointment, clock
):
    """Both nurses are on the care team; only the one at the chair's location is offered, and
    the service refuses the other even when she is sent by hand."""
    clock.move_to(at(MONDAY, 8, 50))
    client.force_login(nurse)
    html = client.get(reverse("treatment_sessions:check_in", args=[iv_appointment.uuid]))
    assert str(nurse.uuid) in html.content.decode()
    assert str(river_nurse_on_the_team.uuid) not in html.content.decode()
    with pytest.raises(InvalidInput) as refused:
        services.session_check_in(
            actor=nurse,
            appointment=iv_appointment,
            identity=identity_of(iv_appointment),
            assigned_nurse=river_nurse_on_the_team,
        )
    assert "does not work at" in str(refused.value.errors["assigned_nurse"])
    assert not TreatmentSession.objects.exists()


def test_a_prescriber_of_another_location_reads_and_may_sign_but_not_chart(
    client, clinic_admin, main, riverside, prescriber, iv_checked_in
):
    """The prescriber moves to Riverside only: the Main session's decisions and signature stay
    theirs (care team), the chair-side entries do not."""
    from django.db import transaction

    from clinic.accounts.permissions import Capability
    from clinic.treatment_sessions.services._common import _locked

    locations.location_staff_set(actor=clinic_admin, location=main, staff_ids=[])
    locations.location_staff_set(actor=clinic_admin, location=riverside, staff_ids=[prescriber.pk])
    client.force_login(prescriber)
    assert client.get(_session_url("detail", iv_checked_in)).status_code == 200
    with transaction.atomic():
        assert _locked(prescriber, iv_checked_in, Capability.SESSION_SIGN) == iv_checked_in
        assert _locked(prescriber, iv_checked_in, Capability.SESSION_OVERRIDE) == iv_checked_in
        with pytest.raises(PermissionDenied):
            _locked(prescriber, iv_checked_in, Capability.SESSION_RUN)
