"""Insurance card photos as the desk takes them: checked to be an image, turned upright by
their EXIF orientation, scaled down to a readable size, and re-encoded as a JPEG with no
metadata (a phone photo's EXIF can carry where and when it was taken). Pure: Pillow, no
Django."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

CARD_IMAGE_MAX_BYTES = 10 * 1024 * 1024  # a phone's full-resolution photo, with room
CARD_IMAGE_MAX_PIXELS = 50_000_000  # past this, not a photo of a card (a decompression bomb)
CARD_IMAGE_LONG_SIDE_PX = 2000  # a card's fine print stays legible at this size
FORMATS = {"JPEG", "PNG", "WEBP"}


class CardImageError(ValueError):
    """Not an image this clinic keeps; the message says why, in the desk's words."""


@dataclass(frozen=True)
class CardImage:
    jpeg: bytes
    width_px: int
    height_px: int


def card_image_from_upload(data: bytes) -> CardImage:
    if len(data) > CARD_IMAGE_MAX_BYTES:
        raise CardImageError("The photo is larger than 10 MB: take it again at a lower size.")
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.format not in FORMATS:
                raise CardImageError("A JPEG, PNG or WebP photo of the card, please.")
            if opened.width * opened.height > CARD_IMAGE_MAX_PIXELS:
                raise CardImageError("The picture is too large to be a photo of a card.")
            upright = ImageOps.exif_transpose(opened).convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as error:
        raise CardImageError("Not a picture: choose the photo of the card.") from error
    upright.thumbnail((CARD_IMAGE_LONG_SIDE_PX, CARD_IMAGE_LONG_SIDE_PX))
    out = io.BytesIO()
    upright.save(out, format="JPEG", quality=85, optimize=True)  # no exif= : none is written
    return CardImage(out.getvalue(), upright.width, upright.height)
