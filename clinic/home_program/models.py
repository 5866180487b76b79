"""The at-home sublingual program: one log per dose attempt, the side effects the patient
reports, and the alert a blood pressure over the clinic's limit raises for the care team."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from clinic.core.models import ClinicModel
from clinic.home_program.choices import (
    HomeBpAlertStatus,
    HomeSessionStatus,
    Severity,
    SideEffectKind,
)

_DOSED = [HomeSessionStatus.DOSED, HomeSessionStatus.CHECKED_IN]


class HomeSessionLogQuerySet(models.QuerySet):
    def dosed(self):
        return self.filter(dose_taken_at__isnull=False)


class HomeSessionLog(ClinicModel):
    """One at-home dose attempt, written by the patient: blood pressure and the treatment
    monitor first; the dose only when the blood pressure allows it; then side effects and a
    check-in. The limits in force and the prescribed dose are kept with the log."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="home_session_logs"
    )
    plan = models.ForeignKey(
        "protocols.TreatmentPlan", on_delete=models.PROTECT, related_name="home_session_logs"
    )
    # The plan's next planned session not yet dosed when the log started (None when the plan
    # has no planned sessions).
    planned_session = models.ForeignKey(
        "protocols.PlannedSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="home_session_logs",
    )
    status = models.CharField(
        max_length=16, choices=HomeSessionStatus.choices, default=HomeSessionStatus.WAITING
    )
    started_at = models.DateTimeField(help_text="When the blood pressure was entered.")
    systolic_mmhg = models.PositiveSmallIntegerField()
    diastolic_mmhg = models.PositiveSmallIntegerField()
    # The clinic policy the reading was judged by (CLINIC_POLICY["home_program"]).
    limit_systolic_mmhg = models.PositiveSmallIntegerField()
    limit_diastolic_mmhg = models.PositiveSmallIntegerField()
    # The adult physically present during the session (not the patient) [B9].
    monitor_name = models.CharField("treatment monitor", max_length=200)
    prescribed_dose_mg = models.DecimalField(max_digits=6, decimal_places=1)
    dose_taken_mg = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    dose_taken_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    feeling_text = models.TextField("how they feel now", blank=True)
    mood_after = models.PositiveSmallIntegerField("mood after (1–10)", null=True, blank=True)
    not_taken_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    objects = HomeSessionLogQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["patient", "-started_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(diastolic_mmhg__lt=models.F("systolic_mmhg")),
                name="home_log_diastolic_below_systolic",
            ),
            models.CheckConstraint(condition=~Q(monitor_name=""), name="home_log_monitor_named"),
            # A dose is on the log exactly when the log is dosed or checked in.
            models.CheckConstraint(
                condition=(
                    Q(status__in=_DOSED)
                    & Q(dose_taken_mg__isnull=False, dose_taken_at__isnull=False)
                )
                | (
                    ~Q(status__in=_DOSED)
                    & Q(dose_taken_mg__isnull=True, dose_taken_at__isnull=True)
                ),
                name="home_log_dose_iff_dosed",
            ),
            models.CheckConstraint(
                condition=~Q(status=HomeSessionStatus.CHECKED_IN)
                | (Q(checked_in_at__isnull=False) & ~Q(feeling_text="")),
                name="home_log_checked_in_with_feeling",
            ),
            models.CheckConstraint(
                condition=Q(mood_after__isnull=True) | Q(mood_after__gte=1, mood_after__lte=10),
                name="home_log_mood_1_to_10",
            ),
            # A planned session is dosed once.
            models.UniqueConstraint(
                fields=["planned_session"],
                condition=Q(dose_taken_at__isnull=False),
                name="home_log_planned_session_dosed_once",
            ),
        ]

    def __str__(self) -> str:
        return f"At-home session {self.started_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"

    @property
    def bp_text(self) -> str:
        return f"{self.systolic_mmhg}/{self.diastolic_mmhg}"

    @property
    def limit_text(self) -> str:
        return f"{self.limit_systolic_mmhg}/{self.limit_diastolic_mmhg}"


class HomeSideEffect(ClinicModel):
    """A side effect the patient reports after the dose, in the in-clinic vocabulary."""

    log = models.ForeignKey(HomeSessionLog, on_delete=models.PROTECT, related_name="side_effects")
    kind = models.CharField(max_length=16, choices=SideEffectKind.choices)
    other_text = models.CharField(max_length=200, blank=True)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    noticed_at = models.DateTimeField()

    class Meta:
        ordering = ["noticed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=SideEffectKind.OTHER) | ~Q(other_text=""),
                name="home_side_effect_other_described",
            )
        ]

    def __str__(self) -> str:
        return f"Side effect: {self.label}"

    @property
    def label(self) -> str:
        return self.other_text if self.kind == SideEffectKind.OTHER else self.get_kind_display()


class HomeBpAlertQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=HomeBpAlertStatus.OPEN)


class HomeBpAlert(ClinicModel):
    """Raised with the log when the blood pressure is over the clinic's at-home limit. Stays
    open until a prescriber or nurse on the care team acknowledges it with a note."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="home_bp_alerts"
    )
    log = models.OneToOneField(HomeSessionLog, on_delete=models.PROTECT, related_name="bp_alert")
    status = models.CharField(
        max_length=16, choices=HomeBpAlertStatus.choices, default=HomeBpAlertStatus.OPEN
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledgement_note = models.TextField(blank=True)

    objects = HomeBpAlertQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=HomeBpAlertStatus.OPEN)
                | (
                    Q(acknowledged_at__isnull=False, acknowledged_by__isnull=False)
                    & ~Q(acknowledgement_note="")
                ),
                name="home_bp_alert_acknowledged_with_note",
            )
        ]

    def __str__(self) -> str:
        return f"At-home BP alert ({self.get_status_display()})"
