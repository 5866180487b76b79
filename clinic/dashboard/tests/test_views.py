import pytest
from django.urls import reverse

from clinic.patients import services
from clinic.patients.tests.factories import register

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic(front_desk, prescriber, nurse):
    mine = register(front_desk, legal_family_name="Abernathy")
    services.care_team_set(
        actor=front_desk, patient=mine, primary_prescriber=prescriber, nurses=[nurse]
    )
    orphan = register(front_desk, legal_family_name="Zeller")
    return mine, orphan


def _home(client, user):
    client.force_login(user)
    response = client.get(reverse("dashboard:home"))
    assert response.status_code == 200
    return response.content.decode()


def test_clinician_home_lists_their_own_patients_only(client, clinic, nurse):
    html = _home(client, nurse)
    assert "My patients" in html and "Abernathy" in html and "Zeller" not in html
    assert "Nurse" in html  # their role on that care team


def test_clinician_without_patients_is_told_how_patients_appear(client, clinic, make_staff):
    html = _home(client, make_staff("therapist", username="newtherapist"))
    assert "not on any patient's care team yet" in html


def test_front_desk_home_offers_search_registration_and_recent_patients(client, clinic, front_desk):
    html = _home(client, front_desk)
    assert "Register a patient" in html and 'name="q"' in html
    assert "Recently registered" in html and "Zeller" in html


def test_billing_home_is_the_billing_queue_with_the_directory(client, clinic, billing):
    html = _home(client, billing)
    assert "<h1" in html and ">Billing</h1>" in html and 'name="q"' in html
    assert "Signed sessions not yet charged" in html and "Fee schedule" in html
    assert "Register a patient" not in html


def test_admin_home_shows_the_clinic_at_a_glance(client, clinic, clinic_admin):
    client.post(reverse("accounts:login"), {"username": "nobody", "password": "wrong"})
    html = _home(client, clinic_admin)
    assert "Clinic administration" in html
    assert "Patients without a primary prescriber" in html and "Zeller" in html
    assert "Abernathy" not in html.split("Patients without a primary prescriber")[1]
    assert "1 failed or locked sign-in" in html
    assert "Audit log" in html


@pytest.mark.parametrize("role", ["prescriber", "nurse", "therapist", "front_desk", "billing"])
def test_only_admins_see_the_audit_log_link(client, make_staff, role):
    assert "Audit log" not in _home(client, make_staff(role))


def test_nurses_and_prescribers_reach_the_chairs_from_home_therapists_do_not(
    client, clinic, nurse, prescriber, therapist
):
    for user in (nurse, prescriber):
        html = _home(client, user)
        assert "At the chairs today" in html
        assert reverse("treatment_sessions:board") in html
        assert reverse("treatment_sessions:rems_due") in html
    assert "At the chairs today" not in _home(client, therapist)
