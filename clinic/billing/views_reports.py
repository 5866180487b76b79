"""Billing's reports page: charges, payments and A/R aging by payer, clinician, location or
month, on the page and as CSV. Thin: the selectors sum, the CSV writer makes cells safe."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from clinic.accounts.permissions import Capability
from clinic.billing.forms import ReportForm
from clinic.billing.selectors_reports import Report, ReportRequest, report_run
from clinic.core.access import require, staff_required
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.spreadsheet import csv_text


def _request_of(form: ReportForm) -> ReportRequest:
    data = form.cleaned_data
    return ReportRequest(
        kind=data["report"],
        group=data["group"],
        date_from=data["date_from"],
        date_to=data["date_to"],
        as_of=data["as_of"],
        location=data["location"],
    )


def _dollars(cents: int) -> str:
    return f"{cents / 100:.2f}"


def _csv(report: Report) -> str:
    headings = [report.group_label, *(c.label for c in report.columns)]

    def cells(label: str, values: dict[str, int]) -> list[str]:
        return [
            label,
            *(
                _dollars(values.get(c.key, 0)) if c.money else str(values.get(c.key, 0))
                for c in report.columns
            ),
        ]

    rows = [cells(r.label, r.values) for r in report.rows]
    rows.append(cells("Total", report.totals))
    return csv_text(headings, rows)


@staff_required
@require_GET
def reports(request):
    require(request.user, Capability.CHARGE_VIEW)
    form = ReportForm(request.GET if "report" in request.GET else None)
    report = None
    if form.is_bound and form.is_valid():
        report = report_run(actor=request.user, request=_request_of(form))
        if request.GET.get("format") == "csv":
            audit_record(
                actor=request.user,
                action=AuditAction.EXPORT,
                object_type="billing_report",
                summary=f"{report.title}, by {report.group_label.lower()}, "
                f"{report.request.describe()} (CSV)",
            )
            response = HttpResponse(_csv(report), content_type="text/csv; charset=utf-8")
            name = f"{report.request.kind}-by-{report.request.group}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            response["Cache-Control"] = "no-store"
            return response
    csv_query = request.GET.copy()
    csv_query["format"] = "csv"
    return render(
        request,
        "billing/reports.html",
        {"form": form, "report": report, "csv_query": csv_query.urlencode()},
        status=422 if form.errors else 200,
    )
