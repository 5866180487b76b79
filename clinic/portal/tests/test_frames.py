"""Pages shared with staff (not found, not allowed, the second-factor check) keep a signed-in
patient inside the portal's frame, with the crisis resources every portal page carries."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from clinic.portal.tests.test_care import give_portal_account

pytestmark = pytest.mark.django_db


def test_a_patient_who_opens_a_missing_page_stays_in_the_portal(client, patient):
    client.force_login(give_portal_account(patient, "jordan"))
    response = client.get(reverse("portal:appointment", args=[uuid.uuid4()]))
    html = response.content.decode()
    assert response.status_code == 404
    assert "If you need help now" in html and "988" in html
    assert reverse("portal:home") in html
    assert reverse("patients:patient_list") not in html  # not the staff navigation


def test_staff_still_see_the_staff_frame_on_a_missing_page(client, nurse):
    client.force_login(nurse)
    response = client.get(reverse("patients:patient_chart", args=[uuid.uuid4()]))
    assert response.status_code == 404
    assert reverse("patients:patient_list") in response.content.decode()
