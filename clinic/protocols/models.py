from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from clinic.core.models import ClinicModel
from clinic.protocols.choices import Phase, PlanStatus, WeightBasis
from clinic.screening.choices import Route

ROUTE_LABELS = Route.choices


class ProtocolTemplate(models.Model):
    """A protocol as versioned data. Built-in templates (the label and trial schedules) are
    version 1 of their code; a clinic admin adds templates or new versions, never edits one
    a plan already uses. `definition` is validated by clinic.protocols.schedules."""

    code = models.SlugField(max_length=64)
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    route = models.CharField(max_length=16, choices=Route.choices)
    definition = models.JSONField()
    built_in = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="protocol_code_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"


class TreatmentPlan(ClinicModel):
    """A course for one patient on one route, pinned to a template version and to the
    eligibility decision that opened the route."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="treatment_plans"
    )
    template = models.ForeignKey(ProtocolTemplate, on_delete=models.PROTECT, related_name="plans")
    route = models.CharField(max_length=16, choices=Route.choices)
    eligibility_decision = models.ForeignKey(
        "screening.EligibilityDecision", on_delete=models.PROTECT, related_name="plans"
    )
    status = models.CharField(max_length=16, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    start_date = models.DateField()
    # IV/IM: mg/kg on a weight basis; esketamine: a fixed mg dose (28/56/84).
    dose_mg_per_kg = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    weight_basis = models.CharField(
        max_length=16, choices=WeightBasis.choices, default=WeightBasis.ACTUAL
    )
    esketamine_dose_mg = models.PositiveSmallIntegerField(null=True, blank=True)
    # IV: the prescriber's infusion time, when not the protocol's (null = the protocol's own);
    # kept so that maintenance sessions added later run over the same time.
    infusion_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    session_count = models.PositiveSmallIntegerField()
    notes = models.TextField(blank=True)
    maintenance_interval_weeks = models.PositiveSmallIntegerField(null=True, blank=True)
    prescribed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=300, blank=True)

    @property
    def route_label(self) -> str:
        return dict(ROUTE_LABELS).get(self.route, self.route)

    class Meta:
        ordering = ["-start_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="discontinued") | ~Q(end_reason=""),
                name="plan_discontinued_with_reason",
            ),
            models.CheckConstraint(
                condition=Q(maintenance_interval_weeks__isnull=True)
                | Q(maintenance_interval_weeks__gte=2, maintenance_interval_weeks__lte=8),
                name="plan_maintenance_every_2_to_8_weeks",
            ),
        ]


class PlannedSession(ClinicModel):
    """One planned session of a plan, with the dose calculated for it."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="sessions")
    number = models.PositiveSmallIntegerField()
    planned_date = models.DateField()
    phase = models.CharField(max_length=16, choices=Phase.choices)
    dose_mg = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    dose_mg_per_kg = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    weight_used_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    infusion_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    dose_change_reason = models.CharField(max_length=300, blank=True)
    cancelled = models.BooleanField(default=False)

    class Meta:
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="planned_session_number_once"),
        ]

    def __str__(self) -> str:
        return f"Session {self.number} on {self.planned_date}"
