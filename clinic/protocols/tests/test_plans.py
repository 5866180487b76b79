"""Treatment plans (issue 5): only through the eligibility gate; doses a pharmacist can check."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from clinic.core.exceptions import Conflict, InvalidInput, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.protocols import services, services_templates
from clinic.protocols.models import PlannedSession, ProtocolTemplate, TreatmentPlan
from clinic.protocols.tests.conftest import SCREENED, TWO_FAILED_TRIALS
from clinic.screening import services as screening_services

pytestmark = pytest.mark.django_db


def template(code):
    return ProtocolTemplate.objects.get(code=code, version=1)


def monday_after(days=1):
    day = timezone.localdate() + datetime.timedelta(days=days)
    return day + datetime.timedelta(days=(7 - day.weekday()) % 7)


def test_an_iv_induction_plan_has_six_40_minute_infusions_at_0_5_mg_per_kg(eligible, prescriber):
    start = monday_after()
    plan = services.plan_create(
        actor=prescriber,
        patient=eligible,
        template=template("iv-induction-3x-weekly"),
        start_date=start,
    )
    sessions = list(plan.sessions.all())
    # [A9]: 6 infusions, 3 a week, over 12 days; 0.5 mg/kg × 80 kg = 40.0 mg over 40 min.
    assert len(sessions) == 6 and plan.session_count == 6
    assert all(
        (s.dose_mg, s.weight_used_kg, s.infusion_minutes) == (Decimal("40.0"), Decimal("80.0"), 40)
        for s in sessions
    )
    assert (sessions[-1].planned_date - sessions[0].planned_date).days <= 12
    assert len({s.planned_date for s in sessions}) == 6
    assert plan.status == "draft" and plan.eligibility_decision.approved_routes == [
        "iv",
        "esketamine",
    ]
    assert AuditEvent.objects.filter(object_type="treatment_plan", action="create").exists()


def test_no_plan_without_a_decision_that_opens_the_route(eligible, prescriber):
    with pytest.raises(Conflict) as caught:
        services.plan_create(
            actor=prescriber,
            patient=eligible,
            template=template("im-induction"),
            start_date=monday_after(),
        )
    assert "does not open" in caught.value.message
    assert not TreatmentPlan.objects.exists()


def test_esketamine_waits_for_rems_enrolment(eligible, prescriber):
    with pytest.raises(Conflict) as caught:
        services.plan_create(
            actor=prescriber,
            patient=eligible,
            template=template("esketamine-trd"),
            start_date=monday_after(),
        )
    assert "REMS" in caught.value.message
    screening_services.rems_record(
        actor=prescriber,
        patient=eligible,
        enrolled_on=timezone.localdate(),
        signed_by_patient=True,
        prescriber=prescriber,
    )
    plan = services.plan_create(
        actor=prescriber,
        patient=eligible,
        template=template("esketamine-trd"),
        start_date=monday_after(),
        esketamine_dose_mg=84,
    )
    doses = [s.dose_mg for s in plan.sessions.order_by("number")]
    # Label [C2]: day 1 is 56 mg; the prescriber's 84 mg applies from session 2.
    assert doses[0] == Decimal("56") and set(doses[1:8]) == {Decimal("84")}


def test_a_changed_intake_blocks_new_plans_until_re_signed(eligible, prescriber, nurse):
    intake = eligible.intakes.get()
    screening_services.intake_save(actor=nurse, intake=intake, data={"allergies": "Latex"})
    with pytest.raises(Conflict) as caught:
        services.plan_create(
            actor=prescriber,
            patient=eligible,
            template=template("iv-induction-2x-weekly"),
            start_date=monday_after(),
        )
    assert "re-signed" in caught.value.message


@pytest.mark.parametrize("who", ["nurse", "therapist", "clinic_admin", "front_desk"])
def test_only_a_care_team_prescriber_plans(eligible, request, who):
    with pytest.raises(PermissionDenied):
        services.plan_create(
            actor=request.getfixturevalue(who),
            patient=eligible,
            template=template("iv-induction-2x-weekly"),
            start_date=monday_after(),
        )
    assert not TreatmentPlan.objects.exists()


def test_iv_needs_a_recorded_weight(patient, nurse, prescriber):
    intake = screening_services.intake_start(actor=nurse, patient=patient)
    intake = screening_services.intake_save(
        actor=nurse,
        intake=intake,
        data={
            **SCREENED,
            "indication": "treatment_resistant_depression",
            "systolic_mmhg": 122,
            "diastolic_mmhg": 78,
        },
        trials=TWO_FAILED_TRIALS,
        submit=True,
    )
    screening_services.decision_sign(
        actor=prescriber, intake=intake, outcome="eligible", approved_routes=["iv"]
    )
    services.builtin_templates_ensure()
    with pytest.raises(InvalidInput) as caught:
        services.plan_create(
            actor=prescriber,
            patient=patient,
            template=template("iv-induction-2x-weekly"),
            start_date=monday_after(),
        )
    assert "weight" in caught.value.errors


@pytest.mark.parametrize("dose", ["0.09", "1.01"])
def test_a_dose_outside_the_policy_range_is_refused(eligible, prescriber, dose):
    with pytest.raises(InvalidInput) as caught:
        services.plan_create(
            actor=prescriber,
            patient=eligible,
            template=template("iv-induction-2x-weekly"),
            start_date=monday_after(),
            dose_mg_per_kg=Decimal(dose),
        )
    assert "between 0.1 and 1.0" in caught.value.errors["dose_mg_per_kg"][0]


def test_a_plan_cannot_start_in_the_past(eligible, prescriber):
    with pytest.raises(InvalidInput):
        services.plan_create(
            actor=prescriber,
            patient=eligible,
            template=template("iv-induction-2x-weekly"),
            start_date=timezone.localdate() - datetime.timedelta(days=1),
        )


def test_titration_changes_later_sessions_with_a_reason(eligible, prescriber):
    plan = services.plan_create(
        actor=prescriber,
        patient=eligible,
        template=template("iv-induction-2x-weekly"),
        start_date=monday_after(),
    )
    services.plan_activate(actor=prescriber, plan=plan)
    with pytest.raises(InvalidInput):
        services.plan_titrate(
            actor=prescriber, plan=plan, from_session=4, dose_mg_per_kg=Decimal("0.75"), reason=" "
        )
    services.plan_titrate(
        actor=prescriber,
        plan=plan,
        from_session=4,
        dose_mg_per_kg=Decimal("0.75"),
        reason="Partial response at session 3",
    )
    doses = [s.dose_mg for s in plan.sessions.order_by("number")]
    # 0.75 mg/kg × 80 kg = 60.0 mg from session 4.
    assert doses == [Decimal("40.0")] * 3 + [Decimal("60.0")] * 3
    assert (
        PlannedSession.objects.get(plan=plan, number=4).dose_change_reason
        == "Partial response at session 3"
    )
    event = AuditEvent.objects.filter(object_type="treatment_plan", action="update").latest("id")
    assert event.changes["dose_mg"] == {"before": ["40.0"] * 3, "after": ["60.0"] * 3}


def test_maintenance_every_2_to_8_weeks_after_induction(eligible, prescriber):
    start = monday_after()
    plan = services.plan_create(
        actor=prescriber,
        patient=eligible,
        template=template("iv-induction-2x-weekly"),
        start_date=start,
    )
    services.plan_activate(actor=prescriber, plan=plan)
    later = start + datetime.timedelta(days=35)
    for weeks in (1, 9):
        with pytest.raises(InvalidInput):
            services.plan_set_maintenance(
                actor=prescriber, plan=plan, interval_weeks=weeks, count=3, start_date=later
            )
    services.plan_set_maintenance(
        actor=prescriber, plan=plan, interval_weeks=4, count=3, start_date=later
    )
    maintenance = list(plan.sessions.filter(phase="maintenance").order_by("number"))
    assert [s.number for s in maintenance] == [7, 8, 9]
    assert [(s.planned_date - later).days for s in maintenance] == [0, 28, 56]
    plan.refresh_from_db()
    assert plan.maintenance_interval_weeks == 4 and plan.session_count == 9


def test_one_active_plan_per_route(eligible, prescriber):
    first = services.plan_create(
        actor=prescriber,
        patient=eligible,
        template=template("iv-induction-2x-weekly"),
        start_date=monday_after(),
    )
    second = services.plan_create(
        actor=prescriber,
        patient=eligible,
        template=template("iv-induction-3x-weekly"),
        start_date=monday_after(8),
    )
    services.plan_activate(actor=prescriber, plan=first)
    with pytest.raises(Conflict):
        services.plan_activate(actor=prescriber, plan=second)
    services.plan_finish(
        actor=prescriber, plan=first, discontinued=True, reason="Switched to the 3x weekly protocol"
    )
    services.plan_activate(actor=prescriber, plan=second)


def test_discontinuing_needs_a_reason(eligible, prescriber):
    plan = services.plan_create(
        actor=prescriber,
        patient=eligible,
        template=template("iv-induction-2x-weekly"),
        start_date=monday_after(),
    )
    with pytest.raises(InvalidInput):
        services.plan_finish(actor=prescriber, plan=plan, discontinued=True, reason="")
    services.plan_finish(actor=prescriber, plan=plan, discontinued=False)
    plan.refresh_from_db()
    assert plan.status == "completed"
    with pytest.raises(Conflict):
        services.plan_finish(actor=prescriber, plan=plan, discontinued=False)


def test_clinic_templates_are_validated_versioned_and_pinned(eligible, prescriber, clinic_admin):
    definition = ProtocolTemplate.objects.get(code="iv-induction-2x-weekly").definition
    with pytest.raises(InvalidInput):
        services_templates.template_create(
            actor=clinic_admin, code="iv-induction-2x-weekly", name="x", definition=definition
        )
    first = services_templates.template_create(
        actor=clinic_admin, code="iv-our-series", name="Our IV series", definition=definition
    )
    plan = services.plan_create(
        actor=prescriber, patient=eligible, template=first, start_date=monday_after()
    )
    broken = {**definition, "phases": [{**definition["phases"][0], "sessions": 0}]}
    with pytest.raises(InvalidInput):
        services_templates.template_create(
            actor=clinic_admin, code="iv-our-series", name="Our IV series", definition=broken
        )
    second = services_templates.template_create(
        actor=clinic_admin, code="iv-our-series", name="Our IV series", definition=definition
    )
    assert (first.version, second.version) == (1, 2)
    plan.refresh_from_db()
    assert plan.template == first
    with pytest.raises(PermissionDenied):
        services_templates.template_create(
            actor=prescriber, code="mine", name="Mine", definition=definition
        )


def test_the_plan_pages_preview_create_and_sign(client, eligible, prescriber):
    client.force_login(prescriber)
    base = f"/patients/{eligible.uuid}/plans/new/"
    choose = client.get(base).content.decode()
    assert "iv-induction-2x-weekly" in choose and "does not open" in choose  # IM not opened
    data = {
        "template": "iv-induction-2x-weekly",
        "start_date": monday_after().isoformat(),
        "action": "preview",
    }
    preview = client.post(base, data).content.decode()
    assert "40.0 mg" in preview and "0.5 mg/kg × 80.0 kg" in preview
    assert not TreatmentPlan.objects.exists()
    created = client.post(base, {**data, "action": "create"})
    plan = TreatmentPlan.objects.get()
    assert created.headers["Location"] == f"/patients/{eligible.uuid}/plans/{plan.uuid}/"
    client.post(f"/patients/{eligible.uuid}/plans/{plan.uuid}/activate/")
    plan.refresh_from_db()
    assert plan.status == "active"
    chart = client.get(f"/patients/{eligible.uuid}/").content.decode()
    assert "Treatment plans" in chart and "Active" in chart


def test_the_plan_pages_are_for_the_care_team(client, eligible, prescriber, actors):
    plan = services.plan_create(
        actor=prescriber,
        patient=eligible,
        template=template("iv-induction-2x-weekly"),
        start_date=monday_after(),
    )
    detail = f"/patients/{eligible.uuid}/plans/{plan.uuid}/"
    expected = {
        "clinic_admin": 200,
        "nurse": 200,
        "therapist": 200,
        "front_desk": 403,
        "billing": 403,
        "nurse_off_team": 404,
        "prescriber_off_team": 404,
    }
    for who, status in expected.items():
        client.force_login(actors[who])
        assert client.get(detail).status_code == status, who
    for who in ("nurse", "therapist", "clinic_admin"):
        client.force_login(actors[who])
        client.post(detail + "activate/")
        assert client.get(f"/patients/{eligible.uuid}/plans/new/").status_code == 403
    plan.refresh_from_db()
    assert plan.status == "draft"
