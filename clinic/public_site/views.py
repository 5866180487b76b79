"""Public pages: no account needed, and no patient record is ever read.

The consultation form stores a request and sends everyone to the same thank-you page: a
page that shows nothing the person typed and is the same whoever they are, so it cannot
tell anyone whether that person is a patient of the clinic.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from clinic.core.exceptions import DomainError
from clinic.core.forms import apply_domain_error
from clinic.core.middleware import client_ip
from clinic.public_site.forms import HONEYPOT_FIELD, ConsultationRequestForm
from clinic.screening.consultations import consultation_request_create


def _rate_limit_key(request) -> str:
    # The address is hashed: the cache holds no visitor's address in the clear.
    address = client_ip(request) or "unknown"
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{address}".encode()).hexdigest()[:32]
    return f"public_site:consultation:{digest}"


def _over_rate_limit(request) -> bool:
    return cache.get(_rate_limit_key(request), 0) >= settings.CONSULTATION_RATE_LIMIT_COUNT


def _count_submission(request) -> None:
    """Fixed window: the count starts with an address's first submission and lapses
    CONSULTATION_RATE_LIMIT_WINDOW_MIN minutes later."""
    key = _rate_limit_key(request)
    cache.add(key, 0, timeout=settings.CONSULTATION_RATE_LIMIT_WINDOW_MIN * 60)
    try:
        cache.incr(key)
    except ValueError:  # lapsed between add and incr
        cache.set(key, 1, timeout=settings.CONSULTATION_RATE_LIMIT_WINDOW_MIN * 60)


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def consultation_request(request):
    if request.method == "POST" and _over_rate_limit(request):
        return render(
            request,
            "public_site/consultation_rate_limited.html",
            {"window_min": settings.CONSULTATION_RATE_LIMIT_WINDOW_MIN},
            status=429,
        )
    if request.method == "POST" and request.POST.get(HONEYPOT_FIELD, "").strip():
        # A program filled in the hidden field: store nothing, and answer as for anyone.
        _count_submission(request)
        return redirect("public_site:consultation_thanks")
    form = ConsultationRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            consultation_request_create(data=form.request_data())
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            _count_submission(request)
            return redirect("public_site:consultation_thanks")
    return render(
        request,
        "public_site/consultation_form.html",
        {"form": form, "resources": settings.CRISIS_RESOURCES},
    )


@never_cache
@require_GET
def consultation_thanks(request):
    return render(
        request, "public_site/consultation_thanks.html", {"resources": settings.CRISIS_RESOURCES}
    )
