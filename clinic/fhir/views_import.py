"""The import pages (the clinic administrator's): upload a previous system's file, read its
check (a dry run: what would arrive, every refusal and why), then import it whole. Glue only:
the work is in import_run.py."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.accounts.permissions import Capability
from clinic.core.access import require, staff_required
from clinic.core.exceptions import DomainError, NotFound
from clinic.core.forms import apply_domain_error, refusal_text
from clinic.fhir.import_parse import CSV_COLUMNS
from clinic.fhir.import_run import MAX_FILE_BYTES, import_apply, import_check
from clinic.fhir.models import ImportBatch


class ImportForm(forms.Form):
    file = forms.FileField(
        label="File",
        help_text="A FHIR Bundle (JSON) or the CSV template, UTF-8, up to "
        f"{MAX_FILE_BYTES // (1024 * 1024)} MB.",
    )


def _batch(actor, batch_uuid) -> ImportBatch:
    require(actor, Capability.RECORDS_IMPORT)
    batch = ImportBatch.objects.filter(uuid=batch_uuid).select_related("uploaded_by").first()
    if batch is None:
        raise NotFound("No such import.")
    return batch


@staff_required
@require_http_methods(["GET", "POST"])
def import_start(request):
    require(request.user, Capability.RECORDS_IMPORT)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = import_check(
                actor=request.user,
                file_name=upload.name,
                content=upload.read(MAX_FILE_BYTES + 1),
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            return redirect("imports:detail", batch_uuid=batch.uuid)
    recent = ImportBatch.objects.select_related("uploaded_by").only(
        "uuid", "file_name", "status", "created_at", "uploaded_by", "report"
    )[:20]
    return render(
        request,
        "fhir/import_start.html",
        {"form": form, "recent": recent, "columns": CSV_COLUMNS},
        status=422 if form.errors else 200,
    )


@staff_required
@require_GET
def import_detail(request, batch_uuid):
    batch = _batch(request.user, batch_uuid)
    return render(request, "fhir/import_detail.html", {"batch": batch, "report": batch.report})


@staff_required
@require_POST
def import_run(request, batch_uuid):
    batch = _batch(request.user, batch_uuid)
    try:
        batch = import_apply(actor=request.user, batch=batch)
    except DomainError as error:
        messages.error(request, refusal_text(error))
    else:
        if batch.status == "imported":
            report = batch.report
            messages.success(
                request,
                f"Imported {report['patients']} patients, {report['measurements']} "
                f"measurements, {report['totals']} totals and {report.get('conditions', 0)} "
                "problem-list entries. Set each patient's care team.",
            )
        else:
            messages.error(request, "Nothing was imported: the file was refused. See why below.")
    return redirect("imports:detail", batch_uuid=batch.uuid)


@staff_required
@require_GET
def csv_template(request):
    """The CSV template: its header and one example row of made-up values."""
    require(request.user, Capability.RECORDS_IMPORT)
    example = (
        "A-1001,Alex,Sample,1980-04-12,female,alex@example.com,555-0100,"
        "phq9,14,2026-03-02,71.5,168,2026-03-02"
    )
    body = ",".join(CSV_COLUMNS) + "\r\n" + example + "\r\n"
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="ketacare-import-template.csv"'
    return response
