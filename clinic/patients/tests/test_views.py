"""Pages: the permission matrix (anonymous, patient principal, wrong role, off the care team,
right role), denials that write nothing, searches that keep names out of URLs, flat query counts."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.core.models import AuditEvent
from clinic.patients import services
from clinic.patients.models import BodyMeasurement, CareTeamMember, Patient
from clinic.patients.tests.factories import register
from tests.helpers import client_as as _client
from tests.helpers import status_word as _status_word

pytestmark = pytest.mark.django_db


def _pages(patient):
    return {
        "chart": reverse("patients:patient_chart", args=[patient.uuid]),
        "edit": reverse("patients:patient_edit", args=[patient.uuid]),
        "care_team": reverse("patients:care_team_edit", args=[patient.uuid]),
        "measurement": reverse("patients:measurement_create", args=[patient.uuid]),
        "list": reverse("patients:patient_list"),
        "create": reverse("patients:patient_create"),
        "audit": reverse("core:audit_list"),
        "home": reverse("dashboard:home"),
    }


# Expected GET status per page and actor; from docs/permissions.md.
MATRIX = {
    #                    chart edit care  meas list create audit home
    # "/" shows anonymous visitors the public home page and sends a patient to the portal.
    "anonymous": ["login", "login", "login", "login", "login", "login", "login", 200],
    "patient_principal": [403, 403, 403, 403, 403, 403, 403, 302],
    "clinic_admin": [200, 200, 200, 200, 200, 200, 200, 200],
    "prescriber": [200, 200, 403, 200, 200, 403, 403, 200],
    "nurse": [200, 200, 403, 200, 200, 403, 403, 200],
    "therapist": [200, 403, 403, 403, 200, 403, 403, 200],
    "front_desk": [200, 200, 200, 403, 200, 200, 403, 200],
    "billing": [200, 403, 403, 403, 200, 403, 403, 200],
    "prescriber_off_team": [404, 404, 403, 404, 200, 403, 403, 200],
    "nurse_off_team": [404, 404, 403, 404, 200, 403, 403, 200],
    "therapist_off_team": [404, 403, 403, 404, 200, 403, 403, 200],
}
PAGE_ORDER = ["chart", "edit", "care_team", "measurement", "list", "create", "audit", "home"]


@pytest.mark.parametrize("who", list(MATRIX))
def test_page_permission_matrix(client, patient, actors, who):
    pages = _pages(patient)
    client = _client(client, actors[who])
    got = [_status_word(client.get(pages[name])) for name in PAGE_ORDER]
    assert dict(zip(PAGE_ORDER, got, strict=True)) == dict(
        zip(PAGE_ORDER, MATRIX[who], strict=True)
    )


def test_not_found_and_not_allowed_look_the_same(client, patient, actors):
    client.force_login(actors["nurse_off_team"])
    hidden = client.get(reverse("patients:patient_chart", args=[patient.uuid]))
    missing = client.get(
        reverse("patients:patient_chart", args=["00000000-0000-4000-8000-000000000000"])
    )
    assert hidden.status_code == missing.status_code == 404
    assert patient.legal_family_name.encode() not in hidden.content
    assert b"not on your care team" in hidden.content


def _state():
    return (
        list(Patient.objects.order_by("pk").values()),
        list(CareTeamMember.objects.order_by("pk").values()),
        list(BodyMeasurement.objects.order_by("pk").values()),
    )


@pytest.mark.parametrize(
    ("who", "page", "data"),
    [
        ("anonymous", "edit", {"legal_family_name": "Changed"}),
        ("patient_principal", "edit", {"legal_family_name": "Changed"}),
        ("billing", "edit", {"legal_family_name": "Changed"}),
        ("therapist", "edit", {"legal_family_name": "Changed"}),
        ("nurse_off_team", "edit", {"legal_family_name": "Changed"}),
        ("nurse", "care_team", {"primary_prescriber": ""}),
        ("billing", "care_team", {"primary_prescriber": ""}),
        ("front_desk", "measurement", {"measured_on": "2026-01-05", "weight_kg": "80"}),
        ("therapist", "measurement", {"measured_on": "2026-01-05", "weight_kg": "80"}),
        ("nurse_off_team", "measurement", {"measured_on": "2026-01-05", "weight_kg": "80"}),
        (
            "nurse",
            "create",
            {
                "legal_given_name": "A",
                "legal_family_name": "B",
                "date_of_birth": "1990-01-01",
                "sex": "male",
                "country": "US",
            },
        ),
        (
            "billing",
            "create",
            {
                "legal_given_name": "A",
                "legal_family_name": "B",
                "date_of_birth": "1990-01-01",
                "sex": "male",
                "country": "US",
            },
        ),
    ],
)
def test_a_denied_post_writes_nothing(client, patient, actors, who, page, data):
    before = _state()
    response = _client(client, actors[who]).post(_pages(patient)[page], data)
    assert _status_word(response) in ("login", 403, 404)
    assert _state() == before


def test_front_desk_registers_a_patient_and_lands_on_the_chart(client, front_desk):
    client.force_login(front_desk)
    response = client.post(
        reverse("patients:patient_create"),
        {
            "legal_given_name": "Noor",
            "legal_family_name": "Haddad",
            "date_of_birth": "1979-09-30",
            "sex": "female",
            "country": "US",
        },
        follow=True,
    )
    patient = Patient.objects.get(legal_family_name="Haddad")
    assert response.redirect_chain[-1][0] == reverse("patients:patient_chart", args=[patient.uuid])
    assert f"MRN {patient.mrn}".encode() in response.content
    assert b"No primary prescriber" in response.content


def test_bad_registration_shows_errors_next_to_fields_and_saves_nothing(client, front_desk):
    client.force_login(front_desk)
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    response = client.post(
        reverse("patients:patient_create"),
        {
            "legal_given_name": "",
            "legal_family_name": "Haddad",
            "date_of_birth": future,
            "sex": "female",
            "phone_mobile": "abc",
            "country": "US",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_legal_given_name_error"' in html
    assert 'id="id_date_of_birth_error"' in html and "cannot be in the future" in html
    assert Patient.objects.count() == 0


def test_weight_out_of_range_is_shown_on_the_form(client, patient, nurse):
    client.force_login(nurse)
    response = client.post(
        reverse("patients:measurement_create", args=[patient.uuid]),
        {"measured_on": timezone.localdate().isoformat(), "weight_kg": "400"},
    )
    assert response.status_code == 200
    assert "Weight must be between 25 and 350 kg." in response.content.decode()
    assert not BodyMeasurement.objects.exists()


def test_clinical_data_is_hidden_from_front_desk_and_billing(
    client, patient, nurse, front_desk, billing
):
    services.body_measurement_record(
        actor=nurse,
        patient=patient,
        measured_on=timezone.localdate(),
        weight_kg="81.5",
        height_cm="172",
    )
    client.force_login(nurse)
    assert b"81.5 kg" in client.get(reverse("patients:patient_chart", args=[patient.uuid])).content
    for actor in (front_desk, billing):
        client.force_login(actor)
        html = client.get(reverse("patients:patient_chart", args=[patient.uuid])).content
        assert b"81.5" not in html and b"Weight and height" not in html


def test_chart_view_is_audited_with_patient_and_address(client, patient, nurse):
    client.force_login(nurse)
    client.get(reverse("patients:patient_chart", args=[patient.uuid]), REMOTE_ADDR="10.9.8.7")
    event = AuditEvent.objects.filter(action="view", patient=patient).latest("id")
    assert (event.actor, event.ip_address, event.channel) == (nurse, "10.9.8.7", "web")


def test_denied_chart_access_is_audited_without_revealing_the_patient(client, patient, actors):
    client.force_login(actors["nurse_off_team"])
    client.get(reverse("patients:patient_chart", args=[patient.uuid]))
    event = AuditEvent.objects.filter(action="denied").latest("id")
    assert event.actor_username == "nurse2" and event.patient is None
    assert event.object_id == str(patient.uuid)


def test_search_is_posted_so_names_never_reach_the_url(client, front_desk):
    register(front_desk, legal_family_name="Okonkwo")
    register(front_desk, legal_family_name="Lindqvist")
    client.force_login(front_desk)
    response = client.post(reverse("patients:patient_list"), {"q": "okonk"})
    assert b"Okonkwo" in response.content and b"Lindqvist" not in response.content
    # A name in the query string is ignored: the list is not filtered by it.
    listed = client.get(reverse("patients:patient_list") + "?q=okonk")
    assert b"Lindqvist" in listed.content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("1985-04-12", {"Rivera"}),
        ("04/12/1985", {"Rivera"}),
        ("rIvEr", {"Rivera"}),
        ("jordan riv", {"Rivera"}),
        ("1990-01-01", set()),
    ],
)
def test_search_by_name_date_of_birth_or_mrn(client, front_desk, query, expected):
    register(front_desk)
    register(front_desk, legal_family_name="Chen", date_of_birth=datetime.date(1970, 1, 1))
    client.force_login(front_desk)
    page = client.post(reverse("patients:patient_list"), {"q": query}).context["page"]
    assert {p.legal_family_name for p in page.object_list} == expected


def test_search_by_mrn(client, front_desk):
    rivera = register(front_desk)
    register(front_desk, legal_family_name="Chen")
    client.force_login(front_desk)
    page = client.post(reverse("patients:patient_list"), {"q": rivera.mrn}).context["page"]
    assert [p.pk for p in page.object_list] == [rivera.pk]


def test_htmx_search_returns_only_the_results_fragment(client, front_desk):
    register(front_desk)
    client.force_login(front_desk)
    response = client.post(
        reverse("patients:patient_list"), {"q": "rivera"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="patient-results"')
    assert "<html" not in html and "Rivera" in html


def test_clinician_list_shows_only_their_care_team(client, patient, front_desk, actors):
    register(front_desk, legal_family_name="Elsewhere")
    client.force_login(actors["nurse"])
    page = client.get(reverse("patients:patient_list")).context["page"]
    assert [p.pk for p in page.object_list] == [patient.pk]
    client.force_login(actors["nurse_off_team"])
    assert client.get(reverse("patients:patient_list")).context["page"].paginator.count == 0


def test_list_paginates(client, front_desk, settings):
    settings.PAGE_SIZE = 5
    for i in range(12):
        register(front_desk, legal_family_name=f"Family{i:02d}")
    client.force_login(front_desk)
    page = client.get(reverse("patients:patient_list") + "?page=3").context["page"]
    assert (page.number, page.paginator.num_pages, len(page.object_list)) == (3, 3, 2)


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_list_query_count_stays_flat_as_the_clinic_grows(client, front_desk, prescriber, nurse):
    client.force_login(front_desk)
    url = reverse("patients:patient_list")

    def add(n):
        for _ in range(n):
            p = register(front_desk)
            services.care_team_set(
                actor=front_desk, patient=p, primary_prescriber=prescriber, nurses=[nurse]
            )

    add(2)
    small = _count_queries(client, url)
    add(20)
    assert _count_queries(client, url) == small


def test_chart_query_count_stays_flat_as_history_grows(client, patient, nurse):
    client.force_login(nurse)
    url = reverse("patients:patient_chart", args=[patient.uuid])
    services.body_measurement_record(
        actor=nurse, patient=patient, measured_on=timezone.localdate(), weight_kg="80"
    )
    small = _count_queries(client, url)
    for days in range(1, 15):
        services.body_measurement_record(
            actor=nurse,
            patient=patient,
            measured_on=timezone.localdate() - datetime.timedelta(days=days),
            weight_kg="80",
            height_cm="170",
        )
    assert _count_queries(client, url) == small


def test_mark_entered_in_error_from_the_chart(client, patient, nurse):
    wrong = services.body_measurement_record(
        actor=nurse, patient=patient, measured_on=timezone.localdate(), weight_kg="28"
    )
    client.force_login(nurse)
    url = reverse("patients:measurement_entered_in_error", args=[patient.uuid, wrong.uuid])
    response = client.post(url, {"reason": "Typed 28 for 82"}, follow=True)
    assert b"entered in error" in response.content
    wrong.refresh_from_db()
    assert wrong.entered_in_error_at is not None


def test_care_team_page_saves_the_team(client, patient, front_desk, prescriber, nurse):
    client.force_login(front_desk)
    response = client.post(
        reverse("patients:care_team_edit", args=[patient.uuid]),
        {"primary_prescriber": prescriber.pk, "nurses": [nurse.pk]},
    )
    assert response.status_code == 302
    assert set(
        CareTeamMember.objects.filter(patient=patient).values_list("staff__username", flat=True)
    ) == {"prescriber", "nurse"}


def test_pages_for_signed_in_staff_are_not_cached(client, patient, nurse):
    client.force_login(nurse)
    response = client.get(reverse("patients:patient_chart", args=[patient.uuid]))
    assert "no-store" in response["Cache-Control"]
