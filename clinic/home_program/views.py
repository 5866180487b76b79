"""Staff pages of the at-home program: the open blood pressure alerts of the actor's patients,
and one alert with its acknowledge form (the chart section posts to the same page)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from clinic.accounts.permissions import Capability
from clinic.core.access import require, staff_required
from clinic.core.exceptions import Conflict, InvalidInput
from clinic.core.forms import apply_domain_error
from clinic.home_program import selectors, services
from clinic.home_program.choices import HomeBpAlertStatus
from clinic.home_program.forms import AcknowledgeForm


@staff_required
@require_GET
def alerts(request):
    page = selectors.home_bp_alert_open_page(
        actor=request.user, page_number=request.GET.get("page", 1)
    )
    return render(
        request,
        "home_program/alert_list.html",
        {"alerts": page.object_list, "page": page, "form": AcknowledgeForm(), "next": request.path},
    )


def _safe_next(request) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@staff_required
@require_http_methods(["GET", "POST"])
def alert_acknowledge(request, alert_uuid):
    # The role first (403), then the alert among the actor's patients (404).
    require(request.user, Capability.HOME_PROGRAM_REVIEW)
    alert = selectors.home_bp_alert_get(actor=request.user, alert_uuid=alert_uuid)
    form = AcknowledgeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.home_bp_alert_acknowledge(
                actor=request.user, alert=alert, note=form.cleaned_data["note"]
            )
        except (InvalidInput, Conflict) as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, "At-home blood pressure alert acknowledged.")
            return redirect(_safe_next(request) or "home_program:alerts")
    return render(
        request,
        "home_program/alert_acknowledge.html",
        {
            "alert": alert,
            "log": alert.log,
            "patient": alert.patient,
            "form": form,
            "is_open": alert.status == HomeBpAlertStatus.OPEN,
            "next": _safe_next(request) or "",
        },
    )
