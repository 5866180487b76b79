"""Fixtures for the at-home program's tests.

`portal_user` is `patient`'s own portal sign-in (a patient principal linked by Patient.user).
`home_plan` is `patient`'s active at-home sublingual plan of three planned sessions, each at
the prescriber-set fixed dose of 100 mg (the dose value is the test's own choice: the sources
leave the sublingual dose to the prescriber, policy-defaults.md "Dosing").
`other_patient` (Casey Morgan) has their own portal user and their own active at-home plan.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from clinic.protocols.models import PlannedSession, ProtocolTemplate, TreatmentPlan
from clinic.screening import services as screening_services
from clinic.screening.tests.test_eligibility import ANSWERED

PRESCRIBED_MG = Decimal("100")


def link_portal_user(patient, username: str):
    from clinic.accounts.models import User

    user = User.objects.create_user(username=username, password="x" * 12, role="patient")
    patient.user = user
    patient.save(update_fields=["user", "updated_at"])
    return user


# An intake that opens the at-home route: treatment-resistant depression (two failed adequate
# trials), no exclusion, a named treatment monitor and a blood-pressure monitor at home [B9].
HOME_INTAKE = dict(
    data={
        **ANSWERED,  # every other question the rules need answered no (issue 11)
        "takes_medications": False,
        "indication": "treatment_resistant_depression",
        "systolic_mmhg": 122,
        "diastolic_mmhg": 78,
        "heart_rate_bpm": 70,
        "weight_kg": "80",
        "height_cm": "170",
        "home_treatment_monitor_name": "Sam Rivera",
        "home_bp_monitor": True,
    },
    trials=[
        {"drug": "sertraline", "adequate": True, "outcome": "no_response", "current_episode": True},
        {"drug": "bupropion", "adequate": True, "outcome": "no_response", "current_episode": True},
    ],
)


def sublingual_plan(
    patient, *, nurse, prescriber, sessions: int = 3, dose_mg=PRESCRIBED_MG, status="active"
):
    """An at-home plan through the screening services for the decision and the ORM for the plan
    (as the schedule tests' make_plan does), its sessions a week apart from today."""
    intake = screening_services.intake_start(actor=nurse, patient=patient)
    intake = screening_services.intake_save(actor=nurse, intake=intake, submit=True, **HOME_INTAKE)
    decision = screening_services.decision_sign(
        actor=prescriber, intake=intake, outcome="eligible", approved_routes=["sublingual"]
    )
    template, _ = ProtocolTemplate.objects.get_or_create(
        code="test-sublingual",
        version=1,
        defaults={"name": "Test sublingual", "route": "sublingual", "definition": {}},
    )
    today = timezone.localdate()
    plan = TreatmentPlan.objects.create(
        patient=patient,
        template=template,
        route="sublingual",
        eligibility_decision=decision,
        status=status,
        start_date=today,
        esketamine_dose_mg=int(dose_mg),
        session_count=sessions,
        prescribed_by=prescriber,
        activated_at=timezone.now() if status == "active" else None,
    )
    for number in range(1, sessions + 1):
        PlannedSession.objects.create(
            plan=plan,
            number=number,
            planned_date=today + datetime.timedelta(days=7 * (number - 1)),
            phase="maintenance",
            dose_mg=dose_mg,
        )
    return plan


@pytest.fixture
def portal_user(patient):
    return link_portal_user(patient, "jordan")


@pytest.fixture
def home_plan(patient, nurse, prescriber):
    return sublingual_plan(patient, nurse=nurse, prescriber=prescriber)


@pytest.fixture
def other_patient(front_desk, make_staff):
    """Another patient with a different care team, a portal user and an at-home plan."""
    from clinic.patients.services import care_team_set
    from clinic.patients.tests.factories import register

    prescriber_b = make_staff("prescriber", username="prescriber_b")
    nurse_b = make_staff("nurse", username="nurse_b")
    other = register(front_desk, legal_given_name="Casey", legal_family_name="Morgan")
    care_team_set(
        actor=front_desk, patient=other, primary_prescriber=prescriber_b, nurses=[nurse_b]
    )
    other.portal_user = link_portal_user(other, "casey")
    other.home_plan = sublingual_plan(other, nurse=nurse_b, prescriber=prescriber_b)
    return other
