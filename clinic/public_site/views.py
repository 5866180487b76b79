"""Public pages: no account needed, and no patient record is ever read.

The public home ("/" for anonymous visitors, called from dashboard.views.home) and the education
pages under /learn/ read nothing from the database: their text is in the templates, their
sources in sources.py, and the preparation times they quote come from the clinic's scheduling
policy (settings, not the database). They are the same for every visitor.

The consultation form stores a request and sends everyone to the same thank-you page: a
page that shows nothing the person typed and is the same whoever they are, so it cannot
tell anyone whether that person is a patient of the clinic.
"""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from clinic.core.exceptions import DomainError
from clinic.core.forms import apply_domain_error
from clinic.public_site.forms import HONEYPOT_FIELD, ConsultationRequestForm
from clinic.public_site.pages import INDEX_TITLE, PAGES, PAGES_BY_NAME
from clinic.public_site.sources import Citations
from clinic.scheduling.policy import scheduling_policy
from clinic.screening.rate_limit import (
    consultation_counted,
    consultation_over_limit,
    consultation_retry_after_s,
)
from clinic.screening.services import consultation_request_create

# The education pages are the same for everyone and hold nothing personal: browsers and
# proxies may keep them for a while.
EDUCATION_CACHE_S = 600


def _render(request, template: str, context: dict | None = None, *, current: str = "", status=200):
    """Render a public page: the site navigation, crisis resources and the page's citations."""
    return render(
        request,
        template,
        {
            "learn_pages": PAGES,
            "current": current,
            "crisis_resources": settings.CRISIS_RESOURCES,
            "citations": Citations(),
            **(context or {}),
        },
        status=status,
    )


def public_home(request):
    """The public home page, for visitors who are not signed in (dashboard.views.home)."""
    return _render(request, "public_site/home.html", current="home")


@require_GET
@cache_control(public=True, max_age=EDUCATION_CACHE_S)
def learn_index(request):
    return _render(request, "public_site/learn_index.html", {"title": INDEX_TITLE})


@require_GET
@cache_control(public=True, max_age=EDUCATION_CACHE_S)
def education_page(request, name: str):
    page = PAGES_BY_NAME[name]
    return _render(
        request,
        page.template,
        {"page": page, "policy": scheduling_policy()},
        current=page.name,
    )


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def consultation_request(request):
    if request.method == "POST" and consultation_over_limit(request):
        refused = _render(
            request,
            "public_site/consultation_rate_limited.html",
            {"window_min": settings.CONSULTATION_RATE_LIMIT_WINDOW_MIN},
            current="consultation",
            status=429,
        )
        refused["Retry-After"] = str(consultation_retry_after_s(request))
        return refused
    if request.method == "POST" and request.POST.get(HONEYPOT_FIELD, "").strip():
        # A program filled in the hidden field: store nothing, and answer as for anyone.
        consultation_counted(request)
        return redirect("public_site:consultation_thanks")
    form = ConsultationRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            consultation_request_create(data=form.request_data())
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            consultation_counted(request)
            return redirect("public_site:consultation_thanks")
    return _render(
        request, "public_site/consultation_form.html", {"form": form}, current="consultation"
    )


@never_cache
@require_GET
def consultation_thanks(request):
    return _render(request, "public_site/consultation_thanks.html", current="consultation")
