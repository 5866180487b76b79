"""Likely duplicate patients: the one check every way of registering a patient runs (the
registration page, the API, and the conversion of a consultation request).

A person already registered is found by the same name and date of birth (the legal first name
or the preferred name, with the legal last name), the same e-mail, or the same phone digits
however they are written. The check looks at every patient, not only those the actor may open:
a duplicate the actor cannot see is still a duplicate. Each candidate says whether the actor
may open it; one the actor may not open is shown only by why it matched, never by who it is.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, models
from django.db.models import Q, Value
from django.db.models.functions import Replace

from clinic.core.exceptions import Conflict
from clinic.patients.models import Patient

# pg_advisory_xact_lock takes a bigint: any fixed number that no other lock in the clinic uses.
REGISTRATION_LOCK_KEY = 7_290_431_117_004_214

MATCH_NAME_AND_BIRTH = "same name and date of birth"
MATCH_EMAIL = "same e-mail"
MATCH_PHONE = "same phone number"
# Fewer digits than this is not a phone number that identifies anyone.
PHONE_MIN_DIGITS = 7


@dataclass(frozen=True)
class DuplicateCandidate:
    """An existing patient who may be the person being registered, and why they matched.
    `may_open`: the actor may open this patient's record; when False, show only `reasons`."""

    patient: Patient
    reasons: tuple[str, ...]
    may_open: bool


class PossibleDuplicatePatient(Conflict):
    """Registering would likely duplicate a patient; `candidates` are who, for the page and
    the API to show (each within what the actor may see)."""

    def __init__(self, candidates: list[DuplicateCandidate]):
        super().__init__(
            "A patient with matching details is already registered. Open that patient, or "
            "confirm that this is a different person.",
            code="possible_duplicate_patient",
            field="confirm_new_patient",
        )
        self.candidates = candidates


def registration_lock() -> None:
    """Queue behind any other registration until this transaction ends. Call inside the
    transaction that checks for duplicates and then registers, before the check: two desks, or
    a desk and an import, registering one person at once would otherwise each check before the
    other's patient is committed, find nobody, and leave two records of one person that no
    check flagged. One key for every registration (not one per name, e-mail or phone): the
    match is on any of several details, and a single lock cannot deadlock. An import holds it
    until the whole file is in, so a desk registering meanwhile waits for it.
    SQLite: every transaction begins IMMEDIATE and holds the only write lock already."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [REGISTRATION_LOCK_KEY])


def phone_digits(phone: str) -> str:
    """The digits of a phone number, without a leading 1 (the North American country code)
    and without an extension: '+1 (555) 010-4477 x12' → '5550104477'."""
    number = re.split(r"(?:x|ext\.?)", phone, maxsplit=1, flags=re.IGNORECASE)[0]
    digits = re.sub(r"\D", "", number)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return digits


def _digits_only(field: str) -> models.Expression | models.F:
    """The field with the usual phone punctuation removed, in the database."""
    expression: models.Expression | models.F = models.F(field)
    for character in (" ", "(", ")", "-", ".", "+"):
        expression = Replace(expression, Value(character), Value(""))
    return expression


def find_duplicates(
    *,
    actor,
    given_name: str,
    family_name: str,
    date_of_birth: datetime.date | None,
    email: str = "",
    phones: Iterable[str] = (),
) -> list[DuplicateCandidate]:
    """Patients who may already be this person (see the module docstring), in name order.
    Two queries, however many match. Callers audit the check (`patient_duplicate_candidates`
    in selectors does for pages)."""
    given_name, family_name = (given_name or "").strip(), (family_name or "").strip()
    email = (email or "").strip()
    conditions: list[Q] = []
    if given_name and family_name and date_of_birth:
        conditions.append(
            Q(
                Q(legal_given_name__iexact=given_name) | Q(preferred_name__iexact=given_name),
                legal_family_name__iexact=family_name,
                date_of_birth=date_of_birth,
            )
        )
    if email:
        conditions.append(Q(email__iexact=email))
    phone_keys: set[str] = set()
    for phone in phones:
        digits = phone_digits(phone) if phone else ""
        if len(digits) >= PHONE_MIN_DIGITS:
            phone_keys |= {digits, f"1{digits}"}
    if phone_keys:
        conditions.append(Q(mobile_digits__in=phone_keys) | Q(home_digits__in=phone_keys))
    if not conditions:
        return []
    condition = conditions[0]
    for more in conditions[1:]:
        condition |= more
    patients = list(
        Patient.objects.annotate(
            mobile_digits=_digits_only("phone_mobile"), home_digits=_digits_only("phone_home")
        )
        .filter(condition)
        .order_by("legal_family_name", "legal_given_name", "id")
    )
    if not patients:
        return []
    openable = set(
        Patient.objects.visible_to(actor)
        .filter(pk__in=[p.pk for p in patients])
        .values_list("pk", flat=True)
    )
    candidates = []
    for patient in patients:
        reasons = []
        if (
            date_of_birth
            and patient.date_of_birth == date_of_birth
            and patient.legal_family_name.casefold() == family_name.casefold()
            and given_name.casefold()
            in {patient.legal_given_name.casefold(), patient.preferred_name.casefold()}
        ):
            reasons.append(MATCH_NAME_AND_BIRTH)
        if email and patient.email.casefold() == email.casefold():
            reasons.append(MATCH_EMAIL)
        if phone_keys and {patient.mobile_digits, patient.home_digits} & phone_keys:
            reasons.append(MATCH_PHONE)
        candidates.append(
            DuplicateCandidate(
                patient=patient, reasons=tuple(reasons), may_open=patient.pk in openable
            )
        )
    return candidates
