"""Intake and eligibility through the API: a patient's intake, the rules' evaluation of it and
the prescriber's signed decision, as the intake pages keep them."""

from ninja import Router

router = Router(tags=["intake and eligibility"])
