from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from clinic.accounts.choices import CLINICAL_ROLES, STAFF_ROLES, Role, TokenAudience
from clinic.accounts.permissions import role_can


class User(AbstractUser):
    """A person who signs in: clinic staff (with a role) or a patient (portal principal)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    role = models.CharField(max_length=32, choices=Role.choices)
    credentials = models.CharField(
        max_length=40, blank=True, help_text="Shown after the name, e.g. MD, NP, RN, LCSW."
    )
    # The individual (type 1) NPI of a clinician who renders or orders billed services: claims
    # (box 24J) and prior authorizations carry it. Checked digit by digit (clinic/core/npi.py).
    # db_default: rows written by code that predates the column (a migration test's historical
    # models, an older app server during a rolling deploy) get "" rather than a refusal.
    npi = models.CharField("NPI", max_length=10, blank=True, default="", db_default="")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="user_role_known"
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        name = self.get_full_name() or self.username
        return f"{name}, {self.credentials}" if self.credentials else name

    @property
    def is_clinic_staff(self) -> bool:
        return self.is_active and self.role in STAFF_ROLES

    @property
    def is_clinical(self) -> bool:
        return self.role in CLINICAL_ROLES

    @property
    def is_patient_principal(self) -> bool:
        return self.role == Role.PATIENT

    def can(self, capability: str) -> bool:
        return self.is_clinic_staff and role_can(self.role, capability)


class ApiTokenQuerySet(models.QuerySet):
    def usable(self):
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 digest is stored; the token is shown once.

    Every token expires (API_TOKEN_EXPIRY_DAYS after creation) and can be revoked by its owner,
    a clinic administrator or `manage.py revokeapitoken`.

    `audience` says which API it opens: a staff token the staff operations, a patient token
    (made on the portal's account page) only the patient's own operations under /api/v1/me."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    # Every token made before patients could hold one was a staff token.
    audience = models.CharField(
        max_length=16, choices=TokenAudience.choices, default=TokenAudience.STAFF
    )
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, unique=True)
    digest_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.user.username} {self.prefix}…"

    @property
    def status(self) -> str:
        """ "revoked", "expired" or "active", as the token pages show it."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "active"
