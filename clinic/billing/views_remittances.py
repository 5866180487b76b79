"""Remittance (835) pages: upload a file the clearinghouse sent, and what was posted from each
file, claim by claim, with what is left for billing by hand. Thin: the service posts."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from clinic.accounts.permissions import Capability
from clinic.billing.models import Remittance
from clinic.billing.services import remittances as services
from clinic.core.access import require, staff_required
from clinic.core.exceptions import DomainError, NotFound
from clinic.core.forms import apply_domain_error

LIST_ROWS = 20


class RemittanceForm(forms.Form):
    file = forms.FileField(
        label="835 file",
        help_text="The remittance advice (ERA) your clearinghouse sent, as a text file.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > services.REMITTANCE_MAX_BYTES:
            raise forms.ValidationError("The file is larger than an 835 this clinic would get.")
        try:
            return upload.read().decode("utf-8")
        except UnicodeDecodeError as error:
            raise forms.ValidationError("Not a text file: choose the 835 itself.") from error


@staff_required
@require_http_methods(["GET", "POST"])
def remittances(request):
    require(request.user, Capability.CHARGE_MANAGE)
    form = RemittanceForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            remittance = services.remittance_import(
                actor=request.user, content=form.cleaned_data["file"]
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            posted = sum(row["posted"] for row in remittance.results)
            left = len(remittance.results) - posted
            text = f"{posted} claim{'s' if posted != 1 else ''} posted"
            if left:
                messages.warning(request, f"{text}; {left} left for you to post by hand.")
            else:
                messages.success(request, text + ".")
            return redirect(reverse("billing:remittance", args=[remittance.uuid]))
    latest = Remittance.objects.select_related("imported_by").defer("content")[:LIST_ROWS]
    return render(
        request,
        "billing/remittances.html",
        {"form": form, "latest": latest},
        status=422 if form.errors else 200,
    )


@staff_required
@require_GET
def remittance(request, remittance_uuid):
    require(request.user, Capability.CHARGE_MANAGE)
    found = (
        Remittance.objects.select_related("imported_by")
        .defer("content")
        .filter(uuid=remittance_uuid)
        .first()
    )
    if found is None:
        raise NotFound("No such remittance.")
    return render(request, "billing/remittance.html", {"remittance": found})
