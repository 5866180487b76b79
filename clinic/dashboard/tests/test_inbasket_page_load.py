"""The in-basket's refresh is audited once per page load, not once per refresh (issue 14,
docs/security.md "Audit"): the home page (or the in-basket page) is audited when it opens; a
refresh that shows the same patients writes nothing; a refresh that shows a patient the page
load has not shown audits that patient. The page load travels as a signed token, no PHI."""

from __future__ import annotations

import html as html_lib
import re

import pytest

from clinic.core.models import AuditEvent
from clinic.dashboard.tests.test_inbasket import POLL, _another_request
from clinic.patients.models import Patient
from clinic.treatment_sessions import services
from clinic.treatment_sessions.models import PrescriberRequest
from tests.helpers import client_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(iv_checked_in, nurse):
    """A pre-dose BP of 190/120 (over the policy's 140/90): the prescriber is asked at once."""
    services.vitals_record(
        actor=nurse, session=iv_checked_in, systolic_mmhg=190, diastolic_mmhg=120, heart_rate_bpm=80
    )
    return PrescriberRequest.objects.get(session=iv_checked_in)


def _refresh_url(page: str) -> str:
    found = re.search(r'hx-get="(/in-basket/\?view=[^"]+)"', page)
    assert found, "the in-basket refreshes with its page load's token"
    return html_lib.unescape(found.group(1))


@pytest.mark.parametrize("page_url", ["/", "/in-basket/"])
def test_refreshes_audit_only_patients_the_page_load_has_not_shown(
    client, prescriber, nurse, front_desk, clinic_admin, chair, waiting, page_url
):
    client_as(client, prescriber)
    before = AuditEvent.objects.count()
    page = client.get(page_url).content.decode()
    opened = list(AuditEvent.objects.filter(pk__gt=0).order_by("id"))[before:]
    # The page load: each part of the in-basket, and the patients it shows.
    shown = [e for e in opened if e.object_type == "inbasket"]
    assert len(shown) == 1
    assert shown[0].changes["patients"] == [str(waiting.session.patient.uuid)]
    assert {"prescriber_request", "suicidality_alert"} <= {e.object_type for e in opened}
    refresh = _refresh_url(page)

    before = AuditEvent.objects.count()
    for _ in range(4):
        response = client.get(refresh, headers=POLL)
        assert response.status_code == 200
        assert "Confirm the pre-dose blood pressure" in response.content.decode()
    assert AuditEvent.objects.count() == before

    _another_request(
        2,
        chair=chair,
        nurse=nurse,
        prescriber=prescriber,
        front_desk=front_desk,
        clinic_admin=clinic_admin,
    )
    other = Patient.objects.get(legal_given_name="Other2")
    before = AuditEvent.objects.count()
    response = client.get(refresh, headers=POLL)
    assert "Rivera, Other2" in response.content.decode()
    new = list(AuditEvent.objects.order_by("id"))[before:]
    assert [(e.actor_id, e.object_type, e.changes) for e in new] == [
        (
            prescriber.pk,
            "inbasket",
            {"page_load": shown[0].changes["page_load"], "patients": [str(other.uuid)]},
        )
    ]


def test_a_refresh_without_its_page_load_is_audited_in_full(client, prescriber, waiting):
    client_as(client, prescriber)
    before = AuditEvent.objects.count()
    client.get("/in-basket/?view=forged", headers=POLL)
    new = list(AuditEvent.objects.order_by("id"))[before:]
    assert "prescriber_request" in {e.object_type for e in new}
    assert [e.changes["patients"] for e in new if e.object_type == "inbasket"] == [
        [str(waiting.session.patient.uuid)]
    ]
