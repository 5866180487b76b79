"""/healthz: for the load balancer and the process supervisor. Unauthenticated, so it says
nothing but whether this app server can reach the primary database: no data, no version, no
names, no cookie. Redis is not checked: every app server shares it, so its outage would take
every server out of the pool at once instead of failing only the pages that use it."""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


@require_safe
@never_cache
def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("Health check: the database does not answer")
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})
