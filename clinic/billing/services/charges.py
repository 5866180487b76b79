"""Charges: a signed session codes itself, billing re-codes, clinicians add visit codes, and the
fee schedule prices every line.

The coding is the pure rules' (`session_codes`, the calculator's contract); this module gathers
the facts from the signed session, the patient's coverage on the date of service and the visit
codes, and writes the result. A charge's lines are never edited: each coding marks the lines it
replaces entered in error, with the reason, and adds the new ones. Facts that cannot be coded
leave the charge with no lines and the reason in `coding_problem`, so it waits in the billing
queue instead of vanishing. Writes lock the charge row; one charge per session is the
database's (a one-to-one key), so a session signed and coded by hand at once still has one.
"""

from __future__ import annotations

import datetime
import logging
import re
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.billing import session_codes
from clinic.billing.models import (
    Charge,
    ChargeLine,
    Coverage,
    CoveragePriority,
    FeeScheduleEntry,
    SessionPayerRules,
    VisitCode,
)
from clinic.billing.services.packages import package_use_for
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput
from clinic.core.parsing import date_problem
from clinic.core.records import mark_entered_in_error, required_text
from clinic.locations.models import Location
from clinic.patients.selectors import require_clinical_act
from clinic.treatment_sessions import rules as session_rules
from clinic.treatment_sessions.choices import AdministrationKind
from clinic.treatment_sessions.models import TreatmentSession

logger = logging.getLogger(__name__)

# A new patient has had no professional service from the clinic's practitioners of the same
# specialty within the previous 3 years; otherwise established (CMS Medicare Claims
# Processing Manual, IOM 100-04, ch. 12, §30.6.7). Here: an earlier signed session.
ESTABLISHED_WITHIN_DAYS = 3 * 365
# A fee above this is a typing error (a whole session's G2083 is about $1,300 [P6]).
FEE_MAX_CENTS = 10_000_00
NDC_SEGMENTS = re.compile(r"(\d{4,5})-(\d{3,4})-(\d{1,2})")
NDC_10_SHAPES = {(4, 4, 2), (5, 3, 2), (5, 4, 1)}

WARNING_NO_NDC = (
    "The ketamine product has no NDC the claim can carry: J3490 is billed with the 11-digit "
    "NDC [P13], [P18]. Enter it on the product, then code the charge again."
)

FIELD_WORDS = {
    "route": "Route",
    "payer": "Payer",
    "infusion_minutes": "Infusion minutes",
    "esketamine_mg": "Esketamine mg",
    "ketamine_ndc": "Ketamine NDC",
    "established_patient": "New patient",
    "visit_codes": "Visit codes",
    "drug_supplied_by": "Drug supplied by",
}


def ndc_11(raw: str) -> str:
    """The 11-digit (5-4-2) form of a product's NDC, as a claim carries it [P13]: 11 digits as
    they are, or the labeller's hyphenated 10-digit form zero-filled in its short segment.
    Empty when the NDC cannot be read that way (10 digits without hyphens are ambiguous)."""
    value = (raw or "").strip()
    if re.fullmatch(r"\d{11}", value):
        return value
    match = NDC_SEGMENTS.fullmatch(value)
    if match is None:
        return ""
    parts = match.groups()
    if tuple(len(p) for p in parts) == (5, 4, 2):
        return "".join(parts)
    if tuple(len(p) for p in parts) not in NDC_10_SHAPES:
        return ""
    return parts[0].zfill(5) + parts[1].zfill(4) + parts[2].zfill(2)


# --------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class SessionBillingFacts:
    date_of_service: datetime.date
    route: str
    coverage: Coverage | None
    payer_rules: str
    established_patient: bool
    infusion_minutes: int | None
    esketamine_mg: int | None
    drug_supplied_by: str
    ketamine_ndc: str
    rendering_provider: User
    location: Location | None


def coverage_on(patient_id: int, day: datetime.date) -> Coverage | None:
    """The primary coverage in force on a date of service (an ended coverage still covers the
    days it ran); None is self-pay."""
    return (
        Coverage.objects.filter(
            patient_id=patient_id,
            priority=CoveragePriority.PRIMARY,
            entered_in_error_at__isnull=True,
        )
        .filter(Q(starts_on__isnull=True) | Q(starts_on__lte=day))
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day))
        .select_related("plan__payer")
        .order_by("-id")
        .first()
    )


def _established(session: TreatmentSession, day: datetime.date) -> bool:
    since = day - datetime.timedelta(days=ESTABLISHED_WITHIN_DAYS)
    return (
        TreatmentSession.objects.filter(
            patient_id=session.patient_id,
            signed_at__isnull=False,
            checked_in_at__date__gte=since,
            checked_in_at__lt=session.checked_in_at,
        )
        .exclude(pk=session.pk)
        .exists()
    )


def session_billing_facts(session: TreatmentSession) -> SessionBillingFacts:
    """What a signed session is coded from: read from the signed record, its administrations
    (all drawn from the clinic's own ledger stock, so the clinic supplied the drug) and its
    infusion events (minutes run, pauses excluded, rounded down)."""
    day = timezone.localtime(session.checked_in_at).date()
    administrations = list(
        session.administrations.select_related("container__lot__product").order_by("given_at")
    )
    infusion_minutes = None
    if session.route == "iv":
        events = [
            session_rules.InfusionEvent(kind=e.kind, at=e.occurred_at)
            for e in session.infusion_events.all()
        ]
        infusion_minutes = session_rules.infusion_minutes_run(events)
    esketamine_mg = None
    if session.route == "esketamine":
        given = sum(
            (a.given_mg for a in administrations if a.kind == AdministrationKind.ESKETAMINE_DEVICE),
            Decimal(0),
        )
        esketamine_mg = int(given)
    ndc = ""
    if session.route in ("iv", "im") and administrations:
        ndc = ndc_11(administrations[0].container.lot.product.ndc)
    coverage = coverage_on(session.patient_id, day)
    payer_rules = (
        coverage.plan.payer.session_coding if coverage is not None else SessionPayerRules.SELF_PAY
    )
    assert session.signed_by is not None
    return SessionBillingFacts(
        date_of_service=day,
        route=session.route,
        coverage=coverage,
        payer_rules=payer_rules,
        established_patient=_established(session, day),
        infusion_minutes=infusion_minutes,
        esketamine_mg=esketamine_mg,
        drug_supplied_by="clinic",
        ketamine_ndc=ndc,
        rendering_provider=session.signed_by,
        location=(
            session.appointment.chair.room.location if session.appointment_id is not None else None
        ),
    )


def _effective_visit_codes(visits: list[VisitCode]) -> list[tuple[VisitCode, str]]:
    """Each visit code as it is billed now: psychotherapy takes the add-on code when the same
    session has an E/M, the standalone code when it has none [P17]."""
    with_e_m = any(v.code in session_codes.E_M_CODES for v in visits)
    billed = []
    for visit in visits:
        code = visit.code
        if code in session_codes.PSYCHOTHERAPY_CODES | session_codes.PSYCHOTHERAPY_ADD_ON_CODES:
            assert visit.minutes is not None
            code = session_codes.psychotherapy_code(visit.minutes, with_e_m=with_e_m)
        billed.append((visit, code))
    return billed


def _coding(
    facts: SessionBillingFacts, billed: list[tuple[VisitCode, str]]
) -> session_codes.SessionCoding:
    if facts.route not in session_codes.ROUTES:
        raise session_codes.CodingError("route", "Only IV, IM and esketamine sessions are coded.")
    if facts.route == "iv" and facts.infusion_minutes is None:
        raise session_codes.CodingError(
            "infusion_minutes", "The infusion has no stop time: nothing to count."
        )
    if facts.route == "iv" and facts.infusion_minutes == 0:
        raise session_codes.CodingError("infusion_minutes", "The infusion ran under a minute.")
    return session_codes.session_codes(
        session_codes.SessionFacts(
            route=facts.route,
            payer=facts.payer_rules,  # type: ignore[arg-type]
            date_of_service=facts.date_of_service,
            established_patient=facts.established_patient,
            infusion_minutes=facts.infusion_minutes,
            esketamine_mg=facts.esketamine_mg,
            drug_supplied_by=facts.drug_supplied_by,  # type: ignore[arg-type]
            ketamine_ndc=facts.ketamine_ndc or None,
            visit_codes=tuple(code for _, code in billed),
        )
    )


def problem_text(error: session_codes.CodingError) -> str:
    return f"{FIELD_WORDS.get(error.field, error.field)}: {error.message}"[:300]


# --------------------------------------------------------------------------- prices


def prices_on(codes: set[str], day: datetime.date) -> dict[str, int]:
    """The clinic's price in cents for each code on a date of service (one query): the entry
    with the latest effective date not after it. A code with no price is absent."""
    prices: dict[str, int] = {}
    entries = (
        FeeScheduleEntry.objects.filter(
            code__in=codes, effective_on__lte=day, entered_in_error_at__isnull=True
        )
        .order_by("code", "-effective_on", "-id")
        .values_list("code", "price_cents")
    )
    for code, cents in entries:
        prices.setdefault(code, cents)
    return prices


# --------------------------------------------------------------------------- coding


def _write_coding(actor: User, charge: Charge, *, reason: str) -> Charge:
    """Code the charge again from the session as signed (the caller holds its row lock)."""
    session = TreatmentSession.objects.select_related(
        "signed_by", "appointment__chair__room__location"
    ).get(pk=charge.session_id)
    facts = session_billing_facts(session)
    visits = (
        list(charge.visit_codes.filter(entered_in_error_at__isnull=True).order_by("id"))
        if charge.pk is not None
        else []
    )
    charge.date_of_service = facts.date_of_service
    charge.route = facts.route
    charge.coverage = facts.coverage
    charge.payer_rules = facts.payer_rules
    charge.established_patient = facts.established_patient
    charge.infusion_minutes = facts.infusion_minutes
    charge.esketamine_mg = facts.esketamine_mg
    charge.drug_supplied_by = facts.drug_supplied_by
    charge.ketamine_ndc = facts.ketamine_ndc
    charge.rendering_provider = facts.rendering_provider
    charge.location = facts.location
    charge.coded_at = timezone.now()
    charge.coded_by = actor
    lines: tuple[session_codes.ChargeLine, ...] = ()
    billed: list[tuple[VisitCode, str]] = []
    try:
        billed = _effective_visit_codes(visits)
        coding = _coding(facts, billed)
    except session_codes.CodingError as error:
        charge.coding_problem = problem_text(error)
        charge.coding_warnings = []
    else:
        charge.coding_problem = ""
        charge.coding_warnings = list(coding.warnings)
        lines = coding.lines
        if any(line.code == session_codes.UNCLASSIFIED_DRUG and not line.ndc for line in lines):
            charge.coding_warnings.append(WARNING_NO_NDC)
    prices = prices_on({line.code for line in lines}, facts.date_of_service)
    list_amounts = [
        prices[line.code] * line.units if line.code in prices else None for line in lines
    ]
    package = package_use_for(charge, list_amounts)
    charge.package_purchase = package.purchase if package else None
    charge.package_session = package.session if package else None
    amounts = package.amounts_cents if package else list_amounts
    if charge.pk is None:
        charge.save(force_insert=True)
    else:
        charge.save()
    replaced = 0
    for old in ChargeLine.objects.select_for_update().filter(
        charge=charge, entered_in_error_at__isnull=True
    ):
        replaced += mark_entered_in_error(old, actor=actor, reason=reason)
    visit_by_code = {code: visit for visit, code in billed}
    ChargeLine.objects.bulk_create(
        ChargeLine(
            charge=charge,
            position=position,
            code=line.code,
            units=line.units,
            modifiers=",".join(line.modifiers),
            ndc=line.ndc or "",
            visit_code=visit_by_code.get(line.code),
            # The list price per unit; the amount is the package's share when one prices it.
            unit_price_cents=prices.get(line.code),
            amount_cents=amount,
        )
        for position, (line, amount) in enumerate(zip(lines, amounts, strict=True), start=1)
    )
    outcome = (
        f"coding problem: {charge.coding_problem}"
        if charge.coding_problem
        else "lines " + ", ".join(f"{line.code}×{line.units}" for line in lines)
    )
    if package:
        outcome += f"; package {package.purchase.name}, session {package.session}"
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if replaced == 0 else AuditAction.UPDATE,
        object_type="charge",
        object_id=charge.uuid,
        patient=session.patient,
        summary=f"Session {facts.date_of_service:%m/%d/%Y} coded ({reason}): {outcome}",
        changes={"lines_replaced": replaced, "payer_rules": charge.payer_rules},
    )
    return charge


def _new_charge(actor: User, session: TreatmentSession, *, reason: str) -> Charge:
    if session.signed_at is None:
        raise Conflict("A session is coded once it is signed.", code="not_signed")
    charge = Charge(patient_id=session.patient_id, session=session)
    try:
        with transaction.atomic():
            return _write_coding(actor, charge, reason=reason)
    except IntegrityError as error:
        # Someone coded it a moment ago: the one-to-one key kept it to one charge.
        raise Conflict("This session already has its charge.", code="already_charged") from error


@transaction.atomic
def charge_for_signed_session(*, actor: User, session: TreatmentSession) -> Charge:
    """The charge a session earns at the moment it is signed (called by the signature, as the
    prescriber who signed; it checks nothing more: the signature was checked)."""
    return _new_charge(actor, session, reason="session signed")


def code_signed_session_quietly(
    sender: object, session: TreatmentSession, actor: User, **_kwargs: object
) -> None:
    """The `session_signed` receiver: a charge that cannot be written must not cost the
    signature; the session then waits in the billing queue as signed and not yet charged."""
    try:
        with transaction.atomic():
            charge_for_signed_session(actor=actor, session=session)
    except Exception:
        logger.exception("A signed session was not coded; it waits in the billing queue.")


@transaction.atomic
def charge_code_session(*, actor: User, session: TreatmentSession) -> Charge:
    """Billing codes a signed session that has no charge (signed before charges existed, or
    its coding failed at the signature)."""
    require(actor, Capability.CHARGE_MANAGE)
    return _new_charge(actor, session, reason="coded from the billing queue")


@dataclass(frozen=True)
class BatchResult:
    coded: int
    with_problems: int
    already_charged: int


def charge_code_sessions(*, actor: User, sessions: list[TreatmentSession]) -> BatchResult:
    """Code a batch of signed sessions from the queue (the oldest page of it), each in its own
    transaction, so one that someone else coded meanwhile does not undo the rest."""
    require(actor, Capability.CHARGE_MANAGE)
    coded = problems = already = 0
    for session in sessions:
        try:
            charge = charge_code_session(actor=actor, session=session)
        except Conflict:
            already += 1
            continue
        coded += 1
        problems += bool(charge.coding_problem)
    return BatchResult(coded=coded, with_problems=problems, already_charged=already)


def _locked_charge(charge: Charge) -> Charge:
    return Charge.objects.select_for_update().get(pk=charge.pk)


@transaction.atomic
def charge_recode(*, actor: User, charge: Charge, reason: str) -> Charge:
    """Code the charge again from the signed session, the coverage and the fee schedule as they
    are now (a coverage was added, a price set). The lines replaced stay, entered in error."""
    require(actor, Capability.CHARGE_MANAGE)
    reason = required_text("reason", reason, "Say why the charge is coded again.")[:200]
    return _write_coding(actor, _locked_charge(charge), reason=f"re-coded: {reason}")


# --------------------------------------------------------------------------- visit codes

VISIT_KINDS = ("e_m", "evaluation", "psychotherapy")


def _visit_code_for(kind: str, code: str, minutes: int | None, with_e_m: bool) -> str:
    if kind == "psychotherapy":
        if minutes is None:
            raise InvalidInput({"minutes": ["Enter the minutes of psychotherapy documented."]})
        try:
            return session_codes.psychotherapy_code(minutes, with_e_m=with_e_m)
        except session_codes.CodingError as error:
            raise InvalidInput({"minutes": [error.message]}) from error
    allowed = (
        session_codes.E_M_CODES if kind == "e_m" else session_codes.DIAGNOSTIC_EVALUATION_CODES
    )
    if kind not in VISIT_KINDS or code not in allowed:
        raise InvalidInput({"code": ["Choose a code from the list."]})
    if minutes is not None and not 1 <= minutes <= session_codes.PSYCHOTHERAPY_MAX_MINUTES:
        raise InvalidInput({"minutes": ["Between 1 and 480 minutes."]})
    return code


@transaction.atomic
def visit_code_add(
    *, actor: User, charge: Charge, kind: str, code: str = "", minutes: int | None = None
) -> VisitCode:
    """A prescriber or therapist on the care team adds their code to a signed session's charge;
    the charge is re-coded with it at once. A code the payer's rules refuse with this session
    (an E/M beside Medicare's G2082/G2083, say) is refused with the reason, not stored."""
    require_clinical_act(
        actor=actor,
        patient=charge.patient,
        capability=Capability.VISIT_CODE_ADD,
        message="Only the care team's prescribers and therapists add visit codes.",
    )
    locked = _locked_charge(charge)
    visits = list(locked.visit_codes.filter(entered_in_error_at__isnull=True))
    with_e_m = kind == "e_m" or any(v.code in session_codes.E_M_CODES for v in visits)
    code = _visit_code_for(kind, code, minutes, with_e_m)
    psychotherapy = session_codes.PSYCHOTHERAPY_CODES | session_codes.PSYCHOTHERAPY_ADD_ON_CODES
    for visit in visits:
        same_family = (visit.code in psychotherapy and code in psychotherapy) or (
            visit.code in session_codes.E_M_CODES and code in session_codes.E_M_CODES
        )
        if visit.code == code or same_family:
            raise InvalidInput(
                {"code": [f"This session already has {visit.code}: mark it in error first."]}
            )
    visit = VisitCode(charge=locked, code=code, minutes=minutes, clinician=actor, added_by=actor)
    trial = [*visits, visit]
    session = TreatmentSession.objects.select_related("signed_by").get(pk=locked.session_id)
    try:
        _coding(session_billing_facts(session), _effective_visit_codes(trial))
    except session_codes.CodingError as error:
        raise InvalidInput({"code": [error.message]}) from error
    visit.save(force_insert=True)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="visit_code",
        object_id=visit.uuid,
        patient=locked.patient,
        summary=f"Visit code {code} added"
        + (f" ({minutes} min documented)" if minutes is not None else ""),
    )
    _write_coding(actor, locked, reason=f"visit code {code} added")
    return visit


@transaction.atomic
def visit_code_mark_entered_in_error(*, actor: User, visit: VisitCode, reason: str) -> VisitCode:
    """Billing, or the clinician who added it, marks a visit code wrong; the charge is re-coded
    without it."""
    if not (actor.can(Capability.CHARGE_MANAGE) or visit.added_by_id == actor.pk):
        require(actor, Capability.CHARGE_MANAGE)
    reason = required_text("reason", reason, "Say why the code is wrong.")
    locked_charge = _locked_charge(visit.charge)
    locked = VisitCode.objects.select_for_update().get(pk=visit.pk)
    if not mark_entered_in_error(locked, actor=actor, reason=reason):
        return locked
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="visit_code",
        object_id=locked.uuid,
        patient=locked_charge.patient,
        summary=f"Visit code {locked.code} marked entered in error: {reason}"[:300],
    )
    _write_coding(actor, locked_charge, reason=f"visit code {locked.code} in error")
    return locked


# --------------------------------------------------------------------------- fee schedule


@transaction.atomic
def fee_set(
    *, actor: User, code: str, price_cents: int, effective_on: datetime.date, note: str = ""
) -> FeeScheduleEntry:
    """A price for a code from a date on. Codes are those a charge can carry; a second price
    for the same code and day is refused (mark the first entered in error)."""
    require(actor, Capability.FEE_SCHEDULE_MANAGE)
    errors: dict[str, list[str]] = {}
    code = (code or "").strip().upper()
    if code not in session_codes.BILLABLE_CODES:
        errors["code"] = ["A code a session's charge can carry (see the list)."]
    if not 0 <= price_cents <= FEE_MAX_CENTS:
        errors["price"] = [f"Between $0.00 and ${FEE_MAX_CENTS // 100:,}.00."]
    if problem := date_problem(effective_on, today=timezone.localdate(), days_ahead=366):
        errors["effective_on"] = [problem]
    note = (note or "").strip()[:300]
    if errors:
        raise InvalidInput(errors)
    try:
        with transaction.atomic():
            entry = FeeScheduleEntry.objects.create(
                code=code,
                price_cents=price_cents,
                effective_on=effective_on,
                note=note,
                set_by=actor,
            )
    except IntegrityError as error:
        raise InvalidInput(
            {"effective_on": [f"{code} already has a price from this date: mark it in error."]}
        ) from error
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="fee",
        object_id=entry.uuid,
        summary=f"Fee {code}: {price_cents / 100:,.2f} from {effective_on:%m/%d/%Y}",
    )
    return entry


@transaction.atomic
def fee_mark_entered_in_error(
    *, actor: User, entry: FeeScheduleEntry, reason: str
) -> FeeScheduleEntry:
    """A mistaken price stops applying; charges already priced by it keep their lines until
    billing re-codes them."""
    require(actor, Capability.FEE_SCHEDULE_MANAGE)
    reason = required_text("reason", reason, "Say why the price is wrong.")
    locked = FeeScheduleEntry.objects.select_for_update().get(pk=entry.pk)
    if mark_entered_in_error(locked, actor=actor, reason=reason):
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="fee",
            object_id=locked.uuid,
            summary=f"Fee {locked.code} from {locked.effective_on:%m/%d/%Y} entered in error",
        )
    return locked
