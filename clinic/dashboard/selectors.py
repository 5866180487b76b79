from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from clinic.accounts.choices import STAFF_ROLES, Role
from clinic.accounts.models import User
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.models import AuditEvent
from clinic.notifications.selectors import notifications_failing_count
from clinic.patients.models import CareTeamMember, Patient


def admin_overview(*, actor: User) -> dict[str, Any]:
    require(actor, "audit.view")
    since = timezone.now() - timedelta(hours=24)
    staff_by_role = dict(
        User.objects.filter(is_active=True, role__in=STAFF_ROLES)
        .values_list("role")
        .annotate(n=Count("id"))
        .values_list("role", "n")
    )
    has_primary = CareTeamMember.objects.filter(
        patient=OuterRef("pk"), team_role="primary_prescriber"
    )
    without_prescriber = list(
        Patient.objects.active().filter(~Exists(has_primary)).order_by("-created_at")[:10]
    )
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="patient",
        summary=f"Admin home: {len(without_prescriber)} patients without a primary prescriber",
    )
    return {
        "active_patients": Patient.objects.active().count(),
        "staff_by_role": [
            (label, staff_by_role.get(value, 0))
            for value, label in Role.choices
            if value in STAFF_ROLES
        ],
        "without_prescriber": without_prescriber,
        "failed_sign_ins_24h": AuditEvent.objects.filter(
            action__in=["login_failed", "locked_out"], occurred_at__gte=since
        ).count(),
        "events_24h": AuditEvent.objects.filter(occurred_at__gte=since).count(),
        "notifications_failing": notifications_failing_count(),
    }


def recently_registered(*, actor: User, limit: int = 10) -> list[Patient]:
    require(actor, "patient.create")
    patients = list(Patient.objects.visible_to(actor).order_by("-created_at", "-id")[:limit])
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="patient",
        summary=f"Recently registered: {len(patients)}",
    )
    return patients
