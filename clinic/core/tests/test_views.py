import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from clinic.core.models import AuditEvent
from clinic.patients.tests.factories import register

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_patients(front_desk):
    return register(front_desk, legal_family_name="Alvarez"), register(
        front_desk, legal_family_name="Brook"
    )


def _rows(client, data):
    response = client.post(reverse("core:audit_list"), data)
    assert response.status_code == 200
    return list(response.context["page"].object_list)


def test_admin_filters_the_trail_by_patient(client, clinic_admin, two_patients):
    alvarez, _ = two_patients
    client.force_login(clinic_admin)
    rows = _rows(client, {"mrn": alvarez.mrn})
    assert rows and {e.patient_id for e in rows} == {alvarez.pk}


def test_admin_filters_the_trail_by_user_and_action(client, clinic_admin, two_patients, nurse):
    client.force_login(clinic_admin)
    rows = _rows(client, {"username": "front_desk", "action": "create"})
    assert len(rows) == 2 and {e.actor_username for e in rows} == {"front_desk"}


def test_admin_filters_the_trail_by_clinic_date(client, clinic_admin, two_patients):
    client.force_login(clinic_admin)
    today = timezone.localdate()
    assert _rows(
        client,
        {
            "date_from": today.isoformat(),
            "date_to": today.isoformat(),
            "action": "create",
            "username": "front_desk",
        },
    )
    tomorrow = today + datetime.timedelta(days=1)
    assert _rows(client, {"date_from": tomorrow.isoformat()}) == []


def test_reversed_dates_are_an_error_next_to_the_field(client, clinic_admin):
    client.force_login(clinic_admin)
    response = client.post(
        reverse("core:audit_list"), {"date_from": "2026-05-02", "date_to": "2026-05-01"}
    )
    assert "The end date is before the start date." in response.content.decode()


def test_export_is_a_csv_of_the_filtered_trail_and_is_itself_audited(
    client, clinic_admin, two_patients
):
    alvarez, _ = two_patients
    client.force_login(clinic_admin)
    response = client.post(reverse("core:audit_export"), {"mrn": alvarez.mrn})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows and {r["patient_mrn"] for r in rows} == {alvarez.mrn}
    created = next(r for r in rows if r["action"] == "create")
    assert created["username"] == "front_desk" and '"legal_family_name"' in created["changes"]
    assert AuditEvent.objects.filter(action="export", actor=clinic_admin).exists()


def test_export_never_hands_a_spreadsheet_a_formula(client, clinic_admin):
    # A browser's user agent is whatever the client sends: here a formula, which a spreadsheet
    # would run. The export keeps the text but starts it with an apostrophe.
    client.force_login(clinic_admin)
    client.get(reverse("core:audit_list"), HTTP_USER_AGENT='=HYPERLINK("http://x","y")')
    response = client.post(reverse("core:audit_export"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    agents = {r["user_agent"] for r in rows}
    assert '\'=HYPERLINK("http://x","y")' in agents
    assert not any(agent.startswith("=") for agent in agents)


def test_export_is_post_only_and_admin_only(client, clinic_admin, nurse):
    client.force_login(clinic_admin)
    assert client.get(reverse("core:audit_export")).status_code == 405
    client.force_login(nurse)
    assert client.post(reverse("core:audit_export")).status_code == 403
    assert not AuditEvent.objects.filter(action="export").exists()


def test_browsing_the_trail_is_recorded(client, clinic_admin):
    client.force_login(clinic_admin)
    client.get(reverse("core:audit_list"))
    assert AuditEvent.objects.filter(
        action="view", object_type="audit_log", actor=clinic_admin
    ).exists()
