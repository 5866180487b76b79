from django.db import models

# The side-effect vocabulary is shared with the at-home program, which sits below this app.
from clinic.home_program.choices import Severity as Severity
from clinic.home_program.choices import SideEffectKind as SideEffectKind


class SessionPhase(models.TextChoices):
    """checked in → (pre-checks) → dosing → monitoring → recovery → discharged, or stopped."""

    CHECKED_IN = "checked_in", "Checked in — pre-checks"
    DOSING = "dosing", "Dosing"
    MONITORING = "monitoring", "Monitoring"
    RECOVERY = "recovery", "Recovery"
    DISCHARGED = "discharged", "Discharged"
    STOPPED = "stopped", "Stopped"


OPEN_PHASES = (
    SessionPhase.CHECKED_IN,
    SessionPhase.DOSING,
    SessionPhase.MONITORING,
    SessionPhase.RECOVERY,
)
FINISHED_PHASES = (SessionPhase.DISCHARGED, SessionPhase.STOPPED)

# The vitals-schedule phase of rules.next_vitals_due for each session phase.
RULES_PHASE = {
    SessionPhase.CHECKED_IN: "pre_dose",
    SessionPhase.DOSING: "dosing",
    SessionPhase.MONITORING: "recovery",
    SessionPhase.RECOVERY: "recovery",
    SessionPhase.DISCHARGED: "discharged",
    SessionPhase.STOPPED: "discharged",
}


class PregnancyTest(models.TextChoices):
    NOT_APPLICABLE = "not_applicable", "Not applicable"
    NEGATIVE = "negative", "Negative"
    POSITIVE = "positive", "Positive"
    DECLINED = "declined", "Declined by the patient"


class QuestionnaireStatus(models.TextChoices):
    NOT_RECORDED = "", "Not recorded"
    DONE = "done", "Done today"
    SKIPPED = "skipped", "Skipped (reason given)"
    NONE_DUE = "none_due", "None due today"


class Lighting(models.TextChoices):
    DIMMED = "dimmed", "Dimmed"
    DARK = "dark", "Dark"
    NORMAL = "normal", "Normal room light"


class InfusionEventKind(models.TextChoices):
    START = "start", "Started"
    PAUSE = "pause", "Paused"
    RESUME = "resume", "Resumed"
    RATE = "rate", "Rate changed"
    STOP = "stop", "Stopped"


class AdministrationKind(models.TextChoices):
    IV_INFUSION = "iv_infusion", "IV infusion"
    IM_INJECTION = "im_injection", "IM injection"
    ESKETAMINE_DEVICE = "esketamine_device", "Esketamine device"


class ImSite(models.TextChoices):
    DELTOID_LEFT = "deltoid_left", "Left deltoid"
    DELTOID_RIGHT = "deltoid_right", "Right deltoid"
    VASTUS_LATERALIS_LEFT = "vastus_lateralis_left", "Left vastus lateralis (thigh)"
    VASTUS_LATERALIS_RIGHT = "vastus_lateralis_right", "Right vastus lateralis (thigh)"
    VENTROGLUTEAL_LEFT = "ventrogluteal_left", "Left ventrogluteal"
    VENTROGLUTEAL_RIGHT = "ventrogluteal_right", "Right ventrogluteal"


class AlertAction(models.TextChoices):
    CONTINUE = "continue", "Continue and recheck"
    PAUSE = "pause", "Pause dosing"
    STOP = "stop", "Stop dosing"
    INTERVENTION = "intervention", "Intervention given"


class AlertSeverity(models.TextChoices):
    """A vitals alert's severity as `rules.vitals_alerts` grades it."""

    ALERT = "alert", "Alert"
    CRITICAL = "critical", "Critical"


class Seriousness(models.TextChoices):
    NON_SERIOUS = "non_serious", "Not serious"
    SERIOUS = "serious", "Serious"


class AdverseEventOutcome(models.TextChoices):
    ONGOING = "ongoing", "Ongoing"
    RESOLVED = "resolved", "Resolved"
    RESOLVED_WITH_SEQUELAE = "resolved_with_sequelae", "Resolved with lasting effects"
    TRANSFERRED = "transferred", "Transferred to emergency care"
    UNKNOWN = "unknown", "Unknown"


class SessionScoreKind(models.TextChoices):
    """Clinician-rated scales taken during a session (instrument codes of the library)."""

    MOAAS = "moaas", "MOAA/S"
    CADSS = "cadss", "CADSS"
    MODIFIED_ALDRETE = "modified-aldrete", "Modified Aldrete"


class OverrideKind(models.TextChoices):
    PRE_CHECKS = "pre_checks", "Pre-checks overridden"
    PRE_DOSE_BP = "pre_dose_bp", "Pre-dose blood pressure confirmed"
    DISCHARGE = "discharge", "Discharge criteria overridden"


class PrescriberRequestKind(models.TextChoices):
    """What a nurse at the chair waits for a prescriber to decide."""

    PRE_DOSE_BP = "pre_dose_bp", "Confirm the pre-dose blood pressure"
    PRE_CHECKS = "pre_checks", "Override the pre-checks"
    DISCHARGE = "discharge", "Decide on discharge: criteria not met"


class PrescriberRequestStatus(models.TextChoices):
    OPEN = "open", "Waiting for a prescriber"
    ANSWERED = "answered", "Answered"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "No longer needed"


# The two identifiers a nurse confirms with the patient at check-in (The Joint Commission,
# National Patient Safety Goal NPSG.01.01.01: at least two patient identifiers when providing
# treatments or procedures; the chair or room is never one).
IDENTIFIERS_AT_CHECK_IN = ("full_name", "date_of_birth")
