"""Sign-in lockout (django-axes): per username *and* client address, plus a looser cap per
username across every address.

Locking by address alone, or by a username alone after a handful of failures, lets anyone lock
the clinic out: behind the reverse proxy every client may share one address, and a made-up or
real username costs nothing to type. So the ordinary lock is on the combination (an attacker at
one address locks only themselves), and the per-username cap
(`LOGIN_FAILURE_LIMIT_PER_USERNAME`, counted across addresses in the same window) only slows a
password-spraying attacker spread over many addresses: it locks that one account, never the
clinic, and needs that many failures from at least that many / `LOGIN_FAILURE_LIMIT` addresses
(a locked combination records no further failures).
"""

from __future__ import annotations

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum


class ClinicLockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request, credentials: dict | None = None) -> int:
        here = super().get_failures(request, credentials)
        cap = getattr(settings, "LOGIN_FAILURE_LIMIT_PER_USERNAME", 0)
        username = get_client_username(request, credentials)
        if not cap or not username:
            return here
        everywhere = (
            AccessAttempt.objects.filter(
                username=username, attempt_time__gte=get_cool_off_threshold(request)
            ).aggregate(total=Sum("failures_since_start"))["total"]
            or 0
        )
        # axes compares one number with one limit; scale the username's count so that it
        # reaches the ordinary limit exactly when it reaches its own cap.
        limit = get_failure_limit(request, credentials)
        return max(here, everywhere * limit // cap)
