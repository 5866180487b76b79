"""The session page at the chair: the permission matrix (anonymous, patient principal, each role
on and off the care team) for the page and one write of each capability, denials that write
nothing, a flat query count as the flowsheet grows, and whole sessions run through the pages.

Expected values come from clinic/accounts/permissions.py and docs/permissions.md (session.run:
prescriber, nurse; session.override and session.sign: prescriber; session.integration_note:
prescriber, therapist; reading a session: patient.view_clinical and the care team, otherwise a
404 like a session that does not exist) and from the session policy (policy-defaults.md): the
test day's IV dose is 0.5 mg/kg × 80 kg = 40 mg over 40 minutes; IV observation is 30 minutes
after the infusion ends; modified Aldrete ≥ 9 to go home; esketamine devices 5 minutes apart;
systolic 50–300 mmHg is plausible; BP ≥ 180/110 raises an alert.

Long because: the cases are those of one page (the session at the chair) and its permission
matrix, sharing its fixtures and client helpers; whole sessions run through it end to end.
"""

from __future__ import annotations

import hashlib
import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.controlled_substances.models import Container, LedgerEntry
from clinic.core.models import AuditEvent
from clinic.treatment_sessions import services
from clinic.treatment_sessions.models import (
    DoseAdministration,
    IntegrationNote,
    SessionAddendum,
    SessionAlert,
    SessionOverride,
    TreatmentSession,
    VitalsEntry,
)
from clinic.treatment_sessions.tests.conftest import MONDAY, at, fresh, identity_of
from conftest import TEST_PASSWORD
from tests.helpers import ACTOR_ORDER
from tests.helpers import client_as as _client
from tests.helpers import status_word as _status_word

pytestmark = pytest.mark.django_db

# fmt: off
MATRIX = {
    #                       anon   portal admin presc nurse ther desk bill off-team ×3
    "detail_get":          ["login", 403, 200, 200, 200, 200, 403, 403, 404, 404, 404],
    "vitals_post":         ["login", 403, 403, 302, 302, 403, 403, 403, 404, 404, 403],
    "override_post":       ["login", 403, 403, 302, 403, 403, 403, 403, 404, 403, 403],
    "sign_post":           ["login", 403, 403, 302, 403, 403, 403, 403, 404, 403, 403],
    "integration_post":    ["login", 403, 403, 302, 403, 302, 403, 403, 404, 403, 404],
}
# fmt: on


@pytest.fixture(autouse=True)
def _a_whole_day_signed_in(settings):
    """The tests move the clock by hours; the 30-minute idle sign-out is not under test here."""
    settings.SESSION_COOKIE_AGE = 24 * 60 * 60


def _detail(session) -> str:
    return reverse("treatment_sessions:detail", args=[session.uuid])


def _url(name, session, *args) -> str:
    return reverse(f"treatment_sessions:{name}", args=[session.uuid, *args])


# --------------------------------------------------------------------------- sessions


@pytest.fixture
def iv_session(iv_appointment, nurse, clock):
    clock.move_to(at(MONDAY, 8, 55))
    return services.session_check_in(
        actor=nurse, appointment=iv_appointment, identity=identity_of(iv_appointment)
    )


@pytest.fixture
def esketamine_session(esketamine_appointment, nurse, clock):
    clock.move_to(at(MONDAY, 8, 55))
    return services.session_check_in(
        actor=nurse,
        appointment=esketamine_appointment,
        identity=identity_of(esketamine_appointment),
    )


PRECHECKS = {
    "pre-last_food_at": "2031-06-02T03:00",  # 6 h before the 09:00 start
    "pre-last_liquid_at": "2031-06-02T06:30",  # 2 h 30 min before
    "pre-escort_name": "Sam Rivera",
    "pre-escort_phone": "555-0100",
    "pre-escort_confirmed": "on",
    "pre-pregnancy_test": "negative",
    "pre-questionnaires": "none_due",
    "pre-intention": "To feel lighter with my family",
    "pre-setting_eye_mask": "on",
    "pre-setting_headphones_music": "on",
    "pre-setting_music_choice": "Piano",
    "pre-setting_lighting": "dimmed",
}
CALM_VITALS = {
    "vitals-systolic_mmhg": "128",
    "vitals-diastolic_mmhg": "78",
    "vitals-heart_rate_bpm": "72",
    "vitals-spo2_percent": "98",
    "vitals-respiratory_rate_per_min": "14",
}


def _cleared(client, session):
    """Pre-checks and a calm pre-dose reading, through the pages."""
    assert client.post(_url("precheck", session), PRECHECKS).status_code == 302
    assert client.post(_url("vitals", session), CALM_VITALS).status_code == 302


def _infusion_given(client, session, vial, clock, prescriber):
    """Start at 09:00 with 50 mg drawn, stop at 09:40 with 40 mg given and 10 mg wasted."""
    _cleared(client, session)
    clock.move_to(at(MONDAY, 9, 0))
    started = client.post(
        _url("infusion", session),
        {
            "action": "start",
            "start-container": str(vial.uuid),
            "start-drawn_mg": "50",
            "start-rate_ml_per_h": "75",
        },
    )
    assert started.status_code == 302
    clock.move_to(at(MONDAY, 9, 40))
    stopped = client.post(
        _url("infusion", session),
        {
            "action": "stop",
            "iv-stop-given_mg": "40",
            "iv-stop-witness": str(prescriber.uuid),
            "iv-stop-witness_password": TEST_PASSWORD,
            "iv-stop-waste_reason": "Residual of the bag",
        },
    )
    assert stopped.status_code == 302


@pytest.fixture
def signable(iv_session, nurse, prescriber, vials, clock):
    """An IV session given, discharged and noted through the services: ready to sign."""
    session = iv_session
    services.precheck_override(actor=prescriber, session=session, reason="Test set-up")
    clock.move_to(at(MONDAY, 9, 0))
    services.infusion_start(actor=nurse, session=session, container=vials[0], drawn_mg="40")
    clock.move_to(at(MONDAY, 9, 40))
    services.infusion_stop(actor=nurse, session=session, given_mg="40")
    clock.move_to(at(MONDAY, 10, 10))
    services.session_score_record(
        actor=nurse, session=session, kind="modified-aldrete", answers=[2, 2, 2, 2, 2]
    )
    services.session_discharge(
        actor=nurse, session=session, escort_present=True, instructions_given=True
    )
    services.nurse_note_save(actor=nurse, session=session, text="Uneventful session.")
    session.refresh_from_db()
    return session


# --------------------------------------------------------------------------- permission matrix


def _state():
    """Every row a session page may write (the audit trail aside)."""
    return {
        model.__name__: list(model.objects.order_by("pk").values())
        for model in (
            TreatmentSession,
            VitalsEntry,
            SessionAlert,
            SessionOverride,
            IntegrationNote,
            SessionAddendum,
            DoseAdministration,
            LedgerEntry,
        )
    }


def _request(client, page, session):
    if page == "detail_get":
        return client.get(_detail(session))
    if page == "vitals_post":
        return client.post(_url("vitals", session), CALM_VITALS)
    if page == "override_post":
        return client.post(_url("override", session), {"override-reason": "Known white-coat BP"})
    if page == "sign_post":
        return client.post(_url("sign", session))
    return client.post(
        _url("integration_note", session), {"integration-text": "Talked through the imagery."}
    )


def _scene(page, request):
    return request.getfixturevalue(
        "signable" if page in ("sign_post", "integration_post") else "iv_session"
    )


MATRIX_CASES = [
    pytest.param(page, who, expected, id=f"{page}-{who}")
    for page, row in MATRIX.items()
    for who, expected in zip(ACTOR_ORDER, row, strict=True)
]


@pytest.mark.parametrize(("page", "who", "expected"), MATRIX_CASES)
def test_permission_matrix(client, actors, request, page, who, expected):
    session = _scene(page, request)
    before = _state()
    got = _request(_client(client, actors[who]), page, session)
    assert _status_word(got) == expected
    if expected == 302:
        assert _state() != before
        assert AuditEvent.objects.filter(actor=actors[who], patient=session.patient).exists()
    else:
        assert _state() == before  # a denial, or a read, writes nothing


def test_reading_the_page_is_audited_and_a_refused_post_is_not_a_read(client, nurse, iv_session):
    client.force_login(nurse)
    views = AuditEvent.objects.filter(actor=nurse, action="view", object_type="treatment_session")
    before = views.count()
    assert client.get(_detail(iv_session)).status_code == 200
    assert views.count() == before + 1


# --------------------------------------------------------------------------- query count


def test_the_page_reads_a_fixed_number_of_queries_as_the_flowsheet_grows(
    client, nurse, prescriber, iv_session, vials, clock, django_assert_max_num_queries
):
    client.force_login(nurse)
    _infusion_given(client, iv_session, vials[0], clock, prescriber)
    counts = []
    for minute in range(41, 50):
        clock.move_to(at(MONDAY, 9, minute))
        if minute in (41, 42):
            with CaptureQueriesContext(connection) as queries:
                assert client.get(_detail(iv_session)).status_code == 200
            counts.append(len(queries))
        services.vitals_record(
            actor=nurse,
            session=iv_session,
            systolic_mmhg=182 if minute % 3 == 0 else 126,
            diastolic_mmhg=80,
            heart_rate_bpm=70,
            spo2_percent=97,
        )
    assert VitalsEntry.objects.filter(session=iv_session).count() == 10
    with CaptureQueriesContext(connection) as queries:
        assert client.get(_detail(iv_session)).status_code == 200
    counts.append(len(queries))
    assert counts[0] == counts[1] == counts[2]
    with django_assert_max_num_queries(counts[0]):
        client.get(_detail(iv_session))


# --------------------------------------------------------------------------- vitals and alerts


def test_an_implausible_reading_is_refused_next_to_the_field_and_nothing_is_stored(
    client, nurse, iv_session
):
    client.force_login(nurse)
    response = client.post(
        _url("vitals", iv_session), {**CALM_VITALS, "vitals-systolic_mmhg": "301"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    # policy-defaults.md: systolic 50–300 mmHg is plausible; the error sits under the field.
    assert re.search(r'id="id_vitals-systolic_mmhg_error"[^>]*>[^<]*between 50 and 300', html)
    assert not VitalsEntry.objects.filter(session=iv_session).exists()


def test_an_alert_shows_at_once_and_is_acknowledged_on_the_page(client, nurse, iv_session):
    client.force_login(nurse)
    response = client.post(
        _url("vitals", iv_session),
        {**CALM_VITALS, "vitals-systolic_mmhg": "182", "vitals-diastolic_mmhg": "95"},
        follow=True,
    )
    html = response.content.decode()
    alert = SessionAlert.objects.get(session=iv_session)
    assert alert.code == "bp_high"
    assert alert.message in html  # the banner, right after the reading
    assert 'id="alerts"' in html and "Acknowledge" in html
    response = client.post(
        _url("alert_ack", iv_session, alert.uuid),
        {f"ack-{alert.uuid}-action": "continue", f"ack-{alert.uuid}-note": "Rechecking in 5 min"},
    )
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == nurse and alert.action == "continue"
    html = client.get(_detail(iv_session)).content.decode()
    assert 'id="alerts"' not in html
    assert "Continue and recheck" in html and "Rechecking in 5 min" in html


def test_stop_and_intervention_need_a_note(client, nurse, iv_session):
    client.force_login(nurse)
    client.post(
        _url("vitals", iv_session),
        {**CALM_VITALS, "vitals-systolic_mmhg": "182", "vitals-diastolic_mmhg": "95"},
    )
    alert = SessionAlert.objects.get(session=iv_session)
    response = client.post(
        _url("alert_ack", iv_session, alert.uuid), {f"ack-{alert.uuid}-action": "intervention"}
    )
    assert response.status_code == 200
    assert "Say what was done." in response.content.decode()
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


# --------------------------------------------------------------------------- dosing


def test_an_iv_infusion_through_the_pages_writes_the_ledger(
    client, nurse, prescriber, iv_session, vials, clock
):
    client.force_login(nurse)
    _cleared(client, iv_session)
    page = client.get(_detail(iv_session)).content.decode()
    assert "40 mg" in page  # 0.5 mg/kg × 80 kg
    assert 'value="40"' in page or 'value="40.0"' in page  # drawn defaults to today's dose
    clock.move_to(at(MONDAY, 9, 0))
    response = client.post(
        _url("infusion", iv_session),
        {
            "action": "start",
            "start-container": str(vials[0].uuid),
            "start-drawn_mg": "50",
            "start-rate_ml_per_h": "75",
        },
    )
    assert response.status_code == 302
    clock.move_to(at(MONDAY, 9, 10))
    client.post(_url("infusion", iv_session), {"action": "pause", "pause-reason": "Nausea"})
    clock.move_to(at(MONDAY, 9, 12))
    client.post(_url("infusion", iv_session), {"action": "resume"})
    html = client.get(_detail(iv_session)).content.decode()
    assert "Running" in html and "Nausea" in html
    clock.move_to(at(MONDAY, 9, 42))
    response = client.post(
        _url("infusion", iv_session),
        {
            "action": "stop",
            "iv-stop-given_mg": "40",
            "iv-stop-witness": str(prescriber.uuid),
            "iv-stop-witness_password": TEST_PASSWORD,
        },
    )
    assert response.status_code == 302
    iv_session.refresh_from_db()
    assert iv_session.phase == "monitoring"
    entry = LedgerEntry.objects.get(kind="administration", session_ref=str(iv_session.uuid))
    assert (entry.drawn_mg, entry.given_mg) == (Decimal(50), Decimal(40))
    vial = Container.objects.get(pk=vials[0].pk)
    assert vial.balance_mg == Decimal(100) - Decimal(50)  # the drawn mg came off the vial
    waste = LedgerEntry.objects.get(kind="waste", administration=entry)
    assert waste.wasted_mg == Decimal(10) and waste.witness == prescriber
    assert [e.kind for e in iv_session.infusion_events.all()] == [
        "start",
        "pause",
        "resume",
        "stop",
    ]


def test_an_early_stop_is_charted_from_the_pump_not_the_plan(
    client, nurse, iv_session, vials, clock
):
    client.force_login(nurse)
    _cleared(client, iv_session)
    clock.move_to(at(MONDAY, 9, 0))
    client.post(
        _url("infusion", iv_session),
        {"action": "start", "start-container": str(vials[0].uuid), "start-drawn_mg": "50"},
    )
    clock.move_to(at(MONDAY, 9, 2))
    page = client.get(_detail(iv_session)).content.decode()
    # 40 mg over 40 min is 1 mg a minute: 2 mg by 09:02. The given field is left for the pump.
    assert "up to <strong>2 mg</strong> can have run in by 09:02" in page
    assert 'name="iv-stop-given_mg"' in page
    assert re.search(r'name="iv-stop-given_mg"[^>]*value=', page) is None

    response = client.post(
        _url("infusion", iv_session), {"action": "stop", "iv-stop-given_mg": "40"}
    )
    assert response.status_code == 200
    assert "at most 2 mg could have run in" in response.content.decode()
    assert not LedgerEntry.objects.filter(kind="administration").exists()

    clock.move_to(at(MONDAY, 9, 40))
    page = client.get(_detail(iv_session)).content.decode()
    # At the planned end the planned dose is offered.
    assert re.search(r'name="iv-stop-given_mg"[^>]*value="40(\.0)?"', page)


def test_a_waste_witness_with_the_wrong_password_is_refused_and_nothing_is_written(
    client, nurse, prescriber, iv_session, vials, clock
):
    client.force_login(nurse)
    _cleared(client, iv_session)
    clock.move_to(at(MONDAY, 9, 0))
    client.post(
        _url("infusion", iv_session),
        {"action": "start", "start-container": str(vials[0].uuid), "start-drawn_mg": "50"},
    )
    before = _state()
    clock.move_to(at(MONDAY, 9, 40))
    response = client.post(
        _url("infusion", iv_session),
        {
            "action": "stop",
            "iv-stop-given_mg": "40",
            "iv-stop-witness": str(prescriber.uuid),
            "iv-stop-witness_password": "not-the-password",
        },
    )
    assert response.status_code == 200
    assert "The witness&#x27;s password is not right." in response.content.decode()
    assert _state() == before


def test_dosing_is_not_offered_before_the_pre_checks_clear(client, nurse, iv_session, vials):
    client.force_login(nurse)
    html = client.get(_detail(iv_session)).content.decode()
    assert "Dosing cannot start until the pre-checks pass" in html
    assert "Start the infusion" not in html
    response = client.post(
        _url("infusion", iv_session),
        {"action": "start", "start-container": str(vials[0].uuid), "start-drawn_mg": "40"},
    )
    assert response.status_code == 200
    # The service's refusal, naming what is unmet, on the form.
    assert "Dosing cannot start until the pre-checks pass or a prescriber overrides them: " in (
        response.content.decode()
    )
    assert not LedgerEntry.objects.filter(kind="administration").exists()


def test_the_second_esketamine_device_waits_five_minutes(
    client, nurse, prescriber, esketamine_session, devices, clock
):
    client.force_login(prescriber)
    assert (
        client.post(
            _url("override", esketamine_session), {"override-reason": "Test: checks by phone"}
        ).status_code
        == 302
    )
    client.force_login(nurse)
    clock.move_to(at(MONDAY, 9, 0))
    first = client.post(
        _url("device", esketamine_session), {"device-container": str(devices[0].uuid)}
    )
    assert first.status_code == 302
    html = client.get(_detail(esketamine_session)).content.decode()
    assert "Device 2 of 2" in html
    # The countdown to 09:05 (5 minutes after the first device, label [C2]) and a button that
    # clock.js enables then.
    assert 'data-countdown-to="2031-06-02T13:05:00+00:00"' in html
    assert 'data-enable-at="2031-06-02T13:05:00+00:00"' in html
    clock.move_to(at(MONDAY, 9, 4))
    refused = client.post(
        _url("device", esketamine_session), {"device-container": str(devices[1].uuid)}
    )
    assert refused.status_code == 200
    assert "Wait 1 min 00 s more: devices are 5 minutes apart (label)." in refused.content.decode()
    assert DoseAdministration.objects.filter(session=esketamine_session).count() == 1
    clock.move_to(at(MONDAY, 9, 5))
    second = client.post(
        _url("device", esketamine_session), {"device-container": str(devices[1].uuid)}
    )
    assert second.status_code == 302
    esketamine_session.refresh_from_db()
    assert esketamine_session.phase == "monitoring"
    assert Container.objects.get(pk=devices[1].pk).balance_mg == 0  # a device is used whole
    html = client.get(_detail(esketamine_session)).content.decode()
    # Observation: 120 minutes after the last device (label [C9]); BP recheck ~40 min after it.
    assert 'data-countdown-to="2031-06-02T15:05:00+00:00"' in html  # 11:05 local
    assert 'data-countdown-to="2031-06-02T13:45:00+00:00"' in html  # 09:45 local
    assert reverse("treatment_sessions:rems_form", args=[esketamine_session.uuid]) in html


def test_esketamine_dosing_ends_early_from_the_page(
    client, nurse, prescriber, esketamine_session, devices, clock
):
    services.precheck_override(
        actor=prescriber, session=esketamine_session, reason="Test: checks by phone"
    )
    client.force_login(nurse)
    clock.move_to(at(MONDAY, 9, 0))
    client.post(_url("device", esketamine_session), {"device-container": str(devices[0].uuid)})
    html = client.get(_detail(esketamine_session)).content.decode()
    assert "Give no more devices today" in html
    clock.move_to(at(MONDAY, 9, 2))

    blank = client.post(_url("dosing_end", esketamine_session), {"dosing-end-reason": ""})
    assert blank.status_code == 200
    assert fresh(esketamine_session).phase == "dosing"
    done = client.post(
        _url("dosing_end", esketamine_session), {"dosing-end-reason": "Dizzy after device 1"}
    )

    assert done.status_code == 302
    session = fresh(esketamine_session)
    assert (session.phase, session.dose_completed_at) == ("monitoring", at(MONDAY, 9, 0))
    html = client.get(_detail(esketamine_session)).content.decode()
    assert 'data-countdown-to="2031-06-02T15:00:00+00:00"' in html  # observation ends 11:00


def test_an_im_injection_through_the_page_writes_the_ledger_with_the_site(
    client, nurse, prescriber, im_appointment, vials, clock
):
    clock.move_to(at(MONDAY, 8, 55))
    session = services.session_check_in(
        actor=nurse, appointment=im_appointment, identity=identity_of(im_appointment)
    )
    client.force_login(nurse)
    _cleared(client, session)
    clock.move_to(at(MONDAY, 9, 0))
    response = client.post(
        _url("im_injection", session),
        {
            "im-container": str(vials[0].uuid),
            "im-drawn_mg": "45",
            "im-given_mg": "40",  # 0.5 mg/kg × 80 kg
            "im-site": "deltoid_left",
            "im-witness": str(prescriber.uuid),
            "im-witness_password": TEST_PASSWORD,
        },
    )
    assert response.status_code == 302
    entry = LedgerEntry.objects.get(kind="administration", session_ref=str(session.uuid))
    assert (entry.drawn_mg, entry.given_mg) == (Decimal(45), Decimal(40))
    assert LedgerEntry.objects.get(kind="waste", administration=entry).wasted_mg == Decimal(5)
    assert Container.objects.get(pk=vials[0].pk).balance_mg == Decimal(55)
    html = client.get(_detail(session)).content.decode()
    assert "Left deltoid" in html and "Awaiting witnessed waste" not in html


def test_a_residual_left_at_the_stop_is_wasted_later_with_a_witness(
    client, nurse, prescriber, iv_session, vials, clock
):
    client.force_login(nurse)
    _cleared(client, iv_session)
    clock.move_to(at(MONDAY, 9, 0))
    client.post(
        _url("infusion", iv_session),
        {"action": "start", "start-container": str(vials[0].uuid), "start-drawn_mg": "50"},
    )
    clock.move_to(at(MONDAY, 9, 40))
    client.post(_url("infusion", iv_session), {"action": "stop", "iv-stop-given_mg": "40"})
    html = client.get(_detail(iv_session)).content.decode()
    assert "Awaiting witnessed waste" in html
    assert "10 mg left in L100-001 awaits witnessed waste." in html  # a sign blocker
    administration = DoseAdministration.objects.get(session=iv_session)
    prefix = f"waste-{administration.uuid}"
    response = client.post(
        _url("waste", iv_session, administration.uuid),
        {f"{prefix}-witness": str(prescriber.uuid), f"{prefix}-witness_password": TEST_PASSWORD},
    )
    assert response.status_code == 302
    waste = LedgerEntry.objects.get(kind="waste", administration=administration.ledger_entry)
    assert waste.wasted_mg == Decimal(10) and waste.witness == prescriber
    assert "Awaiting witnessed waste" not in client.get(_detail(iv_session)).content.decode()


def test_a_wrong_reading_and_a_wrong_side_effect_stay_struck_through(client, nurse, iv_session):
    client.force_login(nurse)
    client.post(_url("vitals", iv_session), CALM_VITALS)
    entry = VitalsEntry.objects.get(session=iv_session)
    response = client.post(
        _url("vitals_error", iv_session, entry.uuid),
        {f"verr-{entry.uuid}-reason": "Cuff on the wrong arm"},
    )
    assert response.status_code == 302
    client.post(
        _url("side_effect", iv_session),
        {"se-kind": "nausea", "se-severity": "mild", "se-intervention": "Antiemetic given"},
    )
    effect = iv_session.side_effects.get()
    response = client.post(
        _url("record_error", iv_session, "side-effect", effect.uuid),
        {f"rerr-{effect.uuid}-reason": "Another patient's"},
    )
    assert response.status_code == 302
    html = client.get(_detail(iv_session)).content.decode()
    assert "Entered in error: Cuff on the wrong arm" in html
    assert "Entered in error: Another patient&#x27;s" in html
    assert VitalsEntry.objects.filter(session=iv_session).count() == 1  # kept, not deleted


def test_other_side_effect_needs_a_description(client, nurse, iv_session):
    client.force_login(nurse)
    response = client.post(
        _url("side_effect", iv_session), {"se-kind": "other", "se-severity": "moderate"}
    )
    assert response.status_code == 200
    assert re.search(
        r'id="id_se-other_text_error"[^>]*>Describe the side effect\.', (response.content.decode())
    )
    assert not iv_session.side_effects.exists()


def test_scores_are_recorded_with_their_totals(client, nurse, iv_session):
    client.force_login(nurse)
    response = client.post(_url("score", iv_session), {"kind": "moaas", "moaas-item_1": "4"})
    assert response.status_code == 302
    cadss = {f"cadss-item_{n}": "1" for n in range(1, 24)}
    assert client.post(_url("score", iv_session), {"kind": "cadss", **cadss}).status_code == 302
    scores = {s.kind: s.response.total for s in iv_session.scores.select_related("response")}
    assert scores == {"moaas": 4, "cadss": 23}  # CADSS: 23 items of 1
    incomplete = dict(cadss)
    incomplete.pop("cadss-item_23")
    response = client.post(_url("score", iv_session), {"kind": "cadss", **incomplete})
    assert response.status_code == 200
    assert iv_session.scores.count() == 2


def test_only_a_prescriber_is_offered_the_overrides(client, nurse, prescriber, iv_session):
    client.force_login(nurse)
    html = client.get(_detail(iv_session)).content.decode()
    assert 'name="pre-intention"' in html
    assert 'name="override-reason"' not in html
    client.force_login(prescriber)
    html = client.get(_detail(iv_session)).content.decode()
    assert 'name="override-reason"' in html


def test_a_therapist_reads_the_page_without_forms_and_adds_an_integration_note(
    client, therapist, iv_session
):
    client.force_login(therapist)
    html = client.get(_detail(iv_session)).content.decode()
    assert 'name="vitals-systolic_mmhg"' not in html and 'name="pre-intention"' not in html
    assert 'name="integration-text"' in html
    response = client.post(
        _url("integration_note", iv_session), {"integration-text": "Prepared the intention."}
    )
    assert response.status_code == 302
    assert "Prepared the intention." in client.get(_detail(iv_session)).content.decode()


def test_a_session_is_stopped_with_a_reason(client, nurse, iv_session):
    client.force_login(nurse)
    assert client.post(_url("stop", iv_session), {"stop-reason": ""}).status_code == 200
    response = client.post(_url("stop", iv_session), {"stop-reason": "Patient unwell today"})
    assert response.status_code == 302
    iv_session.refresh_from_db()
    assert (iv_session.phase, iv_session.stop_reason) == ("stopped", "Patient unwell today")
    iv_session.appointment.refresh_from_db()
    assert iv_session.appointment.status == "completed"


# --------------------------------------------------------------------------- discharge


def test_discharge_is_blocked_then_a_prescriber_overrides_with_a_reason(
    client, nurse, prescriber, iv_session, vials, clock
):
    client.force_login(nurse)
    _infusion_given(client, iv_session, vials[0], clock, prescriber)  # stopped at 09:40
    clock.move_to(at(MONDAY, 9, 50))
    response = client.post(
        _url("score", iv_session),
        {"kind": "modified-aldrete", **{f"modified-aldrete-item_{n}": "2" for n in range(1, 6)}},
    )
    assert response.status_code == 302
    clock.move_to(at(MONDAY, 9, 55))
    page = client.get(_detail(iv_session)).content.decode()
    assert "Discharge is blocked" in page and "10:10" in page  # 09:40 + 30 min
    assert "override_reason" not in page  # a nurse has no override
    data = {
        "discharge-escort_present": "on",
        "discharge-instructions_given": "on",
        "discharge-instructions_text": "No driving until tomorrow.",
    }
    response = client.post(_url("discharge", iv_session), data)
    assert response.status_code == 200
    assert "Discharge is blocked: Observation is not complete: 15 min to go" in (
        response.content.decode()
    )
    iv_session.refresh_from_db()
    assert iv_session.phase == "monitoring"

    client.force_login(prescriber)
    page = client.get(_detail(iv_session)).content.decode()
    assert "discharge-override_reason" in page
    response = client.post(
        _url("discharge", iv_session),
        {**data, "discharge-override_reason": "Stable; escort must leave"},
    )
    assert response.status_code == 302
    iv_session.refresh_from_db()
    assert iv_session.phase == "discharged"
    override = SessionOverride.objects.get(session=iv_session, kind="discharge")
    assert override.prescriber == prescriber
    assert [u["key"] for u in override.unmet] == ["observation_not_complete"]


def test_discharge_form_prefills_the_instructions_from_policy(
    client, nurse, prescriber, iv_session, vials, clock
):
    client.force_login(nurse)
    _infusion_given(client, iv_session, vials[0], clock, prescriber)
    html = client.get(_detail(iv_session)).content.decode()
    # policy-defaults.md "Escort home": no driving until the next day [C3], [E11].
    assert "Do not drive or operate machinery until the next day." in html


# --------------------------------------------------------------------------- signature


def test_a_signed_page_shows_the_hash_and_refuses_edits(client, nurse, prescriber, signable):
    client.force_login(prescriber)
    html = client.get(_detail(signable)).content.decode()
    assert "Sign the session record" in html
    assert client.post(_url("sign", signable)).status_code == 302
    signable.refresh_from_db()
    canonical = json.dumps(
        signable.signed_content, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    assert signable.signed_sha256 == hashlib.sha256(canonical.encode()).hexdigest()

    client.force_login(nurse)
    html = client.get(_detail(signable)).content.decode()
    assert signable.signed_sha256 in html
    assert 'name="note-text"' not in html and 'name="vitals-systolic_mmhg"' not in html
    before = _state()
    response = client.post(_url("note", signable), {"note-text": "Changed afterwards."})
    assert response.status_code == 200
    assert "This session record is signed and locked: add an addendum instead." in (
        response.content.decode()
    )
    assert _state() == before
    response = client.post(_url("addendum", signable), {"addendum-text": "Called: fine at home."})
    assert response.status_code == 302
    assert "Called: fine at home." in client.get(_detail(signable)).content.decode()


def test_sign_blockers_are_listed_and_signing_refused(client, nurse, prescriber, iv_session):
    client.force_login(prescriber)
    html = client.get(_detail(iv_session)).content.decode()
    assert "The session is still open: discharge or stop it first." in html
    assert "Sign the session record" not in html
    response = client.post(_url("sign", iv_session), follow=True)
    assert "The session is still open" in response.content.decode()
    iv_session.refresh_from_db()
    assert not iv_session.is_signed


# --------------------------------------------------------------------------- htmx


def test_the_live_header_is_its_own_partial(client, nurse, iv_session):
    client.force_login(nurse)
    response = client.get(
        _detail(iv_session), headers={"HX-Request": "true", "HX-Target": "session-live"}
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="session-live"')
    assert "Checked in — pre-checks" in html
    assert "<main" not in html


# --------------------------------------------------------------------------- asking a prescriber

LIVE = {"HX-Request": "true", "HX-Target": "session-live", "X-Background-Refresh": "1"}


def test_the_nurse_asks_for_a_pre_check_override_from_the_page(client, nurse, iv_session):
    client.force_login(nurse)
    html = client.get(_detail(iv_session)).content.decode()
    assert "Ask a prescriber to override the pre-checks" in html

    response = client.post(
        _url("ask", iv_session),
        {"kind": "pre_checks", "note": "Ate toast at 07:30", "escort_present": "on"},
        follow=True,
    )

    html = response.content.decode()
    assert "The care team&#x27;s prescribers are asked" in html
    assert "Waiting for a prescriber:" in html and "Ate toast at 07:30" in html
    assert "Ask a prescriber to override the pre-checks" not in html  # one waits already
    assert "Awaiting prescriber" in html


def test_a_refused_ask_says_why_and_writes_nothing(client, nurse, iv_session):
    client.force_login(nurse)
    client.post(_url("ask", iv_session), {"kind": "pre_checks"})
    response = client.post(_url("ask", iv_session), {"kind": "pre_checks"}, follow=True)
    assert "the request is still waiting" in response.content.decode()
    assert iv_session.prescriber_requests.count() == 1


def test_the_live_bar_reports_the_prescribers_answer(client, nurse, prescriber, iv_session, clock):
    client.force_login(nurse)
    client.post(_url("vitals", iv_session), {**CALM_VITALS, "vitals-systolic_mmhg": "190"})
    since = "2031-06-02T08:56:00-04:00"
    html = client.get(_detail(iv_session), {"since": since}, headers=LIVE).content.decode()
    assert "Awaiting prescriber" in html and "Confirm the pre-dose blood pressure" in html

    clock.move_to(at(MONDAY, 9, 1))
    services.pre_dose_bp_confirm(actor=prescriber, session=iv_session, reason="Usual for her")

    html = client.get(_detail(iv_session), {"since": since}, headers=LIVE).content.decode()
    assert "Awaiting prescriber" not in html
    assert "answered: confirm the pre-dose blood pressure at 09:01" in html
    assert "Show the page as it is now" in html


def test_a_decline_is_read_at_the_chair(client, nurse, prescriber, iv_session):
    client.force_login(nurse)
    client.post(_url("vitals", iv_session), {**CALM_VITALS, "vitals-systolic_mmhg": "190"})
    request = iv_session.prescriber_requests.get()
    client.force_login(prescriber)
    client.post(
        reverse("treatment_sessions:request_decline", args=[request.uuid]),
        {"note": "Recheck seated in 15 minutes"},
    )
    client.force_login(nurse)
    html = client.get(_detail(iv_session)).content.decode()
    assert "declined</strong> confirm the pre-dose blood pressure" in html
    assert "Recheck seated in 15 minutes" in html
    # The nurse may ask again once she has rechecked.
    assert "Ask a prescriber to confirm the pre-dose BP" in html
