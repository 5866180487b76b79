"""The clinic's locations. Each treatment location is its own DEA registrant (21 CFR
1301.12(a): a separate registration for each principal place of business where controlled
substances are stored or administered), its own Spravato REMS-certified setting, and its own
place of service and service facility on claims. Rooms, chairs, opening hours, shifts, stock
and counts belong to a location (their apps point here); patients and care teams belong to the
network (a patient may be seen at any location).
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q

from clinic.core.models import ClinicModel
from clinic.locations.identifiers import TREATMENT_PLACES_OF_SERVICE

PLACE_OF_SERVICE_CHOICES = [
    (code, f"{code} – {name}") for code, name in TREATMENT_PLACES_OF_SERVICE.items()
]


class LocationQuerySet(models.QuerySet):
    def open(self):
        return self.filter(active=True)


class Location(ClinicModel):
    name = models.CharField(max_length=120, unique=True)
    code = models.CharField(
        max_length=12, unique=True, help_text="A short code for lists and exports (e.g. MAIN)."
    )
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    time_zone = models.CharField(max_length=64)
    phone = models.CharField(max_length=30, blank=True)
    place_of_service_code = models.CharField(
        max_length=2, choices=PLACE_OF_SERVICE_CHOICES, default="11"
    )
    service_facility_npi = models.CharField("service facility NPI", max_length=10, blank=True)
    dea_registration_number = models.CharField("DEA registration number", max_length=9, blank=True)
    spravato_rems_setting_id = models.CharField(
        "Spravato REMS healthcare setting ID", max_length=40, blank=True
    )
    opened_on = models.DateField(null=True, blank=True)
    active = models.BooleanField(default=True)
    # The location existing data moved into when the clinic became a network (migration
    # 0002); the fallback for a single-location clinic. Exactly one.
    is_default = models.BooleanField(default=False)
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="LocationStaff", related_name="locations", blank=True
    )

    objects = LocationQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_location"
            ),
            models.UniqueConstraint(
                fields=["dea_registration_number"],
                condition=~Q(dea_registration_number=""),
                name="dea_registration_once_per_location",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def address_one_line(self) -> str:
        parts = [self.address_line1, self.address_line2, self.city]
        tail = " ".join(p for p in (self.state, self.postal_code) if p)
        return ", ".join(p for p in [*parts, tail] if p)


class LocationStaff(models.Model):
    """A staff member works at a location (one person may work at several)."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="location_memberships"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["location", "user"], name="staff_once_per_location")
        ]
        indexes = [models.Index(fields=["user", "location"])]

    def __str__(self) -> str:
        return f"{self.user_id} at {self.location_id}"


class LocationChoice(models.Model):
    """The location a staff member last chose in the switcher (remembered across sign-ins)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="location_choice"
    )
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    chosen_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id} works at {self.location_id}"


def default_location() -> Location:
    """The default location, made from the clinic's settings if the database has none (a new
    database gets it from migration 0002; this covers one emptied by `flush`)."""
    found = Location.objects.filter(is_default=True).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Location.objects.create(**default_location_values())
    except IntegrityError:  # another process made it first
        return Location.objects.get(is_default=True)


def default_location_values() -> dict:
    policy = (getattr(settings, "CLINIC_POLICY", {}) or {}).get("controlled_substances", {}) or {}
    return {
        "name": (getattr(settings, "CLINIC_NAME", "") or "Main location")[:120],
        "code": "MAIN",
        "time_zone": settings.TIME_ZONE,
        "phone": (getattr(settings, "CLINIC_PHONE", "") or "")[:30],
        "spravato_rems_setting_id": (getattr(settings, "SPRAVATO_REMS_SETTING_ID", "") or "")[:40],
        "dea_registration_number": str(policy.get("registrant_dea_number", "") or "")
        .strip()
        .upper()[:9],
        "is_default": True,
        "active": True,
    }


def default_location_pk() -> int:
    """The default location's id: where a record with no location named goes (a single
    location clinic never names one)."""
    return default_location().pk


def location_field(related_name: str = "+") -> models.ForeignKey:
    return models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name=related_name, default=default_location_pk
    )
