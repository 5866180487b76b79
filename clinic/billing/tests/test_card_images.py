"""Photos of the insurance card: made upright and stripped of their metadata (a phone photo's
EXIF can say where it was taken), scaled to 2000 px on the long side, one current photo per
side, shown only to those who see coverage, every view audited, a wrong one marked in error."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from clinic.billing.card_images import CardImageError, card_image_from_upload
from clinic.billing.models import CoverageCardImage
from clinic.billing.services import card_images
from clinic.billing.tests.factories import payer_with_plan, primary_coverage
from clinic.core.exceptions import InvalidInput, PermissionDenied
from clinic.core.models import AuditEvent
from tests.helpers import ACTOR_ORDER, client_as, status_word

pytestmark = pytest.mark.django_db

ORIENTATION, MAKE, GPS = 0x0112, 0x010F, 0x8825


def a_photo(width=800, height=500, fmt="JPEG", orientation=None) -> bytes:
    image = Image.new("RGB", (width, height), (20, 90, 160))
    exif = Image.Exif()
    exif[MAKE] = "PhoneCam"
    if orientation:
        exif[ORIENTATION] = orientation
    out = io.BytesIO()
    image.save(out, format=fmt, **({"exif": exif} if fmt == "JPEG" else {}))
    return out.getvalue()


def test_a_photo_is_kept_as_a_jpeg_without_its_metadata():
    kept = card_image_from_upload(a_photo())
    with Image.open(io.BytesIO(kept.jpeg)) as image:
        assert image.format == "JPEG"
        assert dict(image.getexif()) == {}
    assert (kept.width_px, kept.height_px) == (800, 500)


def test_a_sideways_photo_is_turned_upright_and_a_large_one_scaled():
    # EXIF orientation 6: the camera was turned 90°; the upright picture is 500 wide.
    assert (lambda k: (k.width_px, k.height_px))(
        card_image_from_upload(a_photo(orientation=6))
    ) == (500, 800)
    big = card_image_from_upload(a_photo(4000, 2500, fmt="PNG"))
    assert (big.width_px, big.height_px) == (2000, 1250)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"%PDF-1.7 not a photo", "Not a picture"),
        (b"x" * (10 * 1024 * 1024 + 1), "larger than 10 MB"),
    ],
)
def test_what_is_not_a_photo_of_a_card_is_refused(data, words):
    with pytest.raises(CardImageError) as error:
        card_image_from_upload(data)
    assert words in str(error.value)


def test_a_gif_is_refused_by_name():
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="GIF")
    with pytest.raises(CardImageError) as error:
        card_image_from_upload(out.getvalue())
    assert "JPEG, PNG or WebP" in str(error.value)


@pytest.fixture
def coverage(front_desk, billing, patient):
    _, plan = payer_with_plan(billing)
    return primary_coverage(front_desk, patient, plan)


def test_a_new_photo_of_a_side_replaces_the_old(coverage, front_desk):
    first = card_images.card_image_add(
        actor=front_desk, coverage=coverage, side="front", data=a_photo()
    )
    second = card_images.card_image_add(
        actor=front_desk, coverage=coverage, side="front", data=a_photo()
    )
    first.refresh_from_db()
    assert first.entered_in_error_reason == "Replaced by a new photo"
    assert list(CoverageCardImage.objects.filter(entered_in_error_at__isnull=True)) == [second]


def test_only_the_desk_and_billing_add_a_photo(coverage, prescriber, clinic_admin):
    for actor in (prescriber, clinic_admin):
        with pytest.raises(PermissionDenied):
            card_images.card_image_add(actor=actor, coverage=coverage, side="back", data=a_photo())


def test_a_bad_upload_is_refused_with_the_reason(coverage, front_desk):
    with pytest.raises(InvalidInput) as error:
        card_images.card_image_add(actor=front_desk, coverage=coverage, side="front", data=b"x")
    assert "Not a picture" in error.value.errors["photo"][0]


# Who sees it: coverage.view (admin, front desk, billing), as the coverage page.
PHOTO = dict(
    zip(ACTOR_ORDER, ["login", 403, 200, 403, 403, 403, 200, 200, 403, 403, 403], strict=True)
)


@pytest.mark.parametrize("who", ACTOR_ORDER)
def test_the_photo_permission_matrix(coverage, front_desk, patient, client, actors, who):
    image = card_images.card_image_add(
        actor=front_desk, coverage=coverage, side="front", data=a_photo()
    )
    url = reverse("billing:card_image", args=[patient.uuid, coverage.uuid, image.uuid])
    response = client_as(client, actors[who]).get(url)
    assert status_word(response) == PHOTO[who]
    if PHOTO[who] == 200:
        assert response["Content-Type"] == "image/jpeg"
        assert "no-store" in response["Cache-Control"]


def test_the_desk_adds_a_photo_through_the_page_and_its_view_is_audited(
    coverage, patient, client, actors
):
    desk = client_as(client, actors["front_desk"])
    upload = SimpleUploadedFile("card.jpg", a_photo(), content_type="image/jpeg")
    response = desk.post(
        reverse("billing:card_image_add", args=[patient.uuid, coverage.uuid]),
        {"side": "back", "photo": upload},
        follow=True,
    )
    page = response.content.decode()
    assert "Photo of the card&#x27;s back added." in page
    image = CoverageCardImage.objects.get()
    assert reverse("billing:card_image", args=[patient.uuid, coverage.uuid, image.uuid]) in page
    desk.get(reverse("billing:card_image", args=[patient.uuid, coverage.uuid, image.uuid]))
    assert AuditEvent.objects.filter(
        object_type="coverage_card_image", action="view", object_id=str(image.uuid)
    ).exists()

    desk.post(
        reverse(
            "billing:card_image_entered_in_error", args=[patient.uuid, coverage.uuid, image.uuid]
        ),
        {"reason": "Another patient's card"},
    )
    gone = desk.get(reverse("billing:card_image", args=[patient.uuid, coverage.uuid, image.uuid]))
    assert gone.status_code == 404


def test_the_coverage_page_reads_the_photos_in_one_query_without_their_bytes(
    coverage, front_desk, patient, client, actors
):
    billing = client_as(client, actors["billing"])
    url = reverse("billing:coverage", args=[patient.uuid])
    billing.get(url)
    with CaptureQueriesContext(connection) as none:
        billing.get(url)
    for side in ("front", "back"):
        card_images.card_image_add(actor=front_desk, coverage=coverage, side=side, data=a_photo())
    with CaptureQueriesContext(connection) as two:
        billing.get(url)
    assert len(two) == len(none)
    photo_query = next(q["sql"] for q in two.captured_queries if "cardimage" in q["sql"])
    assert '"jpeg"' not in photo_query
