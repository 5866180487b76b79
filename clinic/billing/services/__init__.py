"""Writes to billing's records. Each service checks the actor, runs in one transaction and
leaves an audit event. By seam:

- `diagnoses`: the problem list (add, primary, resolve, entered in error);
- `coverage`: payers and plans, each patient's coverages and their eligibility checks
  (imported as `from clinic.billing.services import coverage`).

Callers import from here (`from clinic.billing import services`).
"""

from clinic.billing.services.diagnoses import (
    diagnosis_make_primary,
    diagnosis_mark_entered_in_error,
    diagnosis_record,
    diagnosis_resolve,
)

__all__ = [
    "diagnosis_make_primary",
    "diagnosis_mark_entered_in_error",
    "diagnosis_record",
    "diagnosis_resolve",
]
