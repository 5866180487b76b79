"""Demo screening: consultation requests waiting in the queue, intakes for patients with a
care team, signed decisions for most of them, and one decision that needs re-review because
the intake changed after it was signed. Illustrative data, not from any real person."""

from __future__ import annotations

import datetime
import random

from django.utils import timezone

from clinic.billing.services import diagnosis_record
from clinic.screening.choices import Condition
from clinic.screening.models import ConsultationRequest
from clinic.screening.services import (
    consultation_request_create,
    decision_sign,
    intake_save,
    intake_start,
)

REQUESTS = (
    ("Priya", "Raman", "priya.raman@example.org", "", "email", "treatment_resistant_depression"),
    ("Marcus", "Bell", "", "(555) 010-3321", "phone", "ptsd"),
    ("Lena", "Vogel", "lena.vogel@example.net", "(555) 010-8890", "text", "generalized_anxiety"),
)
ANTIDEPRESSANTS = (
    "sertraline",
    "escitalopram",
    "venlafaxine",
    "bupropion",
    "mirtazapine",
    "duloxetine",
)
# Every sixth patient has a past psychosis: a relative finding the prescriber must justify.
PSYCHOSIS_EVERY = 6


def seed_consultation_requests() -> None:
    if ConsultationRequest.objects.exists():
        return
    for given, family, email, phone, method, seeking in REQUESTS:
        consultation_request_create(
            data={
                "given_name": given,
                "family_name": family,
                "email": email,
                "phone": phone,
                "preferred_contact": method,
                "seeking_help_with": seeking,
                "message": "",
                "heard_about": "A friend",
                "consent_to_contact": True,
            }
        )


def seed_patient_screening(
    *, index: int, patient, nurse, prescriber, rng: random.Random, re_review: bool = False
) -> None:
    """`re_review`: change the intake after signing, so the decision needs re-review.

    Every question is answered (issue 11: an unanswered question is unknown), with the weight
    and height from the chart's latest measurements. A patient never weighed has the weight
    unanswered: the intake is incomplete, so the decision is deferred until the first visit."""
    intake = intake_start(actor=nurse, patient=patient)
    drugs = rng.sample(ANTIDEPRESSANTS, 3)
    conditions = ["psychosis_history"] if index % PSYCHOSIS_EVERY == 0 else []
    valid = patient.measurements.filter(entered_in_error_at__isnull=True).order_by(
        "-measured_on", "-id"
    )
    weight = valid.filter(weight_kg__isnull=False).values_list("weight_kg", flat=True).first()
    height = valid.filter(height_cm__isnull=False).values_list("height_cm", flat=True).first()
    intake = intake_save(
        actor=nurse,
        intake=intake,
        data={
            "indication": "treatment_resistant_depression",
            "condition_answers": {code: code in conditions for code in Condition.values},
            "pregnant": None if patient.sex == "male" else False,
            "breastfeeding": None if patient.sex == "male" else False,
            "weight_kg": weight,
            "height_cm": height,
            "takes_medications": True,
            "tried_antidepressants": True,
            "systolic_mmhg": rng.randint(108, 138),
            "diastolic_mmhg": rng.randint(66, 86),
            "heart_rate_bpm": rng.randint(58, 92),
            "allergies": rng.choice(["None known", "Penicillin (rash)", "None known"]),
            "home_treatment_monitor_name": "",
            "home_bp_monitor": False,
        },
        medications=[{"name": drugs[2].capitalize(), "medication_class": "other", "dose": ""}],
        trials=[
            {"drug": drugs[0], "adequate": True, "outcome": "no_response", "current_episode": True},
            {
                "drug": drugs[1],
                "adequate": True,
                "outcome": "partial_response",
                "current_episode": True,
            },
        ],
        submit=True,
    )
    justifications = (
        {"psychosis_history": "One brief episode years ago; stable since; psychiatry agrees."}
        if conditions
        else {}
    )
    if weight is None:
        decision_sign(
            actor=prescriber,
            intake=intake,
            outcome="deferred",
            awaiting="Weight and height at the first visit",
        )
    else:
        decision_sign(
            actor=prescriber,
            intake=intake,
            outcome="eligible",
            approved_routes=["iv"],
            justifications=justifications,
        )
    # The prescriber's diagnosis on the problem list (TRD has no code of its own: recurrent
    # major depression, moderate or severe, with the failed trials on the intake).
    diagnosis_record(
        actor=prescriber,
        patient=patient,
        code=rng.choice(["F33.1", "F33.2"]),
        # Some years back (every demo patient is an adult).
        onset_date=timezone.localdate() - datetime.timedelta(days=rng.randint(400, 2500)),
        primary=True,
    )
    if re_review:
        intake_save(actor=nurse, intake=intake, data={"allergies": "Latex (hives)"})
