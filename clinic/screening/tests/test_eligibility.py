"""Intake and the signed eligibility decision (screening-rules.md; issue 4)."""

import datetime

import pytest
from django.utils import timezone

from clinic.core.exceptions import Conflict, InvalidInput, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.patients import services as patient_services
from clinic.patients.tests.factories import register
from clinic.screening import selectors, services
from clinic.screening.choices import Condition
from clinic.screening.models import EligibilityDecision, Intake, RemsEnrollment
from clinic.screening.selectors import current_rule_set_version
from clinic.screening.services import rule_set_policy_update

pytestmark = pytest.mark.django_db


def history(*yes: str) -> dict[str, bool]:
    """A medical history asked in full: these conditions yes, every other one no."""
    return {code: code in yes for code in Condition.values}


# What the rules need beyond the indication and vitals, every question answered (for a
# patient who is not male): nothing in the history, not pregnant, not breastfeeding.
ANSWERED = {
    "condition_answers": history(),
    "pregnant": False,
    "breastfeeding": False,
}

TRD_HISTORY = dict(
    data={
        **ANSWERED,
        "indication": "treatment_resistant_depression",
        "condition_answers": history("psychosis_history"),
        "systolic_mmhg": 128,
        "diastolic_mmhg": 82,
        "heart_rate_bpm": 70,
        "weight_kg": "80",
        "height_cm": "170",
        "takes_medications": True,
        "tried_antidepressants": True,
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


def test_the_evaluation_follows_the_rule_set(submitted):
    evaluation, version = selectors.intake_evaluate(submitted)
    assert version.version == 1
    codes = {f.code: f.level for f in evaluation.findings}
    # screening-rules.md: psychosis_history is relative for iv/im/esketamine and its
    # _unmonitored twin absolute for sublingual; no home monitor → sublingual closed too.
    assert codes["psychosis_history"] == "relative"
    assert codes["psychosis_history_unmonitored"] == "absolute"
    assert evaluation.treatment_resistant is True and evaluation.failed_adequate_trials == 2
    assert str(evaluation.bmi) == "27.7"  # 80 / 1.70² (calculators.md §3)
    assert evaluation.routes == {
        "iv": "eligible_with_precautions",
        "im": "eligible_with_precautions",
        "esketamine": "eligible_with_precautions",
        "sublingual": "ineligible",
    }


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"condition_answers": {"dragon_pox": True}}, "condition_answers", "Unknown condition"),
        (
            {"condition_answers": {"cardiac_disease": "yes"}},
            "condition_answers.cardiac_disease",
            "yes or no",
        ),
        ({"pregnant": "maybe"}, "pregnant", "yes or no"),
        ({"takes_medications": True}, "takes_medications", "list at least one medicine"),
        ({"tried_antidepressants": True}, "tried_antidepressants", "list at least one"),
        ({"conditions": ["psychosis_history"]}, "conditions", "not an intake question"),
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
    intake = services.intake_start(actor=nurse, patient=patient)
    with pytest.raises(InvalidInput) as caught:
        services.intake_save(actor=nurse, intake=intake, data=data)
    assert message in " ".join(caught.value.errors[field])
    intake.refresh_from_db()
    assert intake.condition_answers == {} and intake.systolic_mmhg is None


def test_a_male_patient_cannot_be_recorded_pregnant(front_desk, nurse, prescriber):
    patient = register(front_desk, sex="male")
    patient_services.care_team_set(
        actor=front_desk, patient=patient, primary_prescriber=prescriber, nurses=[nurse]
    )
    intake = services.intake_start(actor=nurse, patient=patient)
    with pytest.raises(InvalidInput) as caught:
        services.intake_save(actor=nurse, intake=intake, data={"pregnant": True})
    assert "pregnant" in caught.value.errors


def test_a_trial_outcome_without_a_drug_is_refused_at_its_cell(patient, nurse):
    intake = services.intake_start(actor=nurse, patient=patient)
    with pytest.raises(InvalidInput) as caught:
        services.intake_save(
            actor=nurse,
            intake=intake,
            data={},
            trials=[
                {},
                {"drug": "", "outcome": "no_response", "adequate": True, "current_episode": True},
            ],
        )
    # Row 2 as the user sees it (0-based 1: the blank first row counts), at the drug's cell.
    assert caught.value.errors == {
        "trials.1.drug": ["Enter the antidepressant's name: a trial is of a named drug."]
    }
    assert not intake.trials.exists()


def test_every_problem_in_the_tables_is_named_at_its_row_and_cell(patient, nurse):
    intake = services.intake_start(actor=nurse, patient=patient)
    with pytest.raises(InvalidInput) as caught:
        services.intake_save(
            actor=nurse,
            intake=intake,
            data={"takes_medications": False, "weight_kg": "900"},
            medications=[{"name": "Lorazepam", "dose": "1 mg"}, {"medication_class": "opioid"}],
            trials=[{"drug": "sertraline", "outcome": "no_response", "duration_weeks": "600"}],
        )
    errors = caught.value.errors
    assert set(errors) == {
        "weight_kg",
        "takes_medications",
        "medications.0.medication_class",
        "medications.1.name",
        "trials.0.duration_weeks",
        "trials.0.adequate",
        "trials.0.current_episode",
    }
    assert "answered no, but medicines are listed" in errors["takes_medications"][0]


@pytest.mark.parametrize(
    ("answer", "rows", "saved", "classes"),
    [
        # No medicines: the classes are known, and empty.
        (False, [], False, ()),
        # Medicines listed: known, and the classes are theirs ("other" is no class a rule knows).
        (
            True,
            [{"name": "Lorazepam", "medication_class": "benzodiazepine"}],
            True,
            ("benzodiazepine",),
        ),
        (True, [{"name": "Sertraline", "medication_class": "other"}], True, ()),
        # Rows listed without the yes: listing them answers yes.
        (None, [{"name": "Tramadol", "medication_class": "opioid"}], True, ("opioid",)),
        # Not answered, nothing listed: unknown (never "takes nothing").
        (None, [], None, None),
    ],
)
def test_medication_classes_are_known_only_from_an_answer(
    patient, nurse, answer, rows, saved, classes
):
    intake = services.intake_start(actor=nurse, patient=patient)
    intake = services.intake_save(
        actor=nurse, intake=intake, data={"takes_medications": answer}, medications=rows
    )
    assert intake.takes_medications is saved
    facts = selectors.intake_facts(intake, cssrs_risk=None)
    assert facts.medication_classes == classes
    assert ("medication_classes" in facts.missing()) is (classes is None)


def test_the_history_is_known_only_when_every_condition_is_answered(patient, nurse):
    intake = services.intake_start(actor=nurse, patient=patient)
    all_but_one = {code: False for code in Condition.values if code != "bladder_symptoms"}
    intake = services.intake_save(
        actor=nurse, intake=intake, data={"condition_answers": all_but_one}
    )
    facts = selectors.intake_facts(intake, cssrs_risk=None)
    assert facts.conditions is None and "conditions" in facts.missing()
    assert intake.conditions_unanswered == ["bladder_symptoms"]
    intake = services.intake_save(
        actor=nurse,
        intake=intake,
        data={
            "condition_answers": {**all_but_one, "bladder_symptoms": None, "mania_history": True}
        },
    )
    assert selectors.intake_facts(intake, cssrs_risk=None).conditions is None
    intake = services.intake_save(
        actor=nurse, intake=intake, data={"condition_answers": history("mania_history")}
    )
    facts = selectors.intake_facts(intake, cssrs_risk=None)
    assert facts.conditions == ("mania_history",) and "conditions" not in facts.missing()


def test_an_empty_intake_misses_everything_the_rules_need(patient, nurse):
    """The issue's first finding: an intake submitted with nothing filled in."""
    intake = services.intake_start(actor=nurse, patient=patient)
    intake = services.intake_save(actor=nurse, intake=intake, data={}, submit=True)
    evaluation, _ = selectors.intake_evaluate(intake)
    # The patient's age comes from the record (date of birth); everything else is unanswered.
    assert evaluation.missing == (
        "weight_kg",
        "blood_pressure",
        "heart_rate",
        "indication",
        "conditions",
        "medication_classes",
        "pregnant",
        "breastfeeding",
    )
    assert evaluation.routes == {
        "iv": "incomplete",
        "im": "incomplete",
        "esketamine": "ineligible",  # no indication: esketamine_off_label
        "sublingual": "ineligible",  # no home monitor, no home BP monitor
    }


@pytest.mark.parametrize("who", ["therapist", "front_desk", "billing", "clinic_admin"])
def test_only_care_team_prescribers_and_nurses_enter_the_intake(patient, request, who):
    with pytest.raises(PermissionDenied):
        services.intake_start(actor=request.getfixturevalue(who), patient=patient)
    assert not Intake.objects.exists()


def sign(actor, intake, **kwargs):
    return services.decision_sign(actor=actor, intake=intake, **kwargs)


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
    assert not selectors.planning_clearance(patient=patient, route="iv").allowed


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
    intake = services.intake_start(actor=nurse, patient=patient)
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
    assert selectors.planning_clearance(patient=patient, route="iv").allowed
    assert not selectors.planning_clearance(patient=patient, route="im").allowed
    changed = services.intake_save(actor=nurse, intake=submitted, data={"allergies": "Latex"})
    assert changed.revision == submitted.revision + 1
    clearance = selectors.planning_clearance(patient=patient, route="iv")
    assert not clearance.allowed and "re-signed" in clearance.reason
    sign(
        prescriber,
        changed,
        outcome="eligible",
        approved_routes=["iv"],
        justifications=justification,
    )
    assert selectors.planning_clearance(patient=patient, route="iv").allowed


def test_saving_without_changes_does_not_bump_the_revision(submitted, nurse):
    again = services.intake_save(actor=nurse, intake=submitted, **TRD_HISTORY)
    assert again.revision == submitted.revision


def test_esketamine_needs_rems_enrolment_before_planning(submitted, prescriber, patient):
    sign(
        prescriber,
        submitted,
        outcome="eligible",
        approved_routes=["esketamine"],
        justifications={"psychosis_history": "Stable."},
    )
    assert not selectors.planning_clearance(patient=patient, route="esketamine").allowed
    with pytest.raises(InvalidInput):
        services.rems_record(
            actor=prescriber,
            patient=patient,
            enrolled_on=timezone.localdate(),
            signed_by_patient=False,
            prescriber=prescriber,
        )
    with pytest.raises(InvalidInput):
        services.rems_record(
            actor=prescriber,
            patient=patient,
            enrolled_on=timezone.localdate() + datetime.timedelta(days=1),
            signed_by_patient=True,
            prescriber=prescriber,
        )
    with pytest.raises(InvalidInput) as error:
        services.rems_record(
            actor=prescriber,
            patient=patient,
            enrolled_on=timezone.localdate(),
            signed_by_patient=True,
            prescriber=prescriber,
            rems_patient_id="X" * 41,
        )
    assert "rems_patient_id" in error.value.errors
    services.rems_record(
        actor=prescriber,
        patient=patient,
        enrolled_on=timezone.localdate(),
        signed_by_patient=True,
        prescriber=prescriber,
        rems_patient_id=" PT-0042 ",
    )
    assert RemsEnrollment.objects.get().rems_patient_id == "PT-0042"
    assert selectors.planning_clearance(patient=patient, route="esketamine").allowed


def test_a_policy_change_is_a_new_version_and_new_decisions_pin_it(
    submitted, prescriber, clinic_admin
):
    created = rule_set_policy_update(
        actor=clinic_admin,
        policy={"levels": {"psychosis_history": "caution"}},
        note="Per medical director",
    )
    assert created.version == 2 and current_rule_set_version().version == 2
    evaluation, _ = selectors.intake_evaluate(submitted)
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
    services.intake_save(actor=nurse, intake=submitted, data={"pregnant": True})
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


# --------------------------------------------------------------------------- incomplete intakes


@pytest.fixture
def incomplete(patient, nurse):
    """The TRD history without the heart rate and without the pregnancy answer."""
    data = {k: v for k, v in TRD_HISTORY["data"].items() if k not in ("heart_rate_bpm", "pregnant")}
    intake = services.intake_start(actor=nurse, patient=patient)
    return services.intake_save(
        actor=nurse, intake=intake, submit=True, **{**TRD_HISTORY, "data": data}
    )


@pytest.mark.parametrize("routes", [["iv"], ["im"], ["iv", "esketamine"]])
def test_eligible_is_refused_for_an_incomplete_route_naming_it_and_what_is_missing(
    incomplete, prescriber, routes
):
    with pytest.raises(InvalidInput) as caught:
        sign(
            prescriber,
            incomplete,
            outcome="eligible",
            approved_routes=routes,
            justifications={"psychosis_history": "Stable for 15 years."},
        )
    labels = {"iv": "IV infusion", "im": "IM injection", "esketamine": "Esketamine nasal spray"}
    assert caught.value.errors["approved_routes"] == [
        f"{labels[route]} cannot be signed eligible: the intake is incomplete. "
        "Not answered yet: heart rate, pregnancy."
        for route in routes
    ]
    assert not EligibilityDecision.objects.exists()


@pytest.mark.parametrize(
    ("outcome", "extra"), [("ineligible", {}), ("deferred", {"awaiting": "Heart rate at visit"})]
)
def test_ineligible_and_deferred_can_be_signed_on_an_incomplete_intake(
    incomplete, prescriber, outcome, extra
):
    decision = sign(prescriber, incomplete, outcome=outcome, **extra)
    assert decision.outcome == outcome
    # What was missing is stored with the decision, in the contract's words.
    assert decision.evaluation["missing"] == ["heart_rate", "pregnant"]
    assert selectors.decision_intake_gaps(decision) == selectors.IntakeGaps(
        "recorded", ("heart_rate", "pregnant")
    )


def test_a_complete_intake_records_no_gaps(submitted, prescriber):
    decision = sign(
        prescriber,
        submitted,
        outcome="eligible",
        approved_routes=["iv"],
        justifications={"psychosis_history": "Stable."},
    )
    assert decision.evaluation["missing"] == []
    assert selectors.decision_intake_gaps(decision).missing == ()
    clearance = selectors.planning_clearance(patient=decision.patient, route="iv")
    assert clearance.allowed and clearance.warning == ""


def _as_signed_before_missing_existed(decision):
    """A decision as one signed before issue 11 stored it: its evaluation has no "missing".
    (Changed with a queryset update, as no service ever edits a signed decision.)"""
    evaluation = {k: v for k, v in decision.evaluation.items() if k != "missing"}
    EligibilityDecision.objects.filter(pk=decision.pk).update(evaluation=evaluation)
    return EligibilityDecision.objects.select_related("intake__patient").get(pk=decision.pk)


def test_an_older_decision_is_rechecked_against_the_same_intake_revision(
    submitted, prescriber, patient
):
    decision = sign(
        prescriber,
        submitted,
        outcome="eligible",
        approved_routes=["iv"],
        justifications={"psychosis_history": "Stable."},
    )
    # As the data migration leaves an old intake: its unticked boxes are unanswered.
    Intake.objects.filter(pk=submitted.pk).update(
        condition_answers={"psychosis_history": True}, takes_medications=None
    )
    old = _as_signed_before_missing_existed(decision)
    gaps = selectors.decision_intake_gaps(old)
    assert gaps.how == "rechecked"
    assert gaps.missing == ("conditions",)  # medicines are listed: listing them answers yes
    # The decision is not revoked: planning stays allowed, and says what the gap is.
    clearance = selectors.planning_clearance(patient=patient, route="iv")
    assert clearance.allowed
    assert clearance.warning == (
        "The eligibility decision was signed on an intake with unanswered questions (medical "
        "history (a yes or no for every condition)): complete the intake and have the decision "
        "re-signed."
    )
    old.refresh_from_db()
    assert old.outcome == "eligible" and old.approved_routes == ["iv"]


def test_an_older_decision_whose_intake_changed_since_cannot_be_told(submitted, prescriber, nurse):
    decision = sign(prescriber, submitted, outcome="ineligible")
    services.intake_save(actor=nurse, intake=submitted, data={"allergies": "Latex"})
    old = _as_signed_before_missing_existed(decision)
    assert selectors.decision_intake_gaps(old) == selectors.IntakeGaps("unknown")
