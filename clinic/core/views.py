"""The audit log for clinic administrators: browse by patient, user and date; export as CSV."""

from __future__ import annotations

import json

from django import forms
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from clinic.core.access import require, staff_required
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.db_router import reporting_database
from clinic.core.forms import DateInput, PlausibleDateField, TextField
from clinic.core.selectors import AuditFilter, audit_event_page, audit_event_queryset
from clinic.core.spreadsheet import csv_stream

EXPORT_COLUMNS = [
    "occurred_at_utc",
    "username",
    "role",
    "action",
    "object_type",
    "object_id",
    "patient_mrn",
    "summary",
    "changes",
    "ip_address",
    "user_agent",
    "channel",
    "request_id",
]


class AuditFilterForm(forms.Form):
    mrn = TextField(label="Patient MRN", required=False, max_length=12)
    username = TextField(label="Staff username", required=False, max_length=150)
    action = forms.ChoiceField(required=False, choices=[("", "Any action"), *AuditAction.choices])
    date_from = PlausibleDateField(
        days_ahead="booking_days_ahead", label="From", required=False, widget=DateInput()
    )
    date_to = PlausibleDateField(
        days_ahead="booking_days_ahead", label="To", required=False, widget=DateInput()
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def filters(self) -> AuditFilter:
        data = self.cleaned_data
        return AuditFilter(
            mrn=(data.get("mrn") or "").strip(),
            username=(data.get("username") or "").strip(),
            action=data.get("action") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


@staff_required
@require_http_methods(["GET", "POST"])
def audit_list(request):
    """Filters are POSTed: an MRN or username in a URL would end up in access logs."""
    require(request.user, "audit.view")
    form = AuditFilterForm(request.POST if request.method == "POST" else None)
    filters, page_number = AuditFilter(), request.GET.get("page", 1)
    if request.method == "POST" and form.is_valid():
        filters, page_number = form.filters(), form.cleaned_data.get("page") or 1
    page = audit_event_page(actor=request.user, filters=filters, page_number=page_number)
    return render(
        request,
        "core/audit_list.html",
        {
            "form": form,
            "page": page,
            "filtered": filters != AuditFilter(),
            "filter_fields": filters.as_form_data().items(),
        },
    )


@staff_required
@require_POST
def audit_export(request):
    require(request.user, "audit.export")
    form = AuditFilterForm(request.POST)
    filters = form.filters() if form.is_valid() else AuditFilter()
    # The file may be long: it streams from the read replica where one is configured.
    events = audit_event_queryset(actor=request.user, filters=filters).using(reporting_database())
    audit_record(
        actor=request.user,
        action=AuditAction.EXPORT,
        object_type="audit_log",
        summary=f"Audit log exported as CSV ({filters.describe()})",
    )
    rows = (
        [
            event.occurred_at.astimezone(timezone.UTC).isoformat(),
            event.actor_username,
            event.actor_role,
            event.action,
            event.object_type,
            event.object_id,
            event.patient.mrn if event.patient else "",
            event.summary,
            json.dumps(event.changes, sort_keys=True) if event.changes else "",
            event.ip_address or "",
            event.user_agent,
            event.channel,
            event.request_id,
        ]
        for event in events.iterator(chunk_size=2000)
    )

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(
        csv_stream(EXPORT_COLUMNS, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
    return response
