"""Reads of prior authorizations: a patient's requests with what is left of each approval, one
request with its payer's checklist, the billing queue's approvals ending within the warning
window or used up, and the notices the chart, the plan and the booking page show.

An approval is used by the sessions of its route in which the dose was given, on days inside
its dates (a signed record or not: the session happened). A booked session after the last
day, or one more than the approval has left, is what the notices warn of.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.billing import prior_auth
from clinic.billing.models import PayerCriterion, PriorAuthorization, PriorAuthStatus
from clinic.core.access import require
from clinic.core.notices import Notice
from clinic.patients.models import Patient
from clinic.patients.selectors import can_view_clinical, record_in_reach
from clinic.scheduling.choices import AppointmentStatus
from clinic.scheduling.models import Appointment
from clinic.treatment_sessions.models import TreatmentSession

QUEUE_ROWS = 25


def expiry_warning_days() -> int:
    """How many days before an approval's last day the queue and the chart warn (clinic
    policy, `PRIOR_AUTH_EXPIRY_WARNING_DAYS`; the issue's 14 by default)."""
    return settings.PRIOR_AUTH_EXPIRY_WARNING_DAYS


def can_view(*, actor: User, patient: Patient) -> bool:
    if not actor.can(Capability.PRIOR_AUTH_VIEW):
        return False
    if actor.can(Capability.PATIENT_VIEW_CLINICAL) and actor.role != "clinic_admin":
        return can_view_clinical(actor=actor, patient=patient)
    return True


def _reaches(actor: User, patient: Patient) -> bool:
    """`can_view`, and for a directory role the patient being in its reach."""
    if not can_view(actor=actor, patient=patient):
        return False
    if actor.can(Capability.PATIENT_VIEW_CLINICAL) and actor.role != "clinic_admin":
        return True  # can_view checked the care team
    return Patient.objects.visible_to(actor).filter(pk=patient.pk).exists()


def _used_subquery():
    sessions = (
        TreatmentSession.objects.filter(
            patient_id=OuterRef("patient_id"),
            route=OuterRef("route"),
            dose_started_at__isnull=False,
            checked_in_at__date__gte=OuterRef("starts_on"),
            checked_in_at__date__lte=OuterRef("ends_on"),
        )
        .order_by()
        .values("patient_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(sessions[:1]), 0)


@dataclass(frozen=True)
class AuthorizationRow:
    authorization: PriorAuthorization
    usage: prior_auth.Usage | None  # approved requests only


def _rows(authorizations, today: datetime.date) -> list[AuthorizationRow]:
    return [
        AuthorizationRow(
            a,
            prior_auth.usage_of(a, a.used, today) if a.status == PriorAuthStatus.APPROVED else None,
        )
        for a in authorizations
    ]


def prior_auth_list(*, actor: User, patient: Patient) -> list[AuthorizationRow]:
    """The patient's requests, newest first, each approval with what is left (one query)."""
    if not can_view(actor=actor, patient=patient):
        return []
    authorizations = (
        PriorAuthorization.objects.filter(patient=patient)
        .select_related("coverage__plan__payer", "prescriber")
        .annotate(used=_used_subquery())
    )
    return _rows(authorizations, timezone.localdate())


def prior_auth_get(*, actor: User, authorization_uuid: uuid.UUID | str) -> PriorAuthorization:
    require(actor, Capability.PRIOR_AUTH_VIEW)
    return record_in_reach(
        actor=actor,
        queryset=PriorAuthorization.objects.select_related(
            "patient", "coverage__plan__payer", "diagnosis", "prescriber", "created_by"
        ).annotate(used=_used_subquery()),
        record_uuid=authorization_uuid,
        object_type="prior_authorization",
        patient_of=lambda a: a.patient,
        not_found_message="No such prior authorization, or the patient is not in your reach.",
        in_reach=lambda a: _reaches(actor, a.patient),
        view_summary="Prior authorization viewed",
        denial_names_patient=True,
    )


def criteria_for(authorization: PriorAuthorization) -> list[PayerCriterion]:
    return list(
        PayerCriterion.objects.filter(payer_id=authorization.coverage.plan.payer_id, is_active=True)
    )


def payer_criteria(*, actor: User, payer) -> list[PayerCriterion]:
    require(actor, Capability.PAYER_MANAGE)
    return list(PayerCriterion.objects.filter(payer=payer).select_related("added_by"))


def usage(authorization: PriorAuthorization) -> prior_auth.Usage | None:
    if authorization.status != PriorAuthStatus.APPROVED:
        return None
    used: int = getattr(authorization, "used", 0)  # annotated by prior_auth_get
    return prior_auth.usage_of(authorization, used, timezone.localdate())


@dataclass
class Attention:
    rows: list[AuthorizationRow]
    count: int
    # Requests sent and not answered yet, longest waiting first: a payer that does not answer
    # must be chased, not forgotten.
    waiting: list[PriorAuthorization] = field(default_factory=list)
    waiting_count: int = 0


def approvals_needing_attention(*, actor: User) -> Attention:
    """Current approvals that end within the warning window or have no session left, soonest
    first (two queries, whatever the clinic's size)."""
    require(actor, Capability.PRIOR_AUTH_VIEW)
    today = timezone.localdate()
    soon = today + datetime.timedelta(days=expiry_warning_days())
    visible = Patient.objects.visible_to(actor).values("pk")
    current = (
        PriorAuthorization.objects.filter(
            status=PriorAuthStatus.APPROVED, ends_on__gte=today, patient__in=visible
        )
        .annotate(used=_used_subquery())
        .filter(Q(ends_on__lte=soon) | Q(used__gte=F("approved_sessions")))
        .select_related("patient", "coverage__plan__payer")
        .order_by("ends_on", "id")
    )
    waiting = (
        PriorAuthorization.objects.filter(
            status__in=[PriorAuthStatus.SUBMITTED, PriorAuthStatus.APPEALED], patient__in=visible
        )
        .select_related("patient", "coverage__plan__payer")
        .order_by("updated_at", "id")
    )
    return Attention(
        rows=_rows(current[:QUEUE_ROWS], today),
        count=current.count(),
        waiting=list(waiting[:QUEUE_ROWS]),
        waiting_count=waiting.count(),
    )


# --------------------------------------------------------------------------- notices


def _booked(patient: Patient, route: str, today: datetime.date) -> list[datetime.date]:
    starts = (
        Appointment.objects.filter(
            patient=patient,
            route=route,
            status=AppointmentStatus.BOOKED,
            starts_at__date__gte=today,
        )
        .order_by("starts_at")
        .values_list("starts_at", flat=True)
    )
    return [timezone.localtime(s).date() for s in starts]


def prior_auth_notices(*, actor: User, patient: Patient) -> list[Notice]:
    """What the chart, the plan and the booking page say about the patient's approvals: one
    used up, one ending soon, booked sessions outside the dates or beyond the count left."""
    if not can_view(actor=actor, patient=patient):
        return []
    today = timezone.localdate()
    approved = (
        PriorAuthorization.objects.filter(
            patient=patient,
            status=PriorAuthStatus.APPROVED,
            ends_on__gte=today - datetime.timedelta(days=expiry_warning_days()),
        )
        .annotate(used=_used_subquery())
        .order_by("route", "-ends_on")
    )
    notices: list[Notice] = []
    seen_routes: set[str] = set()
    for authorization in approved:
        if authorization.route in seen_routes:
            continue  # the latest approval per route speaks for it
        seen_routes.add(authorization.route)
        url = reverse("billing:prior_auth", args=[authorization.uuid])
        name = f"Prior authorization {authorization.authorization_number}"
        assert authorization.ends_on is not None and authorization.approved_sessions
        spent = prior_auth.usage_of(authorization, authorization.used, today)
        if authorization.ends_on < today:
            notices.append(Notice("danger", f"{name} ended {authorization.ends_on:%m/%d/%Y}.", url))
            continue
        if spent.left == 0:
            notices.append(
                Notice(
                    "danger",
                    f"{name}: all {authorization.approved_sessions} approved sessions are used.",
                    url,
                )
            )
        elif spent.ends_in_days is not None and spent.ends_in_days <= expiry_warning_days():
            notices.append(
                Notice(
                    "warning",
                    f"{name} ends {authorization.ends_on:%m/%d/%Y} ({spent.ends_in_days} days); "
                    f"{spent.left} of {authorization.approved_sessions} sessions left.",
                    url,
                )
            )
        booked = _booked(patient, authorization.route, today)
        after = [d for d in booked if d > authorization.ends_on]
        within = [d for d in booked if d <= authorization.ends_on]
        beyond = max(len(within) - (spent.left or 0), 0)
        if after:
            notices.append(
                Notice(
                    "warning",
                    f"{len(after)} booked session{'s' if len(after) != 1 else ''} after "
                    f"{name} ends ({authorization.ends_on:%m/%d/%Y}): first on "
                    f"{after[0]:%m/%d/%Y}.",
                    url,
                )
            )
        if beyond:
            notices.append(
                Notice(
                    "warning",
                    f"{beyond} booked session{'s' if beyond != 1 else ''} beyond the "
                    f"{spent.left} {name} has left.",
                    url,
                )
            )
    return notices
