"""Moved: the eligibility decision's writes are in `screening.services`, its reads (and the
planning gate) in `screening.selectors`. Other apps still import these names from here."""

from clinic.screening.selectors import (
    intake_evaluate,  # re-export: remove after the renovation
    latest_decision,  # re-export: remove after the renovation
    planning_clearance,  # re-export: remove after the renovation
)
from clinic.screening.services import (
    decision_sign,  # re-export: remove after the renovation
    rems_record,  # re-export: remove after the renovation
)

__all__ = [
    "decision_sign",
    "intake_evaluate",
    "latest_decision",
    "planning_clearance",
    "rems_record",
]
