# ruff: noqa: F811 (the priced charge fixture is imported by name, then used)
"""Billing's reports and the queue's past-due card. The charge is the self-pay IV session of
Monday 2 June 2031 priced at $250.00 (96365) + $60.00 (J3490) = $310.00 (test_payments'
`priced_charge`); amounts below are worked out by hand from those prices. Aging bands are the
issue's 30/60/90 days, counted from the date of service."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clinic.billing.ar_aging import band_for
from clinic.billing.selectors_reports import (
    NO_COVERAGE,
    NOT_APPLIED,
    ReportRequest,
    aging_report,
    charges_report,
    past_due,
    payments_report,
)
from clinic.billing.services import coverage as coverage_services
from clinic.billing.services import payments
from clinic.billing.tests.test_payments import DAY, entry, priced_charge  # noqa: F401
from clinic.core.models import AuditEvent
from tests.helpers import ACTOR_ORDER, client_as, status_word

pytestmark = pytest.mark.django_db


def days_after(days: int) -> datetime.date:
    return DAY + datetime.timedelta(days=days)


@pytest.mark.parametrize(
    ("days", "band"),
    [
        (0, "current"),
        (30, "current"),
        (31, "over_30"),
        (60, "over_30"),
        (61, "over_60"),
        (90, "over_60"),
        (91, "over_90"),
        (400, "over_90"),
    ],
)
def test_a_balance_falls_in_its_30_day_band(days, band):
    assert band_for(days).key == band


def row_values(report, label):
    rows = {row.label: row.values for row in report.rows}
    return rows[label]


def test_charges_are_summed_by_payer(priced_charge, billing):
    report = charges_report(actor=billing, request=ReportRequest(kind="charges", group="payer"))
    assert [r.label for r in report.rows] == [NO_COVERAGE]
    assert row_values(report, NO_COVERAGE) == {
        "charges": 1,
        "lines": 2,
        "charged": 310_00,
        "unpriced": 0,
    }
    outside = ReportRequest(kind="charges", date_from=days_after(1))
    assert charges_report(actor=billing, request=outside).rows == []


def test_charges_by_clinician_and_month_name_them(priced_charge, billing):
    by_provider = charges_report(actor=billing, request=ReportRequest(group="provider"))
    assert [r.label for r in by_provider.rows] == [priced_charge.rendering_provider.display_name]
    by_month = charges_report(actor=billing, request=ReportRequest(group="month"))
    assert [r.label for r in by_month.rows] == ["June 2031"]


def test_payments_split_by_who_paid_and_unapplied_money_has_its_own_row(
    priced_charge,
    billing,
    front_desk,
):
    patient = priced_charge.patient
    payments.payment_record(
        actor=front_desk, patient=patient, entry=entry(charge=priced_charge, amount_cents=100_00)
    )
    payments.payment_record(actor=front_desk, patient=patient, entry=entry(amount_cents=50_00))
    payments.payment_record(
        actor=billing,
        patient=patient,
        entry=entry(
            charge=priced_charge,
            source="adjustment",
            method="none",
            amount_cents=10_00,
            note="Prompt-pay discount",
        ),
    )
    report = payments_report(actor=billing, request=ReportRequest(kind="payments"))
    assert [r.label for r in report.rows] == [NO_COVERAGE, NOT_APPLIED]
    assert row_values(report, NO_COVERAGE) == {
        "payments": 2,
        "patient": 100_00,
        "insurer": 0,
        "received": 100_00,
        "adjusted": 10_00,
    }
    assert row_values(report, NOT_APPLIED)["received"] == 50_00
    assert report.totals["received"] == 150_00


def test_an_open_balance_ages_from_the_date_of_service(priced_charge, billing, front_desk):
    patient = priced_charge.patient
    payments.payment_record(
        actor=front_desk, patient=patient, entry=entry(charge=priced_charge, amount_cents=100_00)
    )
    # $310.00 - $100.00 = $210.00, owed 45 days after the session.
    report = aging_report(actor=billing, request=ReportRequest(kind="aging", as_of=days_after(45)))
    assert row_values(report, NO_COVERAGE) == {
        "charges": 1,
        "current": 0,
        "over_30": 210_00,
        "over_60": 0,
        "over_90": 0,
        "total": 210_00,
    }
    later = aging_report(actor=billing, request=ReportRequest(kind="aging", as_of=days_after(91)))
    assert row_values(later, NO_COVERAGE)["over_90"] == 210_00
    before = aging_report(actor=billing, request=ReportRequest(kind="aging", as_of=days_after(-1)))
    assert before.rows == []


def test_aging_counts_only_payments_received_by_its_day(priced_charge, billing, front_desk):
    payments.payment_record(
        actor=front_desk,
        patient=priced_charge.patient,
        entry=entry(charge=priced_charge, amount_cents=310_00, received_on=DAY),
    )
    # Paid in full on the day of service: nothing is open on any later day.
    assert aging_report(actor=billing, request=ReportRequest(kind="aging", as_of=DAY)).rows == []


def test_unapplied_payments_are_stated_beside_the_aging(priced_charge, billing, front_desk):
    payments.payment_record(
        actor=front_desk, patient=priced_charge.patient, entry=entry(amount_cents=50_00)
    )
    report = aging_report(actor=billing, request=ReportRequest(kind="aging", as_of=DAY))
    assert row_values(report, NO_COVERAGE)["current"] == 310_00
    assert any("$50.00" in note for note in report.notes)


def test_a_payer_groups_its_charges(priced_charge, billing):
    payer = coverage_services.payer_create(
        actor=billing, name="Aetna", payer_id="60054", kind="commercial"
    )
    plan = coverage_services.plan_create(actor=billing, payer=payer, name="Choice POS II")
    coverage = coverage_services.coverage_add(
        actor=billing,
        patient=priced_charge.patient,
        entry=coverage_services.CoverageEntry(plan=plan, priority="primary", member_id="W1"),
    )
    priced_charge.coverage = coverage
    priced_charge.save(update_fields=["coverage"])
    report = aging_report(actor=billing, request=ReportRequest(kind="aging", as_of=DAY))
    assert [r.label for r in report.rows] == ["Aetna"]


def test_the_queue_lists_balances_owed_past_30_days(priced_charge, billing):
    assert past_due(actor=billing, as_of=days_after(30)).count == 0
    due = past_due(actor=billing, as_of=days_after(75))
    assert [(b.label, b.cents, b.charges, b.patients) for b in due.bands] == [
        ("31–60 days", 0, 0, 0),
        ("61–90 days", 310_00, 1, 1),
        ("Over 90 days", 0, 0, 0),
    ]
    assert [(c.pk, c.open_cents) for c in due.oldest] == [(priced_charge.pk, 310_00)]


# --------------------------------------------------------------------------- the page

REPORTS = dict(
    zip(ACTOR_ORDER, ["login", 403, 200, 403, 403, 403, 403, 200, 403, 403, 403], strict=True)
)


@pytest.mark.parametrize("who", ACTOR_ORDER)
def test_the_reports_permission_matrix(priced_charge, client, actors, who):
    client = client_as(client, actors[who])
    page = reverse("billing:reports")
    assert status_word(client.get(page)) == REPORTS[who]
    assert status_word(client.get(page, {"report": "aging", "format": "csv"})) == REPORTS[who]


def test_the_page_shows_the_report_and_the_csv_downloads_it(priced_charge, client, actors):
    billing = client_as(client, actors["billing"])
    query = {"report": "charges", "group": "payer", "date_from": "2031-06-01"}
    page = billing.get(reverse("billing:reports"), query).content.decode()
    assert NO_COVERAGE in page and "$310.00" in page and "Download as CSV" in page

    response = billing.get(reverse("billing:reports"), {**query, "format": "csv"})
    assert response["Content-Disposition"] == 'attachment; filename="charges-by-payer.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["Payer", "Charges", "Lines", "Charged", "Lines without a price"],
        [NO_COVERAGE, "1", "2", "310.00", "0"],
        ["Total", "1", "2", "310.00", "0"],
    ]
    assert AuditEvent.objects.filter(object_type="billing_report", action="export").count() == 1


def test_a_payer_named_like_a_formula_cannot_run_in_a_spreadsheet(priced_charge, client, actors):
    billing_user = actors["billing"]
    payer = coverage_services.payer_create(
        actor=billing_user, name="=HYPERLINK(1)", payer_id="99999", kind="commercial"
    )
    plan = coverage_services.plan_create(actor=billing_user, payer=payer, name="Plan")
    priced_charge.coverage = coverage_services.coverage_add(
        actor=billing_user,
        patient=priced_charge.patient,
        entry=coverage_services.CoverageEntry(plan=plan, priority="primary", member_id="W1"),
    )
    priced_charge.save(update_fields=["coverage"])
    response = client_as(client, billing_user).get(
        reverse("billing:reports"), {"report": "charges", "group": "payer", "format": "csv"}
    )
    assert "\n'=HYPERLINK(1)," in response.content.decode().replace("\r\n", "\n")


def test_a_period_ending_before_it_starts_is_refused_with_the_reason(client, actors):
    response = client_as(client, actors["billing"]).get(
        reverse("billing:reports"),
        {"report": "payments", "date_from": "2026-05-10", "date_to": "2026-05-01"},
    )
    assert response.status_code == 422
    assert "The last day comes before the first." in response.content.decode()


def test_an_empty_report_says_so(client, actors):
    page = client_as(client, actors["billing"]).get(
        reverse("billing:reports"), {"report": "aging", "group": "location"}
    )
    assert "Nothing in this report: no charge had an open balance" in page.content.decode()


@pytest.mark.parametrize("kind", ["charges", "payments", "aging"])
def test_a_report_reads_in_a_fixed_number_of_queries(priced_charge, billing, front_desk, kind):
    request = ReportRequest(kind=kind, group="provider", as_of=DAY)
    runner = {"charges": charges_report, "payments": payments_report, "aging": aging_report}[kind]
    payments.payment_record(
        actor=front_desk,
        patient=priced_charge.patient,
        entry=entry(charge=priced_charge, amount_cents=5_00),
    )
    with CaptureQueriesContext(connection) as one:
        runner(actor=billing, request=request)
    for amount in (10_00, 20_00, 30_00):
        payments.payment_record(
            actor=front_desk,
            patient=priced_charge.patient,
            entry=entry(charge=priced_charge, amount_cents=amount),
        )
        payments.payment_record(
            actor=front_desk, patient=priced_charge.patient, entry=entry(amount_cents=amount)
        )
    with CaptureQueriesContext(connection) as more:
        runner(actor=billing, request=request)
    assert len(more) == len(one)
