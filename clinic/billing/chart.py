"""What billing adds to the patient chart: the problem list, near the top (billing staff see
it too: they code claims from it, without the chart's clinical sections), and one line about
insurance in the header, for everyone who opens the chart (no member IDs)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from clinic.accounts.permissions import Capability
from clinic.billing import selectors, selectors_accounts, selectors_charges, selectors_prior_auth
from clinic.billing.models import EligibilityResult
from clinic.billing.templatetags.money import dollars
from clinic.patients.chart import ChartAlert, ChartSection


def section_context(*, actor, patient, clinical: bool):
    if not selectors.can_view_diagnoses(actor=actor, patient=patient):
        return None
    diagnoses = selectors.diagnosis_list(actor=actor, patient=patient)
    return {
        "patient": patient,
        "current": [d for d in diagnoses if d.is_current],
        "past": [d for d in diagnoses if not d.is_current],
        "can_record": selectors.can_record_diagnoses(actor=actor, patient=patient),
        "charges": selectors_charges.patient_charges(actor=actor, patient=patient, limit=5),
        "can_add_visit": selectors_charges.can_add_visit_codes(actor=actor, patient=patient),
        "authorizations": selectors_prior_auth.prior_auth_list(actor=actor, patient=patient)[:3],
        "can_see_authorizations": selectors_prior_auth.can_view(actor=actor, patient=patient),
        "today": timezone.localdate(),
    }


SECTION = ChartSection(order=1, template="billing/_chart_section.html", context=section_context)


def coverage_alerts(*, actor, patient, clinical: bool) -> list[ChartAlert]:
    line = selectors.coverage_line(patient=patient)
    url = (
        reverse("billing:coverage", args=[patient.uuid])
        if actor.can(Capability.COVERAGE_VIEW)
        else ""
    )
    coverage, check = line.coverage, line.last_check
    if coverage is None:
        return [ChartAlert("info", "No insurance coverage on file (self-pay).", url)]
    plan = coverage.plan
    name = f"{plan.payer.name} — {plan.name} ({coverage.get_priority_display().lower()})"
    today = timezone.localdate()
    if coverage.ends_on is not None and coverage.ends_on < today:
        return [
            ChartAlert(
                "warning",
                f"Coverage: {name} ran until {coverage.ends_on:%m/%d/%Y}: update the coverage.",
                url,
            )
        ]
    if check is None:
        return [ChartAlert("warning", f"Coverage: {name}; eligibility not checked yet.", url)]
    checked_on = timezone.localtime(check.checked_at).date()
    if check.result == EligibilityResult.ACTIVE:
        return [
            ChartAlert(
                "info", f"Coverage: {name}; eligibility active, checked {checked_on:%m/%d/%Y}.", url
            )
        ]
    return [
        ChartAlert(
            "warning",
            f"Coverage: {name}; eligibility check on {checked_on:%m/%d/%Y}: "
            f"{check.get_result_display().lower()}.",
            url,
        )
    ]


def prior_auth_alerts(*, actor, patient, clinical: bool) -> list[ChartAlert]:
    """The prior-authorization notices (used up, ending soon, booked sessions outside it) in
    the chart header, for whoever may see the requests."""
    return [
        ChartAlert(n.level, n.text, n.url)
        for n in selectors_prior_auth.prior_auth_notices(actor=actor, patient=patient)
    ]


def account_alerts(*, actor, patient, clinical: bool) -> list[ChartAlert]:
    """For the front desk, billing and the administrator: what the patient owes, with a link
    to the account (the desk asks at check-in and check-out)."""
    if not actor.can(Capability.ACCOUNT_VIEW):
        return []
    totals = selectors_accounts.totals_of(patient)
    owed, has_charges = totals.balance_cents, totals.has_charges
    url = reverse("billing:account", args=[patient.uuid])
    if owed > 0:
        return [ChartAlert("warning", f"Balance due: {dollars(owed)}.", url)]
    if has_charges:
        return [
            ChartAlert(
                "info",
                f"Account: {dollars(-owed)} in credit." if owed < 0 else "Account: nothing owed.",
                url,
            )
        ]
    return []
