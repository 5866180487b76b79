"""A treatment session at the chair: one per appointment, from check-in to discharge.

Pre-checks and dosing facts live on the session row (changed only through services, each change
audited with before and after) until dosing starts or the record is signed; the flowsheet, doses,
scores, side effects and adverse events are rows of their own, amended by entered-in-error,
never deleted. A signed session is locked: later words are addenda.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q

from clinic.core.models import ClinicModel, EnteredInErrorMixin
from clinic.screening.choices import Route
from clinic.treatment_sessions.choices import (
    AdministrationKind,
    AdverseEventOutcome,
    AlertAction,
    AlertSeverity,
    ImSite,
    InfusionEventKind,
    Lighting,
    OverrideKind,
    PregnancyTest,
    PrescriberRequestKind,
    PrescriberRequestStatus,
    QuestionnaireStatus,
    Seriousness,
    SessionPhase,
    SessionScoreKind,
    Severity,
    SideEffectKind,
)

USER = settings.AUTH_USER_MODEL


class TreatmentSessionQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(phase__in=[SessionPhase.DISCHARGED, SessionPhase.STOPPED])

    def visible_to(self, actor):
        from clinic.patients.models import Patient

        return self.filter(patient_id__in=Patient.objects.ids_visible_to(actor))


class TreatmentSessionManager(models.Manager.from_queryset(TreatmentSessionQuerySet)):  # type: ignore[misc]
    def get_queryset(self):
        # The signed record (kilobytes of JSON per session: every reading, dose and note) is
        # written once and shown by no page: sessions are read without it, and reading the
        # attribute loads it (one query) for whoever verifies a signature.
        return super().get_queryset().defer("signed_content")


class TreatmentSession(ClinicModel):
    appointment = models.OneToOneField(
        "scheduling.Appointment", on_delete=models.PROTECT, related_name="treatment_session"
    )
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="treatment_sessions"
    )
    route = models.CharField(max_length=16, choices=Route.choices)
    planned_session = models.ForeignKey(
        "protocols.PlannedSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="treatment_sessions",
    )
    phase = models.CharField(
        max_length=16, choices=SessionPhase.choices, default=SessionPhase.CHECKED_IN
    )
    # The session rules it ran under (policy-defaults.md: "a session records the policy
    # version it ran under"): the SessionPolicy values at check-in.
    policy_values = models.JSONField()
    checked_in_at = models.DateTimeField()
    checked_in_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    # The identifiers the patient stated and the nurse matched to the record at check-in
    # (choices.IDENTIFIERS_AT_CHECK_IN); empty for sessions checked in before this was asked.
    identity_confirmed_with = models.JSONField(default=list, blank=True)
    # The nurse who runs this chair today, chosen at check-in (the booking's nurse by default).
    assigned_nurse = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    # ---- pre-checks
    last_food_at = models.DateTimeField(null=True, blank=True)
    last_liquid_at = models.DateTimeField(null=True, blank=True)
    escort_name = models.CharField(max_length=120, blank=True)
    escort_phone = models.CharField(max_length=40, blank=True)
    escort_confirmed = models.BooleanField(default=False)
    pregnancy_test = models.CharField(max_length=16, choices=PregnancyTest.choices, blank=True)
    questionnaires = models.CharField(
        max_length=16, choices=QuestionnaireStatus.choices, blank=True
    )
    questionnaires_skip_reason = models.CharField(max_length=300, blank=True)
    suicidality_follow_up = models.TextField(blank=True)
    intention = models.TextField(blank=True)
    setting_eye_mask = models.BooleanField(default=False)
    setting_headphones_music = models.BooleanField(default=False)
    setting_music_choice = models.CharField(max_length=200, blank=True)
    setting_lighting = models.CharField(max_length=16, choices=Lighting.choices, blank=True)
    weight_today_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)

    # ---- dose (the plan's dose recalculated with today's weight when dosing starts)
    dose_planned_mg = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    dose_mg_per_kg = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    dose_weight_used_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    infusion_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    dose_started_at = models.DateTimeField(null=True, blank=True)
    dose_completed_at = models.DateTimeField(null=True, blank=True)
    # IV: the bag prepared from one container when the infusion starts; the ledger entry is
    # written when the infusion stops and the amount given is known.
    infusion_container = models.ForeignKey(
        "controlled_substances.Container",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    infusion_drawn_mg = models.DecimalField(max_digits=9, decimal_places=3, null=True, blank=True)
    infusion_rate_ml_per_h = models.DecimalField(
        max_digits=6, decimal_places=1, null=True, blank=True
    )
    # Esketamine: fewer devices than planned were given (services.esketamine_dosing_end).
    dosing_ended_early_reason = models.CharField(max_length=300, blank=True)
    recovery_started_at = models.DateTimeField(null=True, blank=True)

    # ---- end
    discharged_at = models.DateTimeField(null=True, blank=True)
    discharged_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    escort_present_at_discharge = models.BooleanField(default=False)
    instructions_given = models.BooleanField(default=False)
    instructions_text = models.TextField(blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stopped_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    stop_reason = models.CharField(max_length=300, blank=True)

    # ---- notes and signature
    nurse_note = models.TextField(blank=True)
    nurse_note_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    nurse_note_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_content = models.JSONField(null=True, blank=True)
    signed_sha256 = models.CharField(max_length=64, blank=True)

    # ---- esketamine REMS patient monitoring form (rules.REMS_MONITORING_FIELDS keys)
    rems_form = models.JSONField(default=dict, blank=True)
    rems_submitted_at = models.DateTimeField(null=True, blank=True)
    rems_submitted_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = TreatmentSessionManager()

    class Meta:
        ordering = ["-checked_in_at", "-id"]
        indexes = [
            models.Index(fields=["phase"]),
            models.Index(fields=["patient", "checked_in_at"]),
            # The few open sessions (chair board) and the few awaiting signature or a REMS
            # form (in-baskets, REMS list) among years of finished ones (issue 14, EXPLAIN).
            models.Index(
                fields=["checked_in_at", "id"],
                condition=~Q(phase__in=["discharged", "stopped"]),
                name="session_open_idx",
            ),
            models.Index(
                fields=["checked_in_at", "id"],
                condition=Q(phase__in=["discharged", "stopped"], signed_at__isnull=True),
                name="session_unsigned_idx",
            ),
            models.Index(
                fields=["checked_in_at", "id"],
                condition=Q(
                    route="esketamine",
                    dose_started_at__isnull=False,
                    rems_submitted_at__isnull=True,
                ),
                name="session_rems_due_idx",
            ),
            # Billing's "signed sessions not yet charged", oldest first: read in this order
            # and stopped at the first page, instead of sorting every signed session (a wide
            # row) on each billing home page (docs/performance.md).
            models.Index(
                fields=["checked_in_at", "id"],
                condition=Q(signed_at__isnull=False),
                name="session_signed_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(phase=SessionPhase.STOPPED) | ~Q(stop_reason=""),
                name="session_stopped_with_reason",
            ),
            models.CheckConstraint(
                condition=Q(signed_at__isnull=True) | ~Q(signed_sha256=""),
                name="session_signed_with_hash",
            ),
        ]

    def __str__(self) -> str:
        return f"Session {self.checked_in_at:%Y-%m-%d %H:%M} ({self.get_phase_display()})"

    @property
    def is_open(self) -> bool:
        return self.phase not in (SessionPhase.DISCHARGED, SessionPhase.STOPPED)

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


class SessionOverride(ClinicModel):
    """A prescriber's decision to go on despite a rule: pre-checks, a high pre-dose BP, or the
    discharge criteria. What was unmet is kept in `unmet` (codes and messages)."""

    session = models.ForeignKey(
        TreatmentSession, on_delete=models.PROTECT, related_name="overrides"
    )
    kind = models.CharField(max_length=16, choices=OverrideKind.choices)
    prescriber = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500)
    unmet = models.JSONField(default=list)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="session_override_with_reason")
        ]


class InfusionEvent(ClinicModel):
    session = models.ForeignKey(
        TreatmentSession, on_delete=models.PROTECT, related_name="infusion_events"
    )
    kind = models.CharField(max_length=8, choices=InfusionEventKind.choices)
    occurred_at = models.DateTimeField()
    rate_ml_per_h = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=InfusionEventKind.PAUSE) | ~Q(reason=""),
                name="infusion_pause_with_reason",
            )
        ]


class DoseAdministration(ClinicModel):
    """One administration of the session's dose, written to the ledger in the same
    transaction (`ledger_entry`)."""

    session = models.ForeignKey(
        TreatmentSession, on_delete=models.PROTECT, related_name="administrations"
    )
    kind = models.CharField(max_length=20, choices=AdministrationKind.choices)
    ledger_entry = models.OneToOneField(
        "controlled_substances.LedgerEntry", on_delete=models.PROTECT, related_name="+"
    )
    container = models.ForeignKey(
        "controlled_substances.Container", on_delete=models.PROTECT, related_name="+"
    )
    drawn_mg = models.DecimalField(max_digits=9, decimal_places=3)
    given_mg = models.DecimalField(max_digits=9, decimal_places=3)
    given_at = models.DateTimeField()
    im_site = models.CharField(max_length=32, choices=ImSite.choices, blank=True)
    device_number = models.PositiveSmallIntegerField(null=True, blank=True)
    # IV: the most the pump could have delivered in its running time (rules.infusion_deliverable),
    # and the nurse's reason when the mg recorded as given is above it.
    expected_max_mg = models.DecimalField(max_digits=6, decimal_places=1, null=True, blank=True)
    given_above_expected_reason = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["given_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "device_number"],
                condition=Q(device_number__isnull=False),
                name="session_device_number_once",
            ),
            models.CheckConstraint(
                condition=Q(given_mg__lte=models.F("drawn_mg")), name="dose_given_le_drawn"
            ),
        ]


class VitalsEntry(EnteredInErrorMixin, ClinicModel):
    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="vitals")
    taken_at = models.DateTimeField()
    phase = models.CharField(max_length=16, choices=SessionPhase.choices)
    systolic_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    diastolic_mmhg = models.PositiveSmallIntegerField(null=True, blank=True)
    heart_rate_bpm = models.PositiveSmallIntegerField(null=True, blank=True)
    spo2_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    respiratory_rate_per_min = models.PositiveSmallIntegerField(null=True, blank=True)
    temperature_c = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["taken_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(systolic_mmhg__isnull=True, diastolic_mmhg__isnull=True)
                | Q(systolic_mmhg__isnull=False, diastolic_mmhg__isnull=False),
                name="vitals_bp_both_or_neither",
            )
        ]

    def __str__(self) -> str:
        return f"Vitals {self.taken_at:%H:%M}"

    @property
    def has_bp(self) -> bool:
        return self.systolic_mmhg is not None and self.diastolic_mmhg is not None

    @property
    def bp_text(self) -> str:
        return f"{self.systolic_mmhg}/{self.diastolic_mmhg}" if self.has_bp else ""


class SessionAlertQuerySet(models.QuerySet):
    def unacknowledged(self):
        return self.filter(acknowledged_at__isnull=True)


class SessionAlert(ClinicModel):
    """An in-session vitals alert. It stays open until acknowledged with an action, even if the
    reading behind it is later marked entered in error (then the acknowledgement says so)."""

    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="alerts")
    vitals = models.ForeignKey(VitalsEntry, on_delete=models.PROTECT, related_name="alerts")
    code = models.CharField(max_length=32)
    severity = models.CharField(max_length=8, choices=AlertSeverity.choices)
    message = models.CharField(max_length=400)
    recommendation = models.CharField(max_length=8, blank=True)
    source = models.CharField(max_length=40, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=16, choices=AlertAction.choices, blank=True)
    action_note = models.CharField(max_length=500, blank=True)

    objects = SessionAlertQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["created_at", "id"],
                condition=Q(acknowledged_at__isnull=True),
                name="session_alert_open_idx",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True) | ~Q(action=""),
                name="session_alert_acknowledged_with_action",
            ),
            models.UniqueConstraint(fields=["vitals", "code"], name="session_alert_once"),
        ]

    @property
    def recommendation_label(self) -> str:
        """What the rules recommend, as the page words it (empty when they recommend nothing)."""
        if self.recommendation in AlertAction.values:
            return AlertAction(self.recommendation).label
        return ""


class SessionScore(ClinicModel):
    """A clinician-rated scale taken in the session (the response lives in assessments)."""

    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="scores")
    kind = models.CharField(max_length=20, choices=SessionScoreKind.choices)
    response = models.OneToOneField(
        "assessments.AssessmentResponse", on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]


class SideEffect(EnteredInErrorMixin, ClinicModel):
    session = models.ForeignKey(
        TreatmentSession, on_delete=models.PROTECT, related_name="side_effects"
    )
    kind = models.CharField(max_length=16, choices=SideEffectKind.choices)
    other_text = models.CharField(max_length=200, blank=True)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    noticed_at = models.DateTimeField()
    intervention = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["noticed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind=SideEffectKind.OTHER) | ~Q(other_text=""),
                name="side_effect_other_described",
            )
        ]

    def __str__(self) -> str:
        return f"Side effect: {self.label}"

    @property
    def label(self) -> str:
        return self.other_text if self.kind == SideEffectKind.OTHER else self.get_kind_display()


class AdverseEvent(EnteredInErrorMixin, ClinicModel):
    session = models.ForeignKey(
        TreatmentSession, on_delete=models.PROTECT, related_name="adverse_events"
    )
    description = models.TextField()
    seriousness = models.CharField(max_length=16, choices=Seriousness.choices)
    onset_at = models.DateTimeField()
    action_taken = models.CharField(max_length=500, blank=True)
    outcome = models.CharField(max_length=24, choices=AdverseEventOutcome.choices)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["onset_at", "id"]

    def __str__(self) -> str:
        return f"Adverse event ({self.get_seriousness_display()})"


class SessionAddendum(ClinicModel):
    """Words added to a signed session record; itself never changed."""

    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField()
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["created_at", "id"]


class IntegrationNote(ClinicModel):
    """The therapist's integration note for a session. Notes are added, never changed."""

    session = models.ForeignKey(
        TreatmentSession, on_delete=models.PROTECT, related_name="integration_notes"
    )
    text = models.TextField()
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["created_at", "id"]


class PrescriberRequestQuerySet(models.QuerySet):
    def waiting(self):
        return self.filter(status=PrescriberRequestStatus.OPEN)


class PrescriberRequest(ClinicModel):
    """A decision the chair waits for: a high pre-dose BP to confirm (opened by the reading
    itself), or pre-checks or discharge criteria a nurse asks a prescriber to override. It stays
    open, in the prescribers' in-basket and on the chair board, until a prescriber answers or
    declines it, or it is no longer needed; past the clinic's delay the care team's prescribers
    are e-mailed (`email_queued_at`)."""

    session = models.ForeignKey(
        TreatmentSession, on_delete=models.PROTECT, related_name="prescriber_requests"
    )
    kind = models.CharField(max_length=16, choices=PrescriberRequestKind.choices)
    status = models.CharField(
        max_length=16,
        choices=PrescriberRequestStatus.choices,
        default=PrescriberRequestStatus.OPEN,
    )
    requested_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    note = models.CharField("the nurse's words", max_length=500, blank=True)
    # What was unmet when it was asked, in words (shown to the prescriber).
    about = models.JSONField(default=list, blank=True)
    # Answered or declined by a prescriber, or withdrawn (by the nurse, or by the record itself
    # when the need passed: closed_by is then None).
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closing_note = models.CharField(max_length=500, blank=True)
    override = models.ForeignKey(
        SessionOverride, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    email_queued_at = models.DateTimeField(null=True, blank=True)

    objects = PrescriberRequestQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "kind"],
                condition=Q(status="open"),
                name="prescriber_request_one_open_per_kind",
            ),
            models.CheckConstraint(
                condition=Q(status="open") | Q(closed_at__isnull=False),
                name="prescriber_request_closed_with_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(closing_note=""),
                name="prescriber_request_declined_with_note",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"

    @property
    def about_digest(self) -> str:
        """A short digest of what the prescriber is shown (`about`): an answer carries the
        digest it was given on, so a decision is never made on a situation that has changed."""
        return about_digest(self.about)


def about_digest(lines) -> str:
    return hashlib.sha256("\n".join(str(line) for line in lines).encode()).hexdigest()[:16]
