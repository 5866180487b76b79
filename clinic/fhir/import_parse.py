"""Patients and their history arriving from a previous system (issue 16), read from a FHIR
Bundle or from KetaCare's CSV template into plain rows, each naming where it came from so a
refusal can point at it. Pure: no Django. What the rows may hold is checked again, against
the database and the clinic's rules, by import_run.py (the same services the pages use).

What arrives: each Patient; its weights and heights (LOINC 29463-7 and 8302-2, fhir-loinc.md
§1.2); its PHQ-9 and GAD-7 totals with their dates (44261-6 and 70274-6, §1.1); its problem list
(Condition: the ICD-10-CM code, fhir-loinc.md "Conventions", the onset, the day recorded and
whether active or resolved). A MedicationStatement is refused, each by name: KetaCare keeps no
medication history (the intake's medicines are the screening's answers, not a history), so the
file must say so before anything lands. Everything else is listed as left out, with the reason,
never silently dropped: the records of treatment sessions (doses, in-session readings) belong to
sessions given here.

The CSV template (docs/import.md): one row per patient, or per measurement or total of a
patient, the rows of one patient sharing its `external_id`:
external_id, legal_given_name, legal_family_name, date_of_birth, sex, email, phone_mobile,
instrument, total, taken_on, weight_kg, height_cm, measured_on.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from clinic.core.spreadsheet import read_rows
from clinic.fhir import terminology as t

# Exact conversions: the international avoirdupois pound is 0.45359237 kg and the inch 2.54 cm
# (by definition, the 1959 international yard and pound agreement).
KG_PER_POUND = Decimal("0.45359237")
CM_PER_INCH = Decimal("2.54")

TOTAL_CODES = {
    t.LOINC_INSTRUMENTS["phq9"].total[0]: "phq9",
    t.LOINC_INSTRUMENTS["gad7"].total[0]: "gad7",
}
SEXES = {"female", "male", "other", "unknown"}

CSV_COLUMNS = (
    "external_id",
    "legal_given_name",
    "legal_family_name",
    "date_of_birth",
    "sex",
    "email",
    "phone_mobile",
    "instrument",
    "total",
    "taken_on",
    "weight_kg",
    "height_cm",
    "measured_on",
)
CSV_REQUIRED = ("external_id", "legal_given_name", "legal_family_name", "date_of_birth", "sex")

LEFT_OUT_WHY = {
    "MedicationAdministration": "Doses belong to treatment sessions given at this clinic.",
    "Encounter": "Treatment sessions are the ones given at this clinic.",
    "QuestionnaireResponse": "Item answers are not imported; the totals are.",
}
OTHER_OBSERVATION = "Only weights, heights and PHQ-9 and GAD-7 totals are imported."
NO_MEDICATION_HISTORY = (
    "Not imported: KetaCare keeps no medication history. Record the patient's current "
    "medicines on their intake, then remove the MedicationStatements from the file to import "
    "the rest."
)
# Condition.clinicalStatus (FHIR R4 condition-clinical): still a problem, or no longer one.
ACTIVE_STATUSES = {"active", "recurrence", "relapse"}
RESOLVED_STATUSES = {"inactive", "remission", "resolved"}


@dataclass(frozen=True)
class Problem:
    where: str  # "Patient/abc", "Observation/def", "row 4"
    message: str


# A day, or an aware moment import_run.py places on the clinic's calendar.
Day = datetime.date | datetime.datetime


@dataclass(frozen=True)
class ArrivingCondition:
    where: str
    icd10_code: str
    onset: Day | None
    recorded: Day | None
    resolved: Day | None  # None: still active


@dataclass
class ArrivingPatient:
    where: str
    demographics: dict[str, Any]
    conditions: list[ArrivingCondition] = field(default_factory=list)
    # (where, measured on, weight kg, height cm)
    measurements: list[tuple[str, datetime.date, Decimal | None, Decimal | None]] = field(
        default_factory=list
    )
    # (where, instrument code, total, taken on a day or at a moment)
    totals: list[tuple[str, str, int, datetime.date | datetime.datetime]] = field(
        default_factory=list
    )


@dataclass
class Arrival:
    patients: list[ArrivingPatient] = field(default_factory=list)
    refusals: list[Problem] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)  # reason -> how many

    def leave_out(self, reason: str) -> None:
        self.left_out[reason] = self.left_out.get(reason, 0) + 1


def _date(text: object) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def _moment(text: object) -> datetime.date | datetime.datetime | None:
    """A FHIR date or dateTime: a day, or an aware moment (a moment without its offset is
    not a moment anyone can place, so it counts as its day)."""
    if not isinstance(text, str):
        return None
    if len(text) <= 10:
        return _date(text)
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.date()


def _amount(text: object) -> Decimal | None:
    try:
        amount = Decimal(str(text).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _whole(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal) and value == int(value):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


# --------------------------------------------------------------------------- FHIR Bundle


def _patient_demographics(resource: dict[str, Any]) -> dict[str, Any]:
    names = resource.get("name") or [{}]
    official = next((n for n in names if n.get("use") == "official"), names[0])
    usual = next((n for n in names if n.get("use") == "usual"), None)
    given = official.get("given") or [""]
    phones = {
        p.get("use", ""): p.get("value", "")
        for p in resource.get("telecom") or []
        if p.get("system") == "phone"
    }
    email = next(
        (p.get("value", "") for p in resource.get("telecom") or [] if p.get("system") == "email"),
        "",
    )
    address = (resource.get("address") or [{}])[0]
    lines = address.get("line") or []
    return {
        "legal_given_name": given[0],
        "legal_middle_name": " ".join(given[1:]),
        "legal_family_name": official.get("family", ""),
        "preferred_name": (usual.get("given") or [""])[0] if usual else "",
        "date_of_birth": _date(resource.get("birthDate")),
        "sex": resource.get("gender", ""),
        "email": email,
        "phone_mobile": phones.get("mobile", ""),
        "phone_home": phones.get("home", ""),
        "address_line1": lines[0] if lines else "",
        "address_line2": lines[1] if len(lines) > 1 else "",
        "city": address.get("city", ""),
        "region": address.get("state", ""),
        "postal_code": address.get("postalCode", ""),
        "country": address.get("country", ""),
    }


def _codes(resource: dict[str, Any]) -> set[str]:
    return {
        c.get("code", "")
        for c in (resource.get("code") or {}).get("coding") or []
        if c.get("system") == t.LOINC
    }


def _observation(
    arrival: Arrival, patients: dict[str, ArrivingPatient], resource: dict[str, Any]
) -> None:
    where = f"Observation/{resource.get('id', '?')}"
    codes = _codes(resource)
    weight, height = t.BODY_WEIGHT[0] in codes, t.BODY_HEIGHT[0] in codes
    total_code = next((code for code in codes if code in TOTAL_CODES), None)
    if not (weight or height or total_code):
        arrival.leave_out(OTHER_OBSERVATION)
        return
    if resource.get("status") == "entered-in-error":
        arrival.leave_out("Records marked entered in error.")
        return
    subject = (resource.get("subject") or {}).get("reference", "")
    patient = patients.get(subject)
    if patient is None:
        arrival.refusals.append(
            Problem(where, f"Its patient ({subject or 'none'}) is not in the file.")
        )
        return
    effective = resource.get("effectiveDateTime") or (resource.get("effectivePeriod") or {}).get(
        "start"
    )
    when = _moment(effective)
    if when is None:
        arrival.refusals.append(Problem(where, "It has no date it was taken (effectiveDateTime)."))
        return
    if total_code is not None:
        value = resource.get("valueInteger")
        if value is None:
            value = (resource.get("valueQuantity") or {}).get("value", resource.get("valueString"))
        total = _whole(value)
        if total is None:
            arrival.refusals.append(Problem(where, "Its total is not a whole number."))
            return
        patient.totals.append((where, TOTAL_CODES[total_code], total, when))
        return
    quantity = resource.get("valueQuantity") or {}
    amount = _amount(quantity.get("value"))
    unit = quantity.get("code") or quantity.get("unit") or ""
    factors: dict[str, Decimal] = (
        {"kg": Decimal(1), "[lb_av]": KG_PER_POUND}
        if weight
        else {"cm": Decimal(1), "m": Decimal(100), "[in_i]": CM_PER_INCH}
    )
    if amount is None or unit not in factors:
        arrival.refusals.append(
            Problem(where, f"Its value must be a number in {' or '.join(factors)} (UCUM).")
        )
        return
    value_kg_or_cm = (amount * factors[unit]).quantize(Decimal("0.1"))
    day = when.date() if isinstance(when, datetime.datetime) else when
    patient.measurements.append(
        (where, day, value_kg_or_cm if weight else None, None if weight else value_kg_or_cm)
    )


def _status_code(concept: object) -> str:
    codings = (concept or {}).get("coding") or [] if isinstance(concept, dict) else []
    return next((c.get("code", "") for c in codings if isinstance(c, dict)), "")


def _condition(
    arrival: Arrival, patients: dict[str, ArrivingPatient], resource: dict[str, Any]
) -> None:
    """A problem-list entry: its ICD-10-CM code, whether active or resolved (and when), its
    onset and the day the previous system recorded it."""
    where = f"Condition/{resource.get('id', '?')}"
    verification = _status_code(resource.get("verificationStatus"))
    if verification == "entered-in-error":
        arrival.leave_out("Records marked entered in error.")
        return
    if verification == "refuted":
        arrival.leave_out("Conditions ruled out (verificationStatus refuted).")
        return
    subject = (resource.get("subject") or {}).get("reference", "")
    patient = patients.get(subject)
    if patient is None:
        arrival.refusals.append(
            Problem(where, f"Its patient ({subject or 'none'}) is not in the file.")
        )
        return
    codes = [
        c.get("code", "")
        for c in (resource.get("code") or {}).get("coding") or []
        if isinstance(c, dict) and c.get("system") == t.ICD10CM and c.get("code")
    ]
    if not codes:
        arrival.refusals.append(
            Problem(
                where,
                f"It has no ICD-10-CM code ({t.ICD10CM}): KetaCare's problem list is coded in "
                "ICD-10-CM.",
            )
        )
        return
    clinical = _status_code(resource.get("clinicalStatus"))
    resolved_on = None
    if clinical in RESOLVED_STATUSES:
        resolved_on = _moment(resource.get("abatementDateTime")) or _moment(
            (resource.get("abatementPeriod") or {}).get("end")
        )
        if resolved_on is None:
            arrival.refusals.append(
                Problem(where, f"It is {clinical} but has no abatementDateTime: when did it end?")
            )
            return
    elif clinical not in ACTIVE_STATUSES:
        arrival.refusals.append(
            Problem(where, "Its clinicalStatus must say whether it is active or resolved.")
        )
        return
    onset = _moment(resource.get("onsetDateTime")) or _moment(
        (resource.get("onsetPeriod") or {}).get("start")
    )
    patient.conditions.append(
        ArrivingCondition(
            where=where,
            icd10_code=codes[0],
            onset=onset,
            recorded=_moment(resource.get("recordedDate")),
            resolved=resolved_on,
        )
    )


def parse_bundle(text: str) -> Arrival:
    """A FHIR Bundle (transaction, batch, collection or searchset) as arriving rows."""
    arrival = Arrival()
    try:
        bundle = json.loads(text)
    except ValueError:
        arrival.refusals.append(Problem("file", "This is not JSON: export a FHIR Bundle."))
        return arrival
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        arrival.refusals.append(Problem("file", "This is not a FHIR Bundle."))
        return arrival
    entries = [e for e in bundle.get("entry") or [] if isinstance(e, dict)]
    patients: dict[str, ArrivingPatient] = {}
    for entry in entries:
        resource = entry.get("resource") or {}
        if resource.get("resourceType") == "Patient":
            arriving = ArrivingPatient(
                where=f"Patient/{resource.get('id', '?')}",
                demographics=_patient_demographics(resource),
            )
            arrival.patients.append(arriving)
            # Observations name their patient as Patient/<id> or by the entry's fullUrl.
            patients[f"Patient/{resource.get('id')}"] = arriving
            if entry.get("fullUrl"):
                patients[entry["fullUrl"]] = arriving
    for entry in entries:
        resource = entry.get("resource") or {}
        kind = resource.get("resourceType", "")
        if kind == "Patient":
            continue
        if kind == "Observation":
            _observation(arrival, patients, resource)
        elif kind == "Condition":
            _condition(arrival, patients, resource)
        elif kind == "MedicationStatement":
            where = f"MedicationStatement/{resource.get('id', '?')}"
            arrival.refusals.append(Problem(where, NO_MEDICATION_HISTORY))
        else:
            arrival.leave_out(
                LEFT_OUT_WHY.get(kind, f"{kind or 'Unknown'} records are not imported.")
            )
    if not arrival.patients and not arrival.refusals:
        arrival.refusals.append(Problem("file", "The Bundle holds no Patient."))
    return arrival


# --------------------------------------------------------------------------- CSV template


def parse_csv(text: str) -> Arrival:
    arrival = Arrival()
    columns, rows = read_rows(text)
    missing = [c for c in CSV_REQUIRED if c not in columns]
    unknown = [c for c in columns if c not in CSV_COLUMNS]
    if missing or unknown:
        words = []
        if missing:
            words.append(f"missing columns: {', '.join(missing)}")
        if unknown:
            words.append(f"unknown columns: {', '.join(unknown)}")
        arrival.refusals.append(Problem("header", "; ".join(words).capitalize() + "."))
        return arrival
    by_id: dict[str, ArrivingPatient] = {}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        _csv_row(arrival, by_id, f"row {number}", row)
    if not arrival.patients and not arrival.refusals:
        arrival.refusals.append(Problem("file", "The file has no rows."))
    return arrival


def _csv_row(
    arrival: Arrival, by_id: dict[str, ArrivingPatient], where: str, row: dict[str, str]
) -> None:
    key = row.get("external_id", "")
    if not key:
        arrival.refusals.append(Problem(where, "external_id is empty."))
        return
    born = _date(row.get("date_of_birth"))
    demographics = {
        "legal_given_name": row.get("legal_given_name", ""),
        "legal_family_name": row.get("legal_family_name", ""),
        "date_of_birth": born,
        "sex": row.get("sex", "").lower(),
        "email": row.get("email", ""),
        "phone_mobile": row.get("phone_mobile", ""),
    }
    patient = by_id.get(key)
    if patient is None:
        if born is None:
            arrival.refusals.append(Problem(where, "date_of_birth must be YYYY-MM-DD."))
            return
        patient = ArrivingPatient(where=where, demographics=demographics)
        by_id[key] = patient
        arrival.patients.append(patient)
    elif any(
        demographics[name] != patient.demographics[name]
        for name in ("legal_given_name", "legal_family_name", "date_of_birth")
    ):
        arrival.refusals.append(
            Problem(
                where, f"external_id {key} has another name or date of birth on {patient.where}."
            )
        )
        return
    if row.get("instrument") or row.get("total") or row.get("taken_on"):
        instrument = row.get("instrument", "").lower()
        total, taken = _whole(row.get("total")), _date(row.get("taken_on"))
        if instrument not in ("phq9", "gad7") or total is None or taken is None:
            arrival.refusals.append(
                Problem(
                    where,
                    "A total needs instrument (phq9 or gad7), a whole-number total and "
                    "taken_on (YYYY-MM-DD).",
                )
            )
        else:
            patient.totals.append((where, instrument, total, taken))
    weight_text, height_text = row.get("weight_kg", ""), row.get("height_cm", "")
    if weight_text or height_text or row.get("measured_on"):
        weight = _amount(weight_text) if weight_text else None
        height = _amount(height_text) if height_text else None
        measured = _date(row.get("measured_on"))
        unreadable = (weight_text and weight is None) or (height_text and height is None)
        if measured is None or unreadable or (weight is None and height is None):
            arrival.refusals.append(
                Problem(
                    where,
                    "A measurement needs measured_on (YYYY-MM-DD) and a number in weight_kg, "
                    "height_cm or both.",
                )
            )
        else:
            patient.measurements.append((where, measured, weight, height))
