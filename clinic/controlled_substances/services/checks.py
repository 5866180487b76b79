"""The ledger's checks on what a caller gives: amounts in mg to three places, the free text of
its records, DEA numbers, event times, the witness and the patient's reach. Every service in
this package runs them before it locks anything."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal, InvalidOperation
from typing import Literal, overload

from django.utils import timezone

from clinic.accounts.choices import Role
from clinic.accounts.models import User
from clinic.controlled_substances.models import MG_PLACES, Container
from clinic.controlled_substances.policy import (
    ControlledSubstancePolicy,
    controlled_substance_policy,
)
from clinic.controlled_substances.registrants import reaches
from clinic.core.exceptions import Conflict, InvalidInput, NotFound
from clinic.core.parsing import NO_CLOCK_SKEW, clean_text, event_moment
from clinic.locations.models import Location
from clinic.locations.selectors import actor_works_at
from clinic.patients.models import Patient

# An amount as a caller gives it: a Decimal, or its text as a form or a test typed it; every
# service reads it through `mg_amount`.
type MgInput = Decimal | int | str

# Entry-error limits (plausibility, not clinical or legal values).
MAX_MG = Decimal("9999999.999")
MAX_CONTAINERS_PER_RECEIPT = 999


def mg_amount(field: str, value: object, *, allow_zero: bool = False, unit: str = "mg") -> Decimal:
    """A quantity (in mg unless `unit` says otherwise) as a Decimal with at most 3 decimal
    places, or InvalidInput."""
    if isinstance(value, bool) or value is None or value == "":
        raise InvalidInput({field: [f"Give an amount in {unit}."]})
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as error:
        raise InvalidInput({field: [f"Give an amount in {unit}, e.g. 37.5."]}) from error
    if not amount.is_finite():
        raise InvalidInput({field: [f"Give an amount in {unit}, e.g. 37.5."]})
    if amount != amount.quantize(MG_PLACES):
        raise InvalidInput({field: ["Give the amount to at most 3 decimal places."]})
    if amount < 0 or (amount == 0 and not allow_zero):
        raise InvalidInput({field: [f"The amount must be more than 0 {unit}."]})
    if amount > MAX_MG:
        raise InvalidInput({field: ["That amount is too large to be right."]})
    return amount.quantize(MG_PLACES)


def text_field(field: str, value: str | None, *, max_length: int, required: bool, what: str) -> str:
    """Free text in the ledger's words: "Give the <what>." when required and empty."""
    return clean_text(
        field,
        value,
        max_length=max_length,
        required_message=f"Give the {what}." if required else None,
        too_long_message=f"Keep the {what} under {max_length + 1} characters.",
    )


def reason_text(value: str | None) -> str:
    return text_field("reason", value, max_length=300, required=True, what="reason")


def dea_number(field: str, value: str | None) -> str:
    """Letters and digits, upper-cased. The references give no format, so none is enforced."""
    number = text_field(field, value, max_length=20, required=True, what="DEA number")
    number = number.replace(" ", "").upper()
    if not number.isalnum():
        raise InvalidInput({field: ["A DEA number has only letters and digits."]})
    return number


def event_time(
    field: str,
    value: datetime.datetime | None,
    *,
    not_before: datetime.datetime | None = None,
    not_before_message: str | None = None,
) -> datetime.datetime:
    """The actual date and time of the event [J5]: aware, and not in the future (no clock
    skew allowed: the record states when it happened)."""
    return event_moment(
        field,
        value,
        now=timezone.now(),
        not_before=not_before,
        not_before_message=not_before_message,
        clock_skew=NO_CLOCK_SKEW,
        future_message="That time is in the future.",
    )


def session_reference(value: str | None) -> str:
    return text_field(
        "session_ref", str(value or ""), max_length=64, required=False, what="session"
    )


def _role_words(policy: ControlledSubstancePolicy) -> str:
    return " or ".join(Role(role).label.lower() for role in policy.witness_roles)


@overload
def licensed_witness(
    *,
    actor: User | None,
    witness: User | None,
    policy: ControlledSubstancePolicy | None = None,
    required: Literal[True] = True,
    field: str = "witness",
) -> User: ...


@overload
def licensed_witness(
    *,
    actor: User | None,
    witness: User | None,
    policy: ControlledSubstancePolicy | None = None,
    required: bool,
    field: str = "witness",
) -> User | None: ...


def licensed_witness(
    *,
    actor: User | None,
    witness: User | None,
    policy: ControlledSubstancePolicy | None = None,
    required: bool = True,
    field: str = "witness",
) -> User | None:
    """The witness as an active, licensed member of staff other than the actor, or
    InvalidInput. None when there is none and none is required."""
    policy = policy or controlled_substance_policy()
    if witness is None:
        if required:
            raise InvalidInput({field: ["A second licensed member of staff must witness this."]})
        return None
    if actor is not None and witness.pk == actor.pk:
        raise InvalidInput({field: ["The witness must be someone other than you."]})
    current = User.objects.filter(pk=witness.pk).first()
    if current is None or not current.is_active or current.role not in policy.witness_roles:
        raise InvalidInput({field: [f"The witness must be an active {_role_words(policy)}."]})
    return current


def reachable_patient(actor: User, patient: Patient | None) -> Patient | None:
    if patient is None:
        return None
    found = Patient.objects.visible_to(actor).filter(pk=patient.pk).first()
    if found is None:
        raise NotFound("No such patient, or the patient is not on your care team.")
    return found


# --------------------------------------------------------------------------- locations


def reach_location_of(actor: User, location_id: int | None, *, what: str) -> None:
    """A record kept at a location out of the actor's reach reads like one that does not
    exist (clinic/controlled_substances/registrants.py)."""
    if not reaches(actor, location_id):
        raise NotFound(f"No such {what}.")


def witness_at(witness: User | None, location: Location, *, field: str = "witness") -> None:
    """The witness works at the location whose stock is witnessed (everyone does in a network
    of one location)."""
    if witness is not None and not actor_works_at(witness, location):
        raise InvalidInput({field: [f"The witness must work at {location.name}."]})


def session_location(session_ref: str) -> Location | None:
    """The location of the chair-side session `session_ref` names (the session page stores the
    session's UUID there): its appointment's chair's room's location. None for a reference a
    person typed, or none. Reached through the relations' names, not an import: the sessions
    app sits above the ledger."""
    try:
        key = uuid.UUID(session_ref) if session_ref else None
    except ValueError:
        return None
    if key is None:
        return None
    return Location.objects.filter(rooms__chairs__appointments__treatment_session__uuid=key).first()


def container_at(container: Container, location: Location | None) -> None:
    """A dose for a session is drawn only from stock kept at the session's location: each
    location is its own registrant (21 CFR 1301.12(a)); stock moves between them only by a
    transfer (`container_transfer`)."""
    if location is not None and container.location_id != location.pk:
        raise Conflict(
            f"{container.label} is kept at another location, not at {location.name}: draw from "
            f"{location.name}'s stock (or transfer the container there first).",
            code="container_elsewhere",
            field="container",
        )
