"""The esketamine REMS Patient Monitoring Form: answers saved and the form recorded as
submitted. The suggestions it opens with are `state.rems_form_prefill`.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.exceptions import Conflict, InvalidInput
from clinic.core.parsing import clean_text
from clinic.screening.choices import Route
from clinic.treatment_sessions import rules
from clinic.treatment_sessions.models import TreatmentSession
from clinic.treatment_sessions.services._common import Precondition, _audit, _locked, _now
from clinic.treatment_sessions.state import REMS_FORM_CHOICES

_REMS_BOOLEANS = {
    "vitals_acceptable_pre_dose",
    "vitals_acceptable_at_completion",
    "sedation_occurred",
    "dissociation_occurred",
    "respiratory_depression_occurred",
}


@transaction.atomic
def rems_form_save(
    *,
    actor: User,
    session: TreatmentSession,
    values: dict[str, Any],
    precondition: Precondition | None = None,
) -> TreatmentSession:
    """Save (part of) the monitoring form. Only esketamine sessions, before signing."""
    locked = _locked(actor, session, Capability.SESSION_RUN, precondition=precondition)
    if locked.route != Route.ESKETAMINE:
        raise Conflict("The REMS monitoring form is for esketamine sessions.", code="route")
    known = {f.key for f in rules.REMS_MONITORING_FIELDS}
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            errors[key] = ["Not a field of the monitoring form."]
            continue
        if key == "concomitant_medications":
            # None takes the answer back (unanswered); an empty list answers "none of these".
            allowed = REMS_FORM_CHOICES[key]
            items = None if value is None else list(value)
            if items is not None and any(item not in allowed for item in items):
                errors[key] = ["Choose from the form's list."]
            cleaned[key] = items
        elif key in _REMS_BOOLEANS:
            # `1 in (True, False)` is true in Python: check the type, not equality.
            if value is not None and not isinstance(value, bool):
                errors[key] = ["Answer yes or no."]
            cleaned[key] = value
        elif key == "total_monitoring_minutes":
            if value in (None, ""):
                cleaned[key] = None
            elif isinstance(value, bool) or not str(value).isdigit() or int(value) > 24 * 60:
                errors[key] = ["Enter whole minutes."]
            else:
                cleaned[key] = int(value)
        elif key == "serious_adverse_events":
            if isinstance(value, str):
                value = [line.strip() for line in value.splitlines() if line.strip()]
            if value is not None and not isinstance(value, list | tuple):
                errors[key] = ["List the serious adverse events, one a line."]
                continue
            cleaned[key] = (
                None if value is None else [clean_text(key, str(v), max_length=300) for v in value]
            )
        else:
            text = clean_text(key, "" if value is None else str(value), max_length=200)
            if REMS_FORM_CHOICES.get(key) and text and text not in REMS_FORM_CHOICES[key]:
                errors[key] = ["Choose one of the form's answers."]
            cleaned[key] = text or None
    if errors:
        raise InvalidInput(errors)
    before = dict(locked.rems_form or {})
    locked.rems_form = {**before, **cleaned}
    locked.save(update_fields=["rems_form", "updated_at"])
    _audit(
        actor,
        locked,
        "REMS monitoring form saved",
        {"rems_form": {"before": before, "after": locked.rems_form}},
    )
    return locked


@transaction.atomic
def rems_form_mark_submitted(
    *,
    actor: User,
    session: TreatmentSession,
    now: datetime.datetime | None = None,
    precondition: Precondition | None = None,
) -> TreatmentSession:
    """Record that the completed form went to the REMS (allowed after signing)."""
    locked = _locked(
        actor, session, Capability.SESSION_REMS, signed_ok=True, precondition=precondition
    )
    if locked.route != Route.ESKETAMINE or locked.dose_started_at is None:
        raise Conflict("Only a dosed esketamine session has a monitoring form.", code="route")
    if locked.rems_submitted_at is not None:
        raise Conflict("The form is recorded as submitted already.", code="already_submitted")
    missing = rules.rems_form_missing(locked.rems_form or {})
    if missing:
        raise Conflict("Complete the form first.", code="rems_incomplete")
    locked.rems_submitted_at = _now(now)
    locked.rems_submitted_by = actor
    locked.save(update_fields=["rems_submitted_at", "rems_submitted_by", "updated_at"])
    _audit(actor, locked, "REMS monitoring form submitted")
    return locked
