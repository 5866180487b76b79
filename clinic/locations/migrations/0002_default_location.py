"""The clinic becomes a network of one: a default location made from the settings the
single-location clinic ran on (name, time zone, phone, REMS setting ID, registrant DEA
number), with every staff member working there. Rooms, stock and counts move into it in
their own apps' migrations, which depend on this one."""

from django.conf import settings
from django.db import migrations

STAFF_ROLES = ["clinic_admin", "prescriber", "nurse", "therapist", "front_desk", "billing"]


def create_default_location(apps, schema_editor):
    Location = apps.get_model("locations", "Location")
    LocationStaff = apps.get_model("locations", "LocationStaff")
    User = apps.get_model("accounts", "User")
    if Location.objects.filter(is_default=True).exists():
        return
    policy = (getattr(settings, "CLINIC_POLICY", {}) or {}).get("controlled_substances", {}) or {}
    dea = str(policy.get("registrant_dea_number", "") or "").strip().upper()[:9]
    location = Location.objects.create(
        name=(getattr(settings, "CLINIC_NAME", "") or "Main location")[:120],
        code="MAIN",
        time_zone=settings.TIME_ZONE,
        phone=(getattr(settings, "CLINIC_PHONE", "") or "")[:30],
        spravato_rems_setting_id=(getattr(settings, "SPRAVATO_REMS_SETTING_ID", "") or "")[:40],
        dea_registration_number=dea,
        is_default=True,
        active=True,
    )
    LocationStaff.objects.bulk_create(
        [
            LocationStaff(location=location, user_id=pk)
            for pk in User.objects.filter(role__in=STAFF_ROLES).values_list("pk", flat=True)
        ]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("locations", "0001_initial"),
        ("accounts", "0003_api_token_expiry_required"),
    ]

    operations = [migrations.RunPython(create_default_location, migrations.RunPython.noop)]
