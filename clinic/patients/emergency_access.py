"""Break the glass: a clinician outside a patient's care team opens the chart in an emergency.

The clinician states why (at least EMERGENCY_ACCESS_REASON_MIN_LENGTH characters). The grant
opens every clinical read and act of the care team (`selectors.actor_on_care_team` and
`Patient.objects.visible_to` honour it) for EMERGENCY_ACCESS_VALID_HOURS, then closes by
itself. It is loud: the grant is audited as EMERGENCY ACCESS, every chart read during it says so
in the audit trail, the care team is e-mailed, the chart shows a banner, and the clinic
administrator reviews each grant on its own page.
"""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput, NotFound
from clinic.core.pages import Bounded, bounded
from clinic.core.text import CONTROL_CHARACTER_MESSAGE, has_control_characters
from clinic.notifications.services import notification_queue
from clinic.patients.models import EmergencyAccess, Patient
from clinic.patients.selectors import on_care_team

REASON_MAX_LENGTH = 1000


def reason_min_length() -> int:
    return settings.EMERGENCY_ACCESS_REASON_MIN_LENGTH


def _clean_reason(reason: str) -> str:
    text = (reason or "").strip()
    if has_control_characters(text):
        raise InvalidInput({"reason": [CONTROL_CHARACTER_MESSAGE]})
    if len(text) < reason_min_length():
        raise InvalidInput(
            {
                "reason": [
                    f"Say why this is an emergency, in at least {reason_min_length()} characters."
                ]
            }
        )
    if len(text) > REASON_MAX_LENGTH:
        raise InvalidInput({"reason": [f"Keep the reason under {REASON_MAX_LENGTH} characters."]})
    return text


def _local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%m/%d/%Y %H:%M")


@transaction.atomic
def emergency_access_grant(
    *, actor: User, patient_uuid: uuid.UUID | str, reason: str
) -> EmergencyAccess:
    """Open a patient's chart to a clinician outside the care team, for a limited time."""
    require(actor, Capability.PATIENT_EMERGENCY_ACCESS)
    text = _clean_reason(reason)
    try:
        key = uuid.UUID(str(patient_uuid))
    except ValueError as error:
        raise NotFound("No such patient.") from error
    patient = Patient.objects.select_for_update().filter(uuid=key, is_active=True).first()
    if patient is None:
        audit_record(
            actor=actor,
            action=AuditAction.DENIED,
            object_type="emergency_access",
            object_id=key,
            summary="EMERGENCY ACCESS refused: no such active patient",
        )
        raise NotFound("No such patient.")
    members = list(patient.care_team_members.select_related("staff"))
    if any(member.staff_id == actor.pk for member in members):
        raise Conflict("You are on this patient's care team: open the chart.")
    now = timezone.now()
    access = EmergencyAccess.objects.create(
        patient=patient,
        granted_to=actor,
        reason=text,
        expires_at=now + datetime.timedelta(hours=settings.EMERGENCY_ACCESS_VALID_HOURS),
    )
    audit_record(
        actor=actor,
        action=AuditAction.EMERGENCY_ACCESS,
        object_type="emergency_access",
        object_id=access.uuid,
        patient=patient,
        summary=(
            f"EMERGENCY ACCESS (break the glass) to the chart by {actor.get_username()} "
            f"until {_local(access.expires_at)}: {text}"
        ),
        changes={"reason": text, "expires_at": access.expires_at},
    )
    _care_team_notify(access=access, recipients=[m.staff for m in members if m.staff.is_active])
    return access


def _care_team_notify(*, access: EmergencyAccess, recipients: list[User]) -> None:
    """E-mail each care-team member. No PHI in e-mail: the message says where to look; the
    chart (behind sign-in) says who and why."""
    url = settings.SITE_URL + reverse("patients:patient_chart", args=[access.patient.uuid])
    for recipient in {user.pk: user for user in recipients}.values():
        notification_queue(
            recipient=recipient,
            subject=f"{settings.CLINIC_NAME}: emergency access to a patient's chart",
            body=(
                f"{access.granted_to.display_name}, who is not on the care team, opened the "
                "chart of a patient on your care team in an emergency (break the glass) and "
                f"stated a reason. The access lasts until {_local(access.expires_at)}.\n\n"
                f"Open KetaCare to see the chart and the reason: {url}\n"
            ),
        )


def emergency_access_banner(*, actor: User, patient: Patient) -> list[EmergencyAccess]:
    """Grants in effect on this patient, for the chart's banner: every grant for the care
    team and clinic admins, the actor's own for the clinician who broke the glass."""
    grants = (
        EmergencyAccess.objects.in_effect().filter(patient=patient).select_related("granted_to")
    )
    if actor.role == "clinic_admin" or on_care_team(actor=actor, patient=patient):
        return list(grants)
    return list(grants.filter(granted_to=actor))


def emergency_access_page(*, actor: User, page_number: int | str = 1) -> Page:
    """Every grant for the clinic administrator's review, those not yet reviewed first."""
    require(actor, Capability.EMERGENCY_ACCESS_REVIEW)
    # Not yet reviewed first, newest first within each.
    paginator = Paginator(
        EmergencyAccess.objects.select_related("patient", "granted_to", "reviewed_by").order_by(
            F("reviewed_at").asc(nulls_first=True), "-created_at", "-id"
        ),
        settings.PAGE_SIZE,
    )
    page = paginator.get_page(page_number)
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="emergency_access",
        summary=f"Emergency access list page {page.number}: "
        f"{len(page.object_list)} of {paginator.count}",
    )
    return page


def emergency_access_awaiting_review(
    *, actor: User, size: int | None = None, audit: bool = True
) -> Bounded[EmergencyAccess]:
    """Grants not yet reviewed, oldest first, for the clinic administrator's in-basket: a grant
    nobody looks at is the one that matters: the first `size` (SECTION_SIZE) and how many in
    all. Empty for anyone who does not review them."""
    if not actor.can(Capability.EMERGENCY_ACCESS_REVIEW):
        return Bounded(items=[], total=0)
    grants = bounded(
        EmergencyAccess.objects.filter(reviewed_at__isnull=True)
        .select_related("patient", "granted_to")
        .order_by("created_at", "id"),
        size=size,
    )
    if grants and audit:
        audit_record(
            actor=actor,
            action=AuditAction.LIST,
            object_type="emergency_access",
            summary=f"In-basket: {grants.total} emergency access(es) to review",
        )
    return grants


@transaction.atomic
def emergency_access_review(
    *, actor: User, access_uuid: uuid.UUID | str, note: str = ""
) -> EmergencyAccess:
    """The clinic administrator marks a grant reviewed (once)."""
    require(actor, Capability.EMERGENCY_ACCESS_REVIEW)
    try:
        key = uuid.UUID(str(access_uuid))
    except ValueError as error:
        raise NotFound("No such emergency access.") from error
    access = (
        EmergencyAccess.objects.select_for_update()
        .select_related("patient", "granted_to")
        .filter(uuid=key)
        .first()
    )
    if access is None:
        raise NotFound("No such emergency access.")
    if access.reviewed_at is not None:
        raise Conflict("This emergency access has already been reviewed.")
    text = (note or "").strip()
    if has_control_characters(text) or len(text) > 300:
        raise InvalidInput({"note": ["Keep the note to one short paragraph of plain text."]})
    access.reviewed_at = timezone.now()
    access.reviewed_by = actor
    access.review_note = text
    access.save(update_fields=["reviewed_at", "reviewed_by", "review_note", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        object_type="emergency_access",
        object_id=access.uuid,
        patient=access.patient,
        summary=f"EMERGENCY ACCESS by {access.granted_to.get_username()} reviewed",
        changes={"reviewed_at": {"before": None, "after": access.reviewed_at}, "note": text},
    )
    return access
