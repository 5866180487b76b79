from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clinic.core.models import ClinicModel, EnteredInErrorMixin
from clinic.patients.choices import (
    CareTeamRole,
    RecordsFormat,
    RecordsRequester,
    RecordsRequestStatus,
    Sex,
)
from clinic.patients.measurements import age_years, bmi_kg_m2


class PatientQuerySet(models.QuerySet):
    def visible_to(self, actor):
        """The patients an actor may open: everyone for directory roles, the care team's own
        patients for clinical roles, nobody otherwise."""
        if actor is None or not actor.is_authenticated or not actor.is_clinic_staff:
            return self.none()
        if actor.can("patient.directory"):
            return self
        if actor.is_clinical:
            return self.filter(pk__in=_care_team_or_emergency_ids(actor))
        return self.none()

    def ids_visible_to(self, actor) -> models.QuerySet:
        """The ids of `visible_to(actor)`, for filtering another table by its patient
        (`patient_id__in=...`) without joining the patients table again."""
        visible = self.visible_to(actor)
        if visible.query.is_empty() or actor.can("patient.directory"):
            return visible.values("pk")
        return _care_team_or_emergency_ids(actor)

    def of_visible_patients(self, rows: models.QuerySet, actor) -> models.QuerySet:
        """`rows` of another table (with a `patient_id`) limited to the patients `actor` may
        open. For someone who may open every patient, no filter at all: an IN over the whole
        patients table changes nothing but keeps PostgreSQL from reading `rows` in an index's
        order and stopping at the first page."""
        visible = self.visible_to(actor)
        if not visible.query.is_empty() and actor.can("patient.directory"):
            return rows
        return rows.filter(patient_id__in=self.ids_visible_to(actor))

    def active(self):
        return self.filter(is_active=True)


class Patient(ClinicModel):
    # Null only inside the registering transaction: the MRN derives from the new row's id.
    mrn = models.CharField("MRN", max_length=12, unique=True, null=True, editable=False)  # noqa: DJ001
    legal_given_name = models.CharField("legal first name", max_length=100)
    legal_middle_name = models.CharField("legal middle name", max_length=100, blank=True)
    legal_family_name = models.CharField("legal last name", max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    pronouns = models.CharField(max_length=40, blank=True)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=16, choices=Sex.choices)

    email = models.EmailField(blank=True)
    phone_mobile = models.CharField("mobile phone", max_length=32, blank=True)
    phone_home = models.CharField("home phone", max_length=32, blank=True)
    address_line1 = models.CharField("address", max_length=200, blank=True)
    address_line2 = models.CharField("address line 2", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField("state", max_length=100, blank=True)
    postal_code = models.CharField("ZIP / postal code", max_length=20, blank=True)
    country = models.CharField(max_length=2, default="US")

    emergency_contact_name = models.CharField(max_length=200, blank=True)
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)
    emergency_contact_phone = models.CharField(max_length=32, blank=True)

    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    # The patient's own sign-in for the portal; staff never sign in through this link.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="patient_record",
    )

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["legal_family_name", "legal_given_name", "id"]
        indexes = [
            models.Index(fields=["legal_family_name", "legal_given_name"]),
            models.Index(fields=["date_of_birth"]),
            # The front desk's "recently registered" (newest first, ten): read from the index's
            # end instead of sorting every patient (issue 14, EXPLAIN in docs/performance.md).
            models.Index(fields=["created_at", "id"], name="patient_created_idx"),
            # Active patients only: the clinic admin's count of active patients (an index-only
            # scan) and "without a primary prescriber" (newest first).
            models.Index(
                fields=["created_at", "id"],
                condition=Q(is_active=True),
                name="patient_active_created_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} (MRN {self.mrn})"

    @property
    def full_name(self) -> str:
        return f"{self.legal_given_name} {self.legal_family_name}"

    @property
    def display_name(self) -> str:
        """Family name first, with the preferred name in quotes when it differs."""
        preferred = self.preferred_name.strip()
        if preferred and preferred != self.legal_given_name:
            return f"{self.legal_family_name}, {self.legal_given_name} “{preferred}”"
        return f"{self.legal_family_name}, {self.legal_given_name}"

    def age_years(self, on: datetime.date | None = None) -> int:
        return age_years(self.date_of_birth, on or timezone.localdate())


class CareTeamMember(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="care_team_members")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="care_team_memberships"
    )
    team_role = models.CharField(max_length=32, choices=CareTeamRole.choices)
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["team_role", "id"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "staff"], name="care_team_member_once"),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(team_role=CareTeamRole.PRIMARY_PRESCRIBER),
                name="care_team_one_primary_prescriber",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_team_role_display()}: {self.staff}"


class BodyMeasurementQuerySet(models.QuerySet):
    def valid(self):
        return self.filter(entered_in_error_at__isnull=True)


class BodyMeasurement(EnteredInErrorMixin, ClinicModel):
    """Weight and height as measured on a date. Corrections mark a row entered-in-error."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="measurements")
    measured_on = models.DateField()
    weight_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    height_cm = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    objects = BodyMeasurementQuerySet.as_manager()

    class Meta:
        ordering = ["-measured_on", "-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weight_kg__isnull=False) | Q(height_cm__isnull=False),
                name="measurement_has_a_value",
            ),
            models.CheckConstraint(
                condition=Q(weight_kg__isnull=True) | Q(weight_kg__gt=0),
                name="measurement_weight_positive",
            ),
            models.CheckConstraint(
                condition=Q(height_cm__isnull=True) | Q(height_cm__gt=0),
                name="measurement_height_positive",
            ),
            models.CheckConstraint(
                condition=Q(entered_in_error_at__isnull=True) | ~Q(entered_in_error_reason=""),
                name="measurement_error_needs_reason",
            ),
        ]

    @property
    def bmi_kg_m2(self):
        return bmi_kg_m2(self.weight_kg, self.height_cm)


class PortalInvitationQuerySet(models.QuerySet):
    def usable(self, now: datetime.datetime | None = None):
        """Invitations that can still activate an account: not used, not revoked, not expired."""
        return self.filter(
            used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now or timezone.now()
        )


class PortalInvitation(ClinicModel):
    """An invitation to the patient portal: a single-use, expiring activation link e-mailed to
    the patient. Only a SHA-256 digest of the token is stored; the token goes out once."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="portal_invitations"
    )
    # The address the link was sent to, as it was then.
    email = models.EmailField()
    token_digest = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    used_at = models.DateTimeField(null=True, blank=True)
    # The account the invitation activated.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = PortalInvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(used_at__isnull=True) | Q(revoked_at__isnull=True),
                name="portal_invitation_used_or_revoked_not_both",
            ),
            models.CheckConstraint(
                condition=Q(used_at__isnull=True) | Q(user__isnull=False),
                name="portal_invitation_used_names_the_account",
            ),
        ]

    def __str__(self) -> str:
        return f"Portal invitation {self.uuid}"

    def is_usable(self, now: datetime.datetime | None = None) -> bool:
        return (
            self.used_at is None
            and self.revoked_at is None
            and self.expires_at > (now or timezone.now())
        )

    @property
    def state(self) -> str:
        """used, revoked, expired or pending: for the chart section."""
        if self.used_at is not None:
            return "used"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


class EmergencyAccessQuerySet(models.QuerySet):
    def in_effect(self, now: datetime.datetime | None = None):
        """Grants that still open a chart: not yet expired."""
        return self.filter(expires_at__gt=now or timezone.now())


class EmergencyAccess(ClinicModel):
    """Break the glass: a clinician outside the patient's care team opened the chart in an
    emergency, saying why. The grant lasts until `expires_at` (EMERGENCY_ACCESS_VALID_HOURS);
    the clinic administrator reviews every one afterwards. Rows are never deleted."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="emergency_accesses"
    )
    granted_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="emergency_accesses"
    )
    reason = models.TextField()
    expires_at = models.DateTimeField()
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_note = models.CharField(max_length=300, blank=True)

    objects = EmergencyAccessQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["granted_to", "patient", "expires_at"])]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="emergency_access_has_reason"),
            models.CheckConstraint(
                condition=Q(reviewed_at__isnull=True, reviewed_by__isnull=True)
                | Q(reviewed_at__isnull=False, reviewed_by__isnull=False),
                name="emergency_access_review_names_reviewer",
            ),
        ]

    def __str__(self) -> str:
        return f"Emergency access {self.uuid}"

    def is_in_effect(self, now: datetime.datetime | None = None) -> bool:
        return self.expires_at > (now or timezone.now())


class RecordsRequest(ClinicModel):
    """A request for a copy of the patient's record (the right of access, 45 CFR 164.524):
    when it arrived, from whom, in what form, and when and how it was fulfilled. The clinic must
    act on it within the days of its policy (patients/policy.py); `due_on` is fixed when the
    request is logged, so a later change of policy never moves a promise already made. Rows
    are never deleted: a request not pursued is withdrawn, with the reason."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="records_requests")
    received_on = models.DateField()
    requester = models.CharField(max_length=24, choices=RecordsRequester.choices)
    requester_name = models.CharField(max_length=200, blank=True)
    wanted_format = models.CharField(max_length=8, choices=RecordsFormat.choices)
    deliver_to = models.CharField(max_length=300, blank=True)
    note = models.CharField(max_length=500, blank=True)
    due_on = models.DateField()
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=RecordsRequestStatus.choices, default=RecordsRequestStatus.OPEN
    )
    closed_on = models.DateField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # How it was fulfilled ("sent by secure e-mail", "handed over") or why it was withdrawn.
    closing_note = models.CharField(max_length=300, blank=True)
    # The one extension 45 CFR 164.524(b)(2)(ii) allows: recorded by the first due date, with
    # the written statement of the reasons given to the requester; `due_on` then holds the
    # expected date given with it, and the first due date is kept here.
    first_due_on = models.DateField(null=True, blank=True)
    extended_on = models.DateField(null=True, blank=True)
    extended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    extension_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-received_on", "-id"]
        indexes = [models.Index(fields=["status", "due_on"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=RecordsRequestStatus.OPEN, closed_on__isnull=True)
                | Q(
                    ~Q(status=RecordsRequestStatus.OPEN),
                    closed_on__isnull=False,
                    closed_by__isnull=False,
                ),
                name="records_request_closed_with_date_and_who",
            ),
            models.CheckConstraint(
                condition=~Q(status=RecordsRequestStatus.WITHDRAWN) | ~Q(closing_note=""),
                name="records_request_withdrawn_with_reason",
            ),
            models.CheckConstraint(
                condition=Q(requester=RecordsRequester.PATIENT) | ~Q(requester_name=""),
                name="records_request_names_who_else_asked",
            ),
            models.CheckConstraint(
                condition=Q(due_on__gte=models.F("received_on")),
                name="records_request_due_after_received",
            ),
            models.CheckConstraint(
                condition=Q(
                    first_due_on__isnull=True,
                    extended_on__isnull=True,
                    extended_by__isnull=True,
                    extension_reason="",
                )
                | Q(
                    ~Q(extension_reason=""),
                    extended_by__isnull=False,
                    extended_on__lte=models.F("first_due_on"),
                    due_on__gt=models.F("first_due_on"),
                ),
                name="records_request_extended_once_in_time_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Records request {self.uuid}"


def _care_team_or_emergency_ids(actor) -> models.QuerySet:
    """A clinician's patients: the care team's, and any patient they hold emergency access
    to (break the glass) while it lasts. One UNION, not two INs joined by OR: PostgreSQL
    answers the OR by testing every patient row (a hashed subplan per row), the UNION with
    an index lookup per patient it returns."""
    return (
        CareTeamMember.objects.filter(staff=actor)
        .values("patient_id")
        .union(EmergencyAccess.objects.in_effect().filter(granted_to=actor).values("patient_id"))
    )
