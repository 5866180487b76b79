"""Photos of a patient's insurance card, front and back, added by the desk or billing. A new
photo of a side replaces the old one (marked entered in error, "replaced"); a photo of the
wrong card is marked entered in error with the reason. Audited, never deleted."""

from __future__ import annotations

from django.db import transaction

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.billing import card_images
from clinic.billing.models import CardSide, Coverage, CoverageCardImage
from clinic.core.access import require
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import Conflict, InvalidInput
from clinic.core.records import mark_entered_in_error, required_text


@transaction.atomic
def card_image_add(*, actor: User, coverage: Coverage, side: str, data: bytes) -> CoverageCardImage:
    require(actor, Capability.COVERAGE_MANAGE)
    if side not in CardSide.values:
        raise InvalidInput({"side": ["Choose the front or the back of the card."]})
    try:
        image = card_images.card_image_from_upload(data)
    except card_images.CardImageError as error:
        raise InvalidInput({"photo": [str(error)]}) from error
    # The coverage's row lock: two photos of one side sent at once leave one current.
    locked = Coverage.objects.select_for_update().get(pk=coverage.pk)
    if locked.entered_in_error_at is not None:
        raise Conflict("This coverage was entered in error.", code="entered_in_error")
    for old in CoverageCardImage.objects.select_for_update().filter(
        coverage=locked, side=side, entered_in_error_at__isnull=True
    ):
        mark_entered_in_error(old, actor=actor, reason="Replaced by a new photo")
    added = CoverageCardImage.objects.create(
        coverage=locked,
        side=side,
        jpeg=image.jpeg,
        width_px=image.width_px,
        height_px=image.height_px,
        uploaded_by=actor,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        object_type="coverage_card_image",
        object_id=added.uuid,
        patient=locked.patient,
        summary=f"Insurance card photo ({side}) added to {locked}",
    )
    return added


@transaction.atomic
def card_image_mark_entered_in_error(
    *, actor: User, image: CoverageCardImage, reason: str
) -> CoverageCardImage:
    require(actor, Capability.COVERAGE_MANAGE)
    reason = required_text("reason", reason, "Say why the photo is wrong.")
    locked = CoverageCardImage.objects.select_for_update().get(pk=image.pk)
    if mark_entered_in_error(locked, actor=actor, reason=reason):
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="coverage_card_image",
            object_id=locked.uuid,
            patient=image.coverage.patient,
            summary=f"Insurance card photo ({locked.side}) marked entered in error: {reason}",
        )
    return locked
