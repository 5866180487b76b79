"""The chair side's API schemas (clinic/treatment_sessions/api/)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import SecretStr

from clinic.core.api_pages import CursorQuery
from clinic.core.api_schemas import RequestBody
from clinic.core.text import MultiLine, OneLine
from clinic.patients.schemas import DecimalIn

PhaseCode = Literal["checked_in", "dosing", "monitoring", "recovery", "discharged", "stopped"]
RouteCode = Literal["iv", "im", "esketamine"]
AlertActionCode = Literal["continue", "pause", "stop", "intervention"]
ImSiteCode = Literal[
    "deltoid_left",
    "deltoid_right",
    "vastus_lateralis_left",
    "vastus_lateralis_right",
    "ventrogluteal_left",
    "ventrogluteal_right",
]

# --------------------------------------------------------------------------- reading


class SessionNamed(Schema):
    uuid: UUID
    name: str


class SessionChair(SessionNamed):
    room: SessionNamed
    location: SessionNamed


class SessionPatientRef(Schema):
    uuid: UUID
    mrn: str
    name: str


class SessionPatient(SessionPatientRef):
    age_years: int | None
    allergies: str = Field(description='As the latest intake records them; "" when none is.')


class SessionListQuery(CursorQuery):
    date: datetime.date = Field(description="The day the sessions were checked in.")
    location: OneLine | None = Field(
        None,
        max_length=40,
        description="A location's id; `all` (clinic administrator) for every location; "
        "left out: the location you work at.",
    )
    open_only: bool = Field(False, description="Only sessions not yet discharged or stopped.")


class SessionSummary(Schema):
    uuid: UUID
    phase: PhaseCode
    route: RouteCode
    checked_in_at: datetime.datetime
    chair: SessionChair
    assigned_nurse: SessionNamed | None
    patient: SessionPatientRef | None = Field(
        description="Who, when you may open the patient; null otherwise."
    )
    updated_at: datetime.datetime


class SessionListPage(Schema):
    items: list[SessionSummary]
    next_cursor: str | None


class CheckRead(Schema):
    key: str
    label: str
    ok: bool
    messages: list[str]


class PreCheckStatusRead(Schema):
    items: list[CheckRead]
    passed: bool
    overridden: bool
    bp_confirmed: bool
    cleared: bool = Field(description="Dosing may start.")


class PreChecksRead(Schema):
    last_food_at: datetime.datetime | None
    last_liquid_at: datetime.datetime | None
    escort_name: str
    escort_phone: str
    escort_confirmed: bool
    pregnancy_test: str
    questionnaires: str
    questionnaires_skip_reason: str
    suicidality_follow_up: str
    intention: str
    setting_eye_mask: bool
    setting_headphones_music: bool
    setting_music_choice: str
    setting_lighting: str
    weight_today_kg: Decimal | None
    status: PreCheckStatusRead | None = Field(description="While checked in: what is unmet.")


class DoseRead(Schema):
    dose_mg: Decimal | None
    mg_per_kg: Decimal | None
    weight_used_kg: Decimal | None
    infusion_minutes: int | None
    devices: int | None
    problem: str = Field(description='Why there is no dose ("" when there is one).')


class SessionAlertRead(Schema):
    uuid: UUID
    vitals_uuid: UUID
    code: str
    severity: Literal["alert", "critical"]
    message: str
    recommendation: AlertActionCode | None
    source: str
    created_at: datetime.datetime
    acknowledged_at: datetime.datetime | None
    acknowledged_by: SessionNamed | None
    action: AlertActionCode | None
    action_note: str


class VitalsRead(Schema):
    uuid: UUID
    taken_at: datetime.datetime
    phase: PhaseCode
    systolic_mmhg: int | None
    diastolic_mmhg: int | None
    heart_rate_bpm: int | None
    spo2_percent: int | None
    respiratory_rate_per_min: int | None
    temperature_c: Decimal | None
    recorded_by: SessionNamed
    entered_in_error: bool
    entered_in_error_reason: str
    entered_in_error_at: datetime.datetime | None
    entered_in_error_by: SessionNamed | None
    alerts: list[UUID] = Field(description="The alerts this reading raised.")


class UnmetRead(Schema):
    key: str = Field(description="The pre-check, discharge criterion or reading overridden.")
    messages: list[str]


class OverrideRead(Schema):
    uuid: UUID
    kind: Literal["pre_checks", "pre_dose_bp", "discharge"]
    prescriber: SessionNamed
    reason: str
    unmet: list[UnmetRead] = Field(description="What was unmet when the prescriber decided.")
    created_at: datetime.datetime


class InfusionEventRead(Schema):
    uuid: UUID
    kind: Literal["start", "pause", "resume", "rate", "stop"]
    occurred_at: datetime.datetime
    rate_ml_per_h: Decimal | None
    reason: str
    recorded_by: SessionNamed


class LotRead(Schema):
    product: str
    lot_number: str
    expiry: datetime.date


class SessionContainerRead(Schema):
    uuid: UUID
    label: str
    lot: LotRead


class InfusionRead(Schema):
    container: SessionContainerRead | None
    drawn_mg: Decimal | None
    rate_ml_per_h: Decimal | None
    running: bool
    paused: bool
    planned_end_at: datetime.datetime | None
    events: list[InfusionEventRead]


class AdministrationRead(Schema):
    uuid: UUID
    kind: Literal["iv_infusion", "im_injection", "esketamine_device"]
    given_at: datetime.datetime
    drawn_mg: Decimal
    given_mg: Decimal
    awaiting_waste_mg: Decimal = Field(description="What is left of the draw to waste.")
    container: SessionContainerRead
    im_site: ImSiteCode | None
    device_number: int | None
    recorded_by: SessionNamed


ScoreKindCode = Literal["moaas", "cadss", "modified-aldrete"]
# The choices' values (choices.py; a test keeps them equal).
SideEffectKindCode = Literal[
    "nausea",
    "vomiting",
    "dizziness",
    "blurred_vision",
    "headache",
    "anxiety",
    "confusion",
    "other",
]
SeverityCode = Literal["mild", "moderate", "severe"]
SeriousnessCode = Literal["non_serious", "serious"]
OutcomeCode = Literal["ongoing", "resolved", "resolved_with_sequelae", "transferred", "unknown"]


class ScoreRead(Schema):
    uuid: UUID
    kind: ScoreKindCode
    taken_at: datetime.datetime
    answers: list[int | None] = Field(description="One value per item, in item order.")
    total: int | None
    complete: bool
    recorded_by: SessionNamed | None


class EnteredInErrorRead(Schema):
    """A correction: the row stays in the record, struck through, with why and by whom."""

    entered_in_error: bool
    entered_in_error_reason: str
    entered_in_error_at: datetime.datetime | None
    entered_in_error_by: SessionNamed | None


class SideEffectRead(EnteredInErrorRead):
    uuid: UUID
    kind: SideEffectKindCode
    label: str
    other_text: str
    severity: SeverityCode
    noticed_at: datetime.datetime
    intervention: str
    recorded_by: SessionNamed


class AdverseEventRead(EnteredInErrorRead):
    uuid: UUID
    description: str
    seriousness: SeriousnessCode
    onset_at: datetime.datetime
    outcome: OutcomeCode
    action_taken: str
    recorded_by: SessionNamed


class FindingRead(Schema):
    code: str
    message: str


class DischargeRead(Schema):
    allowed: bool | None = Field(description="While monitoring or recovering: the criteria met.")
    blocking_reasons: list[FindingRead]
    observation_ends_at: datetime.datetime | None
    discharged_at: datetime.datetime | None
    discharged_by: SessionNamed | None
    escort_present: bool
    instructions_given: bool
    instructions_text: str
    stopped_at: datetime.datetime | None
    stopped_by: SessionNamed | None
    stop_reason: str


class SignatureRead(Schema):
    signed_at: datetime.datetime | None
    signed_by: SessionNamed | None
    sha256: str
    blockers: list[str] = Field(description="What stops signing, while unsigned.")


# --------------------------------------------------------------------------- closing the record
# The nurse's note, the signature, addenda, integration notes, the REMS form and the requests
# to a prescriber (api/signing.py and the modules it loads).

PrescriberRequestKindCode = Literal["pre_dose_bp", "pre_checks", "discharge"]
PrescriberRequestStatusCode = Literal["open", "answered", "declined", "withdrawn"]


class SessionNoteRead(Schema):
    text: str = Field(description='"" until the nurse saves it.')
    written_by: SessionNamed | None
    written_at: datetime.datetime | None


class SessionAddendumRead(Schema):
    uuid: UUID
    text: str
    author: SessionNamed
    created_at: datetime.datetime
    sha256: str = Field(description="SHA-256 of the text, as written.")


class IntegrationNoteRead(SessionAddendumRead):
    pass


class RemsStatusRead(Schema):
    complete: bool
    missing: list[str] = Field(description="The form's fields not answered, in form order.")
    session_date: datetime.date
    due_on: datetime.date = Field(description="The last day to submit it (REMS: 7 days).")
    overdue: bool
    submitted_at: datetime.datetime | None
    submitted_by: SessionNamed | None


class PrescriberRequestEscalation(Schema):
    """When a waiting request is e-mailed, as the in-basket and the chair board say it."""

    email_after_min: int = Field(description="The clinic's delay before e-mailing.")
    email_due_at: datetime.datetime
    overdue: bool = Field(description="Waiting at least the clinic's delay.")
    emailed_at: datetime.datetime | None = Field(
        description="When the care team's prescribers (or, with none, the clinic "
        "administrators) were e-mailed."
    )


class PrescriberRequestRead(Schema):
    uuid: UUID
    kind: PrescriberRequestKindCode
    status: PrescriberRequestStatusCode
    session_uuid: UUID
    chair: SessionChair
    patient: SessionPatientRef
    requested_by: SessionNamed
    asked_at: datetime.datetime
    note: str = Field(description="The nurse's words.")
    about: list[str] = Field(description="What the prescriber decides on, in words.")
    waited_min: int = Field(description="Minutes waited, until now or until it closed.")
    escalation: PrescriberRequestEscalation
    closed_at: datetime.datetime | None
    closed_by: SessionNamed | None
    closing_note: str = Field(description="The prescriber's reason, or what to do instead.")


class SessionRead(SessionSummary):
    patient: SessionPatient  # always: only the care team reads it
    appointment_uuid: UUID
    planned_session_uuid: UUID | None
    checked_in_by: SessionNamed
    can_run: bool = Field(description="You may chart on it (session.run, at its location).")
    next_vitals_due_at: datetime.datetime | None
    pre_checks: PreChecksRead
    dose: DoseRead
    dose_started_at: datetime.datetime | None
    dose_completed_at: datetime.datetime | None
    vitals: list[VitalsRead]
    alerts: list[SessionAlertRead]
    overrides: list[OverrideRead]
    infusion: InfusionRead | None = Field(description="IV sessions.")
    administrations: list[AdministrationRead]
    scores: list[ScoreRead]
    side_effects: list[SideEffectRead]
    adverse_events: list[AdverseEventRead]
    discharge: DischargeRead
    signature: SignatureRead
    note: SessionNoteRead = Field(description="The nurse's session note.")
    addenda: list[SessionAddendumRead] = Field(description="Added after signing, oldest first.")
    integration_notes: list[IntegrationNoteRead]
    rems: RemsStatusRead | None = Field(description="Dosed esketamine sessions.")
    prescriber_requests: list[PrescriberRequestRead] = Field(
        description="Every decision asked of a prescriber, oldest first."
    )


class VitalsRecorded(Schema):
    vitals: VitalsRead
    alerts: list[SessionAlertRead] = Field(
        description="The alerts this reading raised: act on them."
    )


# --------------------------------------------------------------------------- writing


class CheckIn(RequestBody):
    appointment: UUID = Field(description="Today's booked appointment.")
    full_name_confirmed: bool = Field(
        description="The patient said their full name and it matches the record."
    )
    stated_date_of_birth: datetime.date = Field(description="As the patient says it.")
    assigned_nurse: UUID | None = Field(None, description="Left out: the booked nurse.")


class PreChecks(RequestBody):
    """Any of the pre-checks; those left out stay as they are."""

    last_food_at: datetime.datetime | None = None
    last_liquid_at: datetime.datetime | None = None
    escort_name: OneLine = Field("", max_length=120)
    escort_phone: OneLine = Field("", max_length=40)
    escort_confirmed: bool = False
    pregnancy_test: Literal["", "not_applicable", "negative", "positive", "declined"] = ""
    questionnaires: Literal["", "done", "skipped", "none_due"] = ""
    questionnaires_skip_reason: OneLine = Field("", max_length=300)
    suicidality_follow_up: MultiLine = Field("", max_length=2000)
    intention: MultiLine = Field("", max_length=2000)
    setting_eye_mask: bool = False
    setting_headphones_music: bool = False
    setting_music_choice: OneLine = Field("", max_length=200)
    setting_lighting: Literal["", "dimmed", "dark", "normal"] = ""
    weight_today_kg: DecimalIn | None = Field(None, description="Recorded in the chart too.")


class VitalsCreate(RequestBody):
    taken_at: datetime.datetime | None = Field(None, description="Left out: now.")
    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    heart_rate_bpm: int | None = None
    spo2_percent: int | None = None
    respiratory_rate_per_min: int | None = None
    temperature_c: DecimalIn | None = None


class AlertAcknowledge(RequestBody):
    action: AlertActionCode
    note: OneLine = Field("", max_length=500, description="Needed for stop and intervention.")


class Reason(RequestBody):
    reason: OneLine = Field(..., min_length=1, max_length=300)


class InfusionStart(RequestBody):
    container: UUID = Field(description="A vial of the session's location.")
    drawn_mg: DecimalIn
    rate_ml_per_h: DecimalIn | None = None


class InfusionRate(RequestBody):
    rate_ml_per_h: DecimalIn
    reason: OneLine = Field("", max_length=300)


class Witness(RequestBody):
    """A waste's witness: another licensed clinician who works at the session's location,
    confirming with their own password (as on the page)."""

    witness: UUID | None = Field(None, description="The witness's staff id.")
    # A secret: never echoed in a validation error or a log line.
    witness_password: SecretStr = Field(
        SecretStr(""),
        max_length=256,
        description="The witness's own password, checked as at sign-in (lockouts apply).",
    )


class InfusionStop(Witness):
    given_mg: DecimalIn = Field(description="As the pump shows it.")
    reason: OneLine = Field("", max_length=300, description="Needed below the planned dose.")
    given_above_expected_reason: OneLine = Field("", max_length=300)
    waste_reason: OneLine = Field("", max_length=300)


class ImInjection(Witness):
    container: UUID
    drawn_mg: DecimalIn
    given_mg: DecimalIn
    site: ImSiteCode
    given_at: datetime.datetime | None = Field(None, description="Left out: now.")
    waste_reason: OneLine = Field("", max_length=300)


class DeviceGiven(RequestBody):
    container: UUID = Field(description="An esketamine device of the session's location.")
    given_at: datetime.datetime | None = Field(None, description="Left out: now.")


class Waste(Witness):
    reason: OneLine = Field("", max_length=300)


class Discharge(RequestBody):
    escort_present: bool
    instructions_given: bool
    instructions_text: MultiLine = Field("", max_length=4000)
    override_reason: OneLine = Field(
        "", max_length=500, description="A prescriber's override, only when discharge is blocked."
    )


# --------------------------------------------------------------------------- alerts


class ChairAlertRead(SessionAlertRead):
    session_uuid: UUID
    chair: SessionChair
    patient: SessionPatientRef


class ChairAlertPage(Schema):
    items: list[ChairAlertRead]
    next_cursor: str | None


# --------------------------------------------------------------------------- the record


class ScoreCreate(RequestBody):
    kind: ScoreKindCode
    answers: list[int] = Field(
        description=(
            "Every item's value in item order, as on the page's score form: MOAA/S one item "
            "(0–5), CADSS 23 (0–4), modified Aldrete five (0–2)."
        ),
        max_length=40,
    )
    taken_at: datetime.datetime | None = Field(None, description="Left out: now.")


class SideEffectCreate(RequestBody):
    kind: SideEffectKindCode
    other_text: OneLine = Field("", max_length=200, description="What it was, for `other`.")
    severity: SeverityCode
    intervention: OneLine = Field("", max_length=300, description="E.g. an antiemetic given.")
    noticed_at: datetime.datetime | None = Field(None, description="Left out: now.")


class AdverseEventCreate(RequestBody):
    description: MultiLine = Field(..., max_length=4000)
    seriousness: SeriousnessCode
    onset_at: datetime.datetime | None = Field(None, description="Left out: now.")
    action_taken: OneLine = Field("", max_length=500)
    outcome: OutcomeCode


class EnteredInError(RequestBody):
    reason: OneLine = Field(..., max_length=300, description="Why the entry is wrong.")


class PrescriberReason(RequestBody):
    reason: OneLine = Field(..., max_length=500, description="Why dosing may go ahead.")
