"""Intake and the signed eligibility decision (screening-rules.md; issue 4)."""

import datetime

import pytest
from django.utils import timezone

from clinic.core.exceptions import Conflict, InvalidInput, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.patients import services as patient_services
from clinic.patients.tests.factories import register
from clinic.screening import eligibility
from clinic.screening import intake as intake_services
from clinic.screening.models import EligibilityDecision, Intake, RemsEnrollment
from clinic.screening.ruleset import current_rule_set_version, rule_set_policy_update

pytestmark = pytest.mark.django_db

TRD_HISTORY = dict(
    data={
        "indication": "treatment_resistant_depression",
        "conditions": ["psychosis_history"],
        "systolic_mmhg": 128,
        "diastolic_mmhg": 82,
        "heart_rate_bpm": 70,
        "weight_kg": "80",
        "height_cm": "170",
    },
    medications=[{"name": "Sertraline", "medication_class": "other", "dose": "100 mg"}],
    trials=[
        {"drug": "sertraline", "adequate": True, "outcome": "no_response", "current_episode": True},
        {
            "drug": "bupropion",
            "adequate": True,
            "outcome": "partial_response",
            "current_episode": True,
        },
    ],
)


@pytest.fixture
def patient(front_desk, prescriber, nurse, therapist):
    patient = register(front_desk)  # female, born 1985
    patient_services.care_team_set(
        actor=front_desk,
        patient=patient,
        primary_prescriber=prescriber,
        nurses=[nurse],
        therapists=[therapist],
    )
    return patient


@pytest.fixture
def submitted(patient, nurse):
    intake = intake_services.intake_start(actor=nurse, patient=patient)
    return intake_services.intake_save(actor=nurse, intake=intake, submit=True, **TRD_HISTORY)


def test_the_evaluation_follows_the_rule_set(submitted):
    evaluation, version = eligibility.intake_evaluate(submitted)
    assert version.version == 1
    codes = {f.code: f.level for f in evaluation.findings}
    # screening-rules.md: psychosis_history is relative for iv/im/esketamine and its
    # _unmonitored twin absolute for sublingual; no home monitor → sublingual closed too.
    assert codes["psychosis_history"] == "relative"
    assert codes["psychosis_history_unmonitored"] == "absolute"
    assert evaluation.treatment_resistant is True and evaluation.failed_adequate_trials == 2
    assert str(evaluation.bmi) == "27.7"  # 80 / 1.70² (api-calculators.md §3)
    assert evaluation.routes == {
        "iv": "eligible_with_precautions",
        "im": "eligible_with_precautions",
        "esketamine": "eligible_with_precautions",
        "sublingual": "ineligible",
    }


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"conditions": ["dragon_pox"]}, "conditions", "Unknown condition"),
        ({"indication": "insomnia"}, "indication", "Unknown indication"),
        ({"systolic_mmhg": 320, "diastolic_mmhg": 80}, "systolic_mmhg", "between 50 and 300"),
        ({"systolic_mmhg": 120, "diastolic_mmhg": 130}, "diastolic_mmhg", "below the systolic"),
        ({"systolic_mmhg": 120}, "diastolic_mmhg", "both blood-pressure values"),
        ({"heart_rate_bpm": 12}, "heart_rate_bpm", "between 20 and 250"),
        ({"weight_kg": "24"}, "weight_kg", "between 25 and 350"),
        ({"allergies": "pen\x00icillin"}, "allergies", "control characters"),
    ],
)
def test_bad_intake_answers_are_refused_and_nothing_is_saved(patient, nurse, data, field, message):
    intake = intake_services.intake_start(actor=nurse, patient=patient)
    with pytest.raises(InvalidInput) as caught:
        intake_services.intake_save(actor=nurse, intake=intake, data=data)
    assert message in " ".join(caught.value.errors[field])
    intake.refresh_from_db()
    assert intake.conditions == [] and intake.systolic_mmhg is None


def test_a_male_patient_cannot_be_recorded_pregnant(front_desk, nurse, prescriber):
    patient = register(front_desk, sex="male")
    patient_services.care_team_set(
        actor=front_desk, patient=patient, primary_prescriber=prescriber, nurses=[nurse]
    )
    intake = intake_services.intake_start(actor=nurse, patient=patient)
    with pytest.raises(InvalidInput) as caught:
        intake_services.intake_save(actor=nurse, intake=intake, data={"pregnant": True})
    assert "pregnant" in caught.value.errors


def test_a_trial_outcome_without_a_drug_is_refused(patient, nurse):
    intake = intake_services.intake_start(actor=nurse, patient=patient)
    with pytest.raises(InvalidInput) as caught:
        intake_services.intake_save(
            actor=nurse, intake=intake, data={}, trials=[{"drug": "", "outcome": "no_response"}]
        )
    assert "without a drug" in caught.value.errors["trials"][0]
    assert not intake.trials.exists()


@pytest.mark.parametrize("who", ["therapist", "front_desk", "billing", "clinic_admin"])
def test_only_care_team_prescribers_and_nurses_enter_the_intake(patient, request, who):
    with pytest.raises(PermissionDenied):
        intake_services.intake_start(actor=request.getfixturevalue(who), patient=patient)
    assert not Intake.objects.exists()


def sign(actor, intake, **kwargs):
    return eligibility.decision_sign(actor=actor, intake=intake, **kwargs)


def test_proceeding_despite_a_relative_finding_needs_a_written_justification(submitted, prescriber):
    with pytest.raises(InvalidInput) as caught:
        sign(prescriber, submitted, outcome="eligible", approved_routes=["iv", "esketamine"])
    assert "justification_psychosis_history" in caught.value.errors
    assert not EligibilityDecision.objects.exists()
    decision = sign(
        prescriber,
        submitted,
        outcome="eligible",
        approved_routes=["iv", "esketamine"],
        justifications={
            "psychosis_history": "One brief episode in 2009; stable since; psychiatrist agrees."
        },
    )
    assert decision.approved_routes == ["iv", "esketamine"]
    assert decision.rule_set.version == 1 and decision.intake_revision == submitted.revision
    assert len(decision.content_sha256) == 64
    event = AuditEvent.objects.get(object_type="eligibility_decision")
    assert event.actor == prescriber and "eligible" in event.summary


def test_an_absolute_finding_cannot_be_overridden(submitted, prescriber):
    with pytest.raises(InvalidInput) as caught:
        sign(
            prescriber,
            submitted,
            outcome="eligible",
            approved_routes=["sublingual"],
            justifications={"psychosis_history": "x"},
        )
    assert "cannot be overridden" in caught.value.errors["approved_routes"][0]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"outcome": "deferred"}, "awaiting"),
        ({"outcome": "ineligible", "approved_routes": ["iv"]}, "approved_routes"),
        ({"outcome": "eligible"}, "approved_routes"),
        ({"outcome": "maybe"}, "outcome"),
    ],
)
def test_incoherent_decisions_are_refused(submitted, prescriber, kwargs, field):
    with pytest.raises(InvalidInput) as caught:
        sign(prescriber, submitted, **kwargs)
    assert field in caught.value.errors


def test_a_deferred_decision_says_what_is_awaited(submitted, prescriber, patient):
    decision = sign(prescriber, submitted, outcome="deferred", awaiting="Cardiology letter")
    assert decision.awaiting == "Cardiology letter"
    assert not eligibility.planning_clearance(patient=patient, route="iv").allowed


@pytest.mark.parametrize("who", ["nurse", "therapist", "clinic_admin", "outsider"])
def test_only_a_care_team_prescriber_signs(submitted, make_staff, request, who):
    actor = (
        make_staff("prescriber", username="outsider")
        if who == "outsider"
        else request.getfixturevalue(who)
    )
    with pytest.raises(PermissionDenied):
        sign(actor, submitted, outcome="ineligible")
    assert not EligibilityDecision.objects.exists()


def test_a_draft_intake_cannot_be_signed(patient, nurse, prescriber):
    intake = intake_services.intake_start(actor=nurse, patient=patient)
    with pytest.raises(Conflict):
        sign(prescriber, intake, outcome="ineligible")


def test_signing_a_stale_review_is_refused(submitted, prescriber):
    with pytest.raises(Conflict):
        sign(prescriber, submitted, outcome="ineligible", expected_revision=submitted.revision - 1)


def test_an_intake_change_after_signing_blocks_planning_until_re_signed(
    submitted, prescriber, nurse, patient
):
    justification = {"psychosis_history": "Stable for 15 years."}
    sign(
        prescriber,
        submitted,
        outcome="eligible",
        approved_routes=["iv"],
        justifications=justification,
    )
    assert eligibility.planning_clearance(patient=patient, route="iv").allowed
    assert not eligibility.planning_clearance(patient=patient, route="im").allowed
    changed = intake_services.intake_save(
        actor=nurse, intake=submitted, data={"allergies": "Latex"}
    )
    assert changed.revision == submitted.revision + 1
    clearance = eligibility.planning_clearance(patient=patient, route="iv")
    assert not clearance.allowed and "re-signed" in clearance.reason
    sign(
        prescriber,
        changed,
        outcome="eligible",
        approved_routes=["iv"],
        justifications=justification,
    )
    assert eligibility.planning_clearance(patient=patient, route="iv").allowed


def test_saving_without_changes_does_not_bump_the_revision(submitted, nurse):
    again = intake_services.intake_save(actor=nurse, intake=submitted, **TRD_HISTORY)
    assert again.revision == submitted.revision


def test_esketamine_needs_rems_enrolment_before_planning(submitted, prescriber, patient):
    sign(
        prescriber,
        submitted,
        outcome="eligible",
        approved_routes=["esketamine"],
        justifications={"psychosis_history": "Stable."},
    )
    assert not eligibility.planning_clearance(patient=patient, route="esketamine").allowed
    with pytest.raises(InvalidInput):
        eligibility.rems_record(
            actor=prescriber,
            patient=patient,
            enrolled_on=timezone.localdate(),
            signed_by_patient=False,
            prescriber=prescriber,
        )
    with pytest.raises(InvalidInput):
        eligibility.rems_record(
            actor=prescriber,
            patient=patient,
            enrolled_on=timezone.localdate() + datetime.timedelta(days=1),
            signed_by_patient=True,
            prescriber=prescriber,
        )
    with pytest.raises(InvalidInput) as error:
        eligibility.rems_record(
            actor=prescriber,
            patient=patient,
            enrolled_on=timezone.localdate(),
            signed_by_patient=True,
            prescriber=prescriber,
            rems_patient_id="X" * 41,
        )
    assert "rems_patient_id" in error.value.errors
    eligibility.rems_record(
        actor=prescriber,
        patient=patient,
        enrolled_on=timezone.localdate(),
        signed_by_patient=True,
        prescriber=prescriber,
        rems_patient_id=" PT-0042 ",
    )
    assert RemsEnrollment.objects.get().rems_patient_id == "PT-0042"
    assert eligibility.planning_clearance(patient=patient, route="esketamine").allowed


def test_a_policy_change_is_a_new_version_and_new_decisions_pin_it(
    submitted, prescriber, clinic_admin
):
    created = rule_set_policy_update(
        actor=clinic_admin,
        policy={"levels": {"psychosis_history": "caution"}},
        note="Per medical director",
    )
    assert created.version == 2 and current_rule_set_version().version == 2
    evaluation, _ = eligibility.intake_evaluate(submitted)
    assert {f.code: f.level for f in evaluation.findings}["psychosis_history"] == "caution"
    # A caution needs no justification.
    decision = sign(prescriber, submitted, outcome="eligible", approved_routes=["iv"])
    assert decision.rule_set.version == 2 and decision.justifications == {}


def test_label_rules_cannot_be_changed(clinic_admin):
    with pytest.raises(InvalidInput):
        rule_set_policy_update(
            actor=clinic_admin, policy={"levels": {"esketamine_off_label": "caution"}}, note="no"
        )
    assert current_rule_set_version().version == 1


def test_only_admins_change_the_rules(prescriber):
    with pytest.raises(PermissionDenied):
        rule_set_policy_update(actor=prescriber, policy={}, note="x")


def test_a_record_that_contradicts_the_intake_is_explained_not_crashed(
    client, submitted, prescriber, front_desk, patient, nurse
):
    intake_services.intake_save(actor=nurse, intake=submitted, data={"pregnant": True})
    patient_services.patient_update(actor=front_desk, patient=patient, data={"sex": "male"})
    client.force_login(prescriber)
    response = client.get(f"/patients/{patient.uuid}/eligibility/")
    assert response.status_code == 200
    assert "cannot be evaluated" in response.content.decode()
    with pytest.raises(Conflict):
        sign(prescriber, submitted, outcome="ineligible")


def test_the_admin_changes_a_policy_level_on_the_rules_page(client, clinic_admin, nurse):
    client.force_login(clinic_admin)
    page = client.get("/screening/rules/").content.decode()
    assert 'name="level_psychosis_history"' in page
    assert 'name="level_esketamine_off_label"' not in page  # a label rule: not editable
    form = {
        f"threshold_{name}": str(spec.default)
        for name, spec in __import__(
            "clinic.screening.rules", fromlist=["THRESHOLDS"]
        ).THRESHOLDS.items()
    }
    form.update({"level_psychosis_history": "caution", "note": "Medical director, 2026-11"})
    assert client.post("/screening/rules/", form).status_code == 302
    version = current_rule_set_version()
    assert version.version == 2 and version.policy["levels"] == {"psychosis_history": "caution"}
    # Lowering a label minimum is refused and makes no version.
    form["threshold_adult_age_years"] = "16"
    response = client.post("/screening/rules/", form)
    assert response.status_code == 200 and current_rule_set_version().version == 2
    client.force_login(nurse)
    assert client.get("/screening/rules/").status_code == 200
    assert client.post("/screening/rules/", form).status_code == 403
