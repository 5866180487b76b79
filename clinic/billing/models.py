"""Billing's records (issue 15): the problem list (each diagnosis an ICD-10-CM code that claims
and prior authorizations point to); insurance (payers, their plans, each patient's coverages
and the eligibility checks made on them); charges with their lines, visit codes, the fee
schedule and self-pay packages; prior authorizations with the payers' checklists; claims and
the 837P batches.

Long because: one revenue cycle whose records point at each other (a claim at a charge, a
coverage and a prior authorization); split into modules they would import each other anyway.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from clinic.core.models import ClinicModel, EnteredInErrorMixin


class DiagnosisStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RESOLVED = "resolved", "Resolved"


class Diagnosis(EnteredInErrorMixin, ClinicModel):
    """One entry on a patient's problem list.

    Amend, never erase: a diagnosis is resolved (with the date) or marked entered in error
    (with the reason), and stays on the list. The code's words are kept as the code set printed
    them when the entry was made, with the code set's name, so a later release cannot change
    what was recorded. The primary diagnosis for treatment is the one claims list first.
    """

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="diagnoses"
    )
    icd10_code = models.CharField("ICD-10-CM code", max_length=8)
    description = models.CharField(max_length=250)
    code_set = models.CharField(max_length=40)
    onset_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=DiagnosisStatus.choices, default=DiagnosisStatus.ACTIVE
    )
    resolved_on = models.DateField(null=True, blank=True)
    is_primary = models.BooleanField("primary diagnosis for treatment", default=False)
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-is_primary", "status", "icd10_code", "id"]
        verbose_name_plural = "diagnoses"
        constraints = [
            # A code is on the active list once (two at once are refused by the database).
            models.UniqueConstraint(
                fields=["patient", "icd10_code"],
                condition=Q(status="active", entered_in_error_at__isnull=True),
                name="diagnosis_active_code_once",
            ),
            models.UniqueConstraint(
                fields=["patient"],
                condition=Q(is_primary=True, entered_in_error_at__isnull=True),
                name="diagnosis_one_primary",
            ),
            models.CheckConstraint(
                condition=Q(status="active", resolved_on__isnull=True)
                | Q(status="resolved", resolved_on__isnull=False),
                name="diagnosis_resolved_has_date",
            ),
            # The primary diagnosis is an active one.
            models.CheckConstraint(
                condition=Q(is_primary=False) | Q(status="active"),
                name="diagnosis_primary_is_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.icd10_code} {self.description}"

    @property
    def is_current(self) -> bool:
        return self.status == DiagnosisStatus.ACTIVE and self.entered_in_error_at is None


# --------------------------------------------------------------------------- coverage


class PayerKind(models.TextChoices):
    MEDICARE = "medicare", "Medicare"
    MEDICARE_ADVANTAGE = "medicare_advantage", "Medicare Advantage"
    MEDICAID = "medicaid", "Medicaid"
    COMMERCIAL = "commercial", "Commercial"


class SessionCoding(models.TextChoices):
    MEDICARE = "medicare", "Medicare's (esketamine as G2082/G2083 with KX)"
    COMMERCIAL = "commercial", "Per-unit drug codes (esketamine as J0013 per mg)"


class Payer(ClinicModel):
    """An insurer the clinic bills. `payer_id` is the clearinghouse's electronic payer ID (the
    837P's 2010BB NM109, docs/clinical/billing.md §6); the kind decides the coding rules
    (Medicare's G-codes, for one)."""

    name = models.CharField(max_length=120)
    payer_id = models.CharField("electronic payer ID", max_length=15, blank=True)
    kind = models.CharField(max_length=24, choices=PayerKind.choices)
    # Which coding rules a session charge follows for this payer (session_codes.Payer): chosen
    # from the kind when the payer is added, changeable because some Medicare Advantage and
    # Medicaid plans take Medicare's esketamine G-codes and others the per-mg J-code [P5].
    session_coding = models.CharField(
        max_length=16,
        choices=SessionCoding.choices,
        default=SessionCoding.COMMERCIAL,
        db_default=SessionCoding.COMMERCIAL,
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="payer_name_unique"),
            models.UniqueConstraint(
                fields=["payer_id"], condition=~Q(payer_id=""), name="payer_id_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class InsurancePlan(ClinicModel):
    """A payer's product (e.g. a PPO, an HMO, a Medicare Advantage plan)."""

    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="plans")
    name = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["payer__name", "name", "id"]
        constraints = [
            models.UniqueConstraint("payer", Lower("name"), name="insurance_plan_name_unique")
        ]

    def __str__(self) -> str:
        return f"{self.payer.name} — {self.name}"


class CoveragePriority(models.TextChoices):
    PRIMARY = "primary", "Primary"
    SECONDARY = "secondary", "Secondary"
    TERTIARY = "tertiary", "Tertiary"


class SubscriberRelationship(models.TextChoices):
    SELF = "self", "Self"
    SPOUSE = "spouse", "Spouse"
    CHILD = "child", "Child"
    OTHER = "other", "Other"


class CoverageStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ENDED = "ended", "Ended"


class Coverage(EnteredInErrorMixin, ClinicModel):
    """A patient's insurance under a plan, in order (primary, secondary, tertiary).

    Amend, never erase: a coverage that stops is ended with its last day; one entered by
    mistake is marked entered in error. The card's photos are `CoverageCardImage`s."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="coverages"
    )
    plan = models.ForeignKey(InsurancePlan, on_delete=models.PROTECT, related_name="coverages")
    priority = models.CharField(max_length=16, choices=CoveragePriority.choices)
    member_id = models.CharField("member ID", max_length=40)
    group_number = models.CharField(max_length=40, blank=True)
    subscriber_relationship = models.CharField(
        "patient's relationship to the subscriber",
        max_length=16,
        choices=SubscriberRelationship.choices,
        default=SubscriberRelationship.SELF,
    )
    # The policyholder when it is not the patient (claim form boxes 4, 7 and 11).
    subscriber_name = models.CharField(max_length=150, blank=True)
    subscriber_date_of_birth = models.DateField(null=True, blank=True)
    starts_on = models.DateField("effective from", null=True, blank=True)
    ends_on = models.DateField("last day", null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=CoverageStatus.choices, default=CoverageStatus.ACTIVE
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["status", "priority", "id"]
        constraints = [
            # One coverage per place in the order at a time: two primaries is a data error.
            models.UniqueConstraint(
                fields=["patient", "priority"],
                condition=Q(status="active", entered_in_error_at__isnull=True),
                name="coverage_one_per_priority",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=models.F("starts_on")),
                name="coverage_ends_after_it_starts",
            ),
            models.CheckConstraint(
                condition=Q(status="active") | Q(ends_on__isnull=False),
                name="coverage_ended_has_last_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} ({self.get_priority_display().lower()})"

    @property
    def is_current(self) -> bool:
        return self.status == CoverageStatus.ACTIVE and self.entered_in_error_at is None


class CardSide(models.TextChoices):
    FRONT = "front", "Front"
    BACK = "back", "Back"


class CoverageCardImage(EnteredInErrorMixin, ClinicModel):
    """A photo of the insurance card, side by side, kept in the database (every app server
    reads it; no file store to share) as a metadata-free JPEG (`card_images`). A new photo of
    a side replaces the old one, which is marked entered in error, as is a photo of the wrong
    card; neither is shown again."""

    coverage = models.ForeignKey(Coverage, on_delete=models.PROTECT, related_name="card_images")
    side = models.CharField(max_length=5, choices=CardSide.choices)
    jpeg = models.BinaryField()
    width_px = models.PositiveIntegerField()
    height_px = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["coverage", "side", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["coverage", "side"],
                condition=Q(entered_in_error_at__isnull=True),
                name="card_image_one_per_side",
            ),
        ]


class EligibilityMethod(models.TextChoices):
    PHONE = "phone", "Phone call to the payer"
    PORTAL = "portal", "Payer's web portal"
    CLEARINGHOUSE = "clearinghouse", "Clearinghouse (270/271)"
    OTHER = "other", "Other"


class EligibilityResult(models.TextChoices):
    ACTIVE = "active", "Active"
    INACTIVE = "inactive", "Inactive"
    NOT_FOUND = "not_found", "Member not found"
    UNCLEAR = "unclear", "Unclear: follow up"


class EligibilityCheck(ClinicModel):
    """Who checked a coverage, when, how, and what the payer said. Never changed: a later
    check is a new row. Money in whole cents; coinsurance in whole percent."""

    coverage = models.ForeignKey(Coverage, on_delete=models.PROTECT, related_name="checks")
    checked_at = models.DateTimeField()
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    method = models.CharField(max_length=16, choices=EligibilityMethod.choices)
    result = models.CharField(max_length=16, choices=EligibilityResult.choices)
    copay_cents = models.PositiveIntegerField(null=True, blank=True)
    coinsurance_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    deductible_cents = models.PositiveIntegerField(null=True, blank=True)
    deductible_remaining_cents = models.PositiveIntegerField(null=True, blank=True)
    reference_number = models.CharField(max_length=60, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-checked_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(coinsurance_percent__isnull=True) | Q(coinsurance_percent__lte=100),
                name="eligibility_coinsurance_percent",
            ),
            models.CheckConstraint(
                condition=Q(deductible_remaining_cents__isnull=True)
                | Q(deductible_cents__isnull=True)
                | Q(deductible_remaining_cents__lte=models.F("deductible_cents")),
                name="eligibility_remaining_within_deductible",
            ),
        ]


# --------------------------------------------------------------------------- charges


class FeeScheduleEntry(EnteredInErrorMixin, ClinicModel):
    """The clinic's price for one code from a date on; the price on a date of service is the
    entry with the latest `effective_on` not after it. Fees are never constants: a new price is
    a new entry, and a mistaken one is marked entered in error (docs/clinical/billing.md)."""

    code = models.CharField(max_length=5)
    price_cents = models.PositiveIntegerField()
    effective_on = models.DateField()
    note = models.CharField(max_length=300, blank=True)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["code", "-effective_on", "-id"]
        verbose_name_plural = "fee schedule entries"
        constraints = [
            models.UniqueConstraint(
                fields=["code", "effective_on"],
                condition=Q(entered_in_error_at__isnull=True),
                name="fee_one_price_per_code_and_day",
            ),
        ]


class PackageOffer(ClinicModel):
    """A self-pay package on the clinic's price list: a number of sessions of one route at
    one price. Never edited: a new price is a new offer, and an offer no longer sold is
    switched off, so the purchases that name it keep their history."""

    name = models.CharField(max_length=120)
    route = models.CharField(max_length=16)  # a session route the package covers (iv, im, ...)
    sessions = models.PositiveSmallIntegerField()
    price_cents = models.PositiveIntegerField()
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-active", "name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(sessions__gte=1), name="package_offer_sessions"),
        ]


class PackagePurchase(EnteredInErrorMixin, ClinicModel):
    """A patient bought a package: the offer's terms are copied, so a later offer does not
    change what was sold. Self-pay charges of the route, on or after the day bought, take
    its sessions in turn (`Charge.package_purchase`, `Charge.package_session`)."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    offer = models.ForeignKey(PackageOffer, on_delete=models.PROTECT, related_name="purchases")
    name = models.CharField(max_length=120)
    route = models.CharField(max_length=16)
    sessions = models.PositiveSmallIntegerField()
    price_cents = models.PositiveIntegerField()
    purchased_on = models.DateField()
    note = models.CharField(max_length=300, blank=True)
    sold_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["purchased_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(sessions__gte=1), name="package_purchase_sessions"),
        ]
        indexes = [models.Index(fields=["patient", "purchased_on"], name="package_patient_day")]


class SessionPayerRules(models.TextChoices):
    """The calculator's payer vocabulary (session_codes.Payer)."""

    MEDICARE = "medicare", "Medicare's rules"
    COMMERCIAL = "commercial", "Per-unit drug codes"
    SELF_PAY = "self_pay", "Self-pay"


class Charge(ClinicModel):
    """What one signed treatment session is billed for.

    The facts the coding used are copied here when the session is coded (route, infusion
    minutes net of pauses, esketamine mg, who supplied the drug, the payer's rules), so billing
    staff read them without opening the clinical record, and a later change of coverage is a
    re-coding that shows what changed. When the facts cannot be coded, `coding_problem` says
    why and the charge waits in the billing queue with no lines.
    """

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    session = models.OneToOneField(
        "treatment_sessions.TreatmentSession", on_delete=models.PROTECT, related_name="+"
    )
    date_of_service = models.DateField()
    route = models.CharField(max_length=16)
    payer_rules = models.CharField(max_length=16, choices=SessionPayerRules.choices)
    coverage = models.ForeignKey(
        Coverage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    established_patient = models.BooleanField()
    infusion_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    esketamine_mg = models.PositiveSmallIntegerField(null=True, blank=True)
    drug_supplied_by = models.CharField(max_length=16)
    ketamine_ndc = models.CharField("ketamine NDC", max_length=11, blank=True)
    rendering_provider = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Where the session was given: the claim's place of service and service facility.
    location = models.ForeignKey(
        "locations.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    coding_problem = models.CharField(max_length=300, blank=True)
    coding_warnings = models.JSONField(default=list, blank=True)
    # A self-pay package this session is priced from, and which of its sessions it is.
    package_purchase = models.ForeignKey(
        PackagePurchase, null=True, blank=True, on_delete=models.PROTECT, related_name="charges"
    )
    package_session = models.PositiveSmallIntegerField(null=True, blank=True)
    coded_at = models.DateTimeField()
    coded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-date_of_service", "-id"]
        indexes = [models.Index(fields=["patient", "-date_of_service"], name="charge_patient_dos")]
        constraints = [
            # Each of a package's sessions is used once (two sessions coded at once cannot
            # both take the third).
            models.UniqueConstraint(
                fields=["package_purchase", "package_session"],
                name="charge_package_session_once",
            ),
            models.CheckConstraint(
                condition=Q(package_purchase__isnull=True, package_session__isnull=True)
                | Q(package_purchase__isnull=False, package_session__gte=1),
                name="charge_package_session_numbered",
            ),
        ]


class VisitCode(EnteredInErrorMixin, ClinicModel):
    """A clinician's code for the same session (E/M, diagnostic evaluation, psychotherapy),
    with the minutes documented; psychotherapy's code follows from its minutes [P17]."""

    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="visit_codes")
    code = models.CharField(max_length=5)
    minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge", "code"],
                condition=Q(entered_in_error_at__isnull=True),
                name="visit_code_once_per_charge",
            ),
        ]


class ChargeLine(EnteredInErrorMixin, ClinicModel):
    """One line of a charge (box 24 of a claim). Never edited: re-coding marks the lines it
    replaces entered in error, with the reason, and adds new ones. Money in whole cents; no
    price on file leaves the amount empty and the charge in the queue."""

    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="lines")
    position = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=5)
    units = models.PositiveIntegerField()
    modifiers = models.CharField(max_length=11, blank=True)  # up to four, comma-separated
    ndc = models.CharField("NDC", max_length=11, blank=True)
    visit_code = models.ForeignKey(
        VisitCode, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unit_price_cents = models.PositiveIntegerField(null=True, blank=True)
    amount_cents = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["charge", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(units__gte=1), name="charge_line_units_positive"),
            models.CheckConstraint(
                condition=Q(amount_cents__isnull=True) | Q(unit_price_cents__isnull=False),
                name="charge_line_amount_has_price",
            ),
        ]

    @property
    def modifier_list(self) -> list[str]:
        return [m for m in self.modifiers.split(",") if m]


# --------------------------------------------------------------------------- prior authorization


class Evidence(models.TextChoices):
    """Where in the record a payer's criterion is documented (docs/clinical/billing.md §4)."""

    AGE_ADULT = "age_adult", "The patient is 18 or older"
    DIAGNOSIS = "diagnosis", "A primary diagnosis on the problem list"
    FAILED_TRIALS = "failed_trials", "Failed adequate antidepressant trials, current episode"
    TREATMENT_RESISTANT = "treatment_resistant", "Treatment-resistant in the signed decision"
    BASELINE_PHQ9 = "baseline_phq9", "A PHQ-9 at or above the threshold"
    BASELINE_MADRS = "baseline_madrs", "A MADRS at or above the threshold"
    REMS_ENROLLED = "rems_enrolled", "The patient is enrolled in the Spravato REMS"
    PRESCRIBER_NPI = "prescriber_npi", "The prescriber's NPI is on file"
    MANUAL = "manual", "Checked by hand (not held in KetaCare)"


class PayerCriterion(ClinicModel):
    """One line of a payer's prior-authorization checklist, as the clinic reads the payer's
    policy: its words, and where KetaCare looks for it. `threshold` is the number the payer
    names (2 trials; PHQ-9 15; MADRS 28), never a default of ours."""

    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="criteria")
    text = models.CharField(max_length=300)
    evidence = models.CharField(max_length=24, choices=Evidence.choices)
    threshold = models.PositiveSmallIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["payer", "id"]


class PriorAuthStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"
    APPEALED = "appealed", "Appealed"


class PriorAuthorization(ClinicModel):
    """A request to a payer to cover a course of treatment, and its answer.

    Prefilled from the record when drafted (`packet`: the facts as they stood, kept so the
    packet sent is the packet shown); the status moves draft → submitted → approved or denied,
    a denial may be appealed; every move is a row of `changes`. An approval names its number,
    how many sessions and which dates; signed sessions of the route inside the dates use it up.
    """

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    coverage = models.ForeignKey(Coverage, on_delete=models.PROTECT, related_name="+")
    route = models.CharField(max_length=16)
    diagnosis = models.ForeignKey(
        Diagnosis, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    prescriber = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=16, choices=PriorAuthStatus.choices, default=PriorAuthStatus.DRAFT
    )
    packet = models.JSONField(default=dict)
    manual_checks = models.JSONField(default=dict, blank=True)
    authorization_number = models.CharField(max_length=50, blank=True)
    approved_sessions = models.PositiveSmallIntegerField(null=True, blank=True)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="approved")
                | (
                    ~Q(authorization_number="")
                    & Q(approved_sessions__gte=1)
                    & Q(starts_on__isnull=False)
                    & Q(ends_on__isnull=False)
                ),
                name="prior_auth_approval_is_complete",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True)
                | Q(starts_on__isnull=True)
                | Q(ends_on__gte=models.F("starts_on")),
                name="prior_auth_ends_after_it_starts",
            ),
        ]
        indexes = [models.Index(fields=["status", "ends_on"], name="prior_auth_status_ends")]


class PriorAuthorizationChange(ClinicModel):
    """One move of a prior authorization's status: who, when, and what the payer said."""

    authorization = models.ForeignKey(
        PriorAuthorization, on_delete=models.PROTECT, related_name="changes"
    )
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, choices=PriorAuthStatus.choices)
    note = models.CharField(max_length=500, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]


# --------------------------------------------------------------------------- claims


class ClaimStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    READY = "ready", "Ready to export"
    EXPORTED = "exported", "Exported"
    ACCEPTED = "accepted", "Accepted by the payer"
    REJECTED = "rejected", "Rejected"
    PAID = "paid", "Paid"
    DENIED = "denied", "Denied"
    APPEALED = "appealed", "Appealed"
    WRITTEN_OFF = "written_off", "Written off"


class ClaimBatch(ClinicModel):
    """One 837P file sent to the clearinghouse: its content as sent, never changed."""

    control_number = models.PositiveIntegerField(unique=True)
    content = models.TextField()
    sha256 = models.CharField(max_length=64)
    claim_count = models.PositiveSmallIntegerField()
    production = models.BooleanField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]


class Claim(ClinicModel):
    """A CMS-1500-shaped claim for one charge (one encounter) to the patient's payer.

    `data` is the claim as plain data (claim_data.Claim, serialised): rebuilt from the record
    while the claim is a draft or ready, frozen once exported, so what was sent stays what is
    shown. `problems` are the checks that stop it being ready (claim_rules.py). The status
    moves as the clearinghouse and the payer answer; every move is a `ClaimStatusChange`."""

    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="claims")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    coverage = models.ForeignKey(Coverage, on_delete=models.PROTECT, related_name="+")
    prior_authorization = models.ForeignKey(
        PriorAuthorization, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    claim_number = models.CharField(max_length=20, unique=True)
    frequency_code = models.CharField(max_length=1, default="1")
    status = models.CharField(max_length=16, choices=ClaimStatus.choices, default=ClaimStatus.DRAFT)
    data = models.JSONField(default=dict)
    problems = models.JSONField(default=list, blank=True)
    total_cents = models.PositiveIntegerField(default=0)
    batch = models.ForeignKey(
        ClaimBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="claims"
    )
    payer_claim_number = models.CharField(max_length=50, blank=True)
    # A replacement (frequency 7) or void (8) names the claim it corrects; box 22 carries
    # that claim's payer claim number [P29].
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(frequency_code="1", replaces__isnull=True)
                | Q(frequency_code__in=("7", "8"), replaces__isnull=False),
                name="claim_correction_names_its_original",
            ),
            # One original claim per charge (a replacement or void is frequency 7 or 8).
            models.UniqueConstraint(
                fields=["charge"], condition=Q(frequency_code="1"), name="claim_one_original"
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="claim_status_created")]


class ClaimStatusChange(ClinicModel):
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="changes")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, choices=ClaimStatus.choices)
    note = models.CharField(max_length=500, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]


class Remittance(ClinicModel):
    """An 835 remittance file as imported, kept as received, with what was posted from it
    (`results`: one row per claim in it, matched or left for billing by hand). A file is
    imported once: its SHA-256 is unique."""

    content = models.TextField()
    content_sha256 = models.CharField(max_length=64, unique=True)
    payer_name = models.CharField(max_length=120, blank=True)
    trace_number = models.CharField(max_length=60, blank=True)
    paid_cents = models.IntegerField()
    paid_on = models.DateField()
    results = models.JSONField(default=list)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    @property
    def claims_paid_cents(self) -> int:
        return sum(row.get("paid_cents", 0) for row in self.results)

    @property
    def unexplained_cents(self) -> int:
        """The payment's total less what its claims were paid: provider-level adjustments
        (PLB: interest, recoupments, levies), which are not posted per claim."""
        return self.paid_cents - self.claims_paid_cents

    @property
    def unexplained_size_cents(self) -> int:
        return abs(self.unexplained_cents)


# --------------------------------------------------------------------------- payments


class PaymentSource(models.TextChoices):
    PATIENT = "patient", "Patient"
    INSURER = "insurer", "Insurer"
    ADJUSTMENT = "adjustment", "Adjustment (write-off)"


class PaymentMethod(models.TextChoices):
    CASH = "cash", "Cash"
    CARD_TERMINAL = "card_terminal", "Card, at the terminal"
    CHECK = "check", "Check"
    EFT = "eft", "Electronic transfer"
    NONE = "none", "None (an adjustment)"


class Payment(EnteredInErrorMixin, ClinicModel):
    """Money received for a patient's charges, or an adjustment that lowers what is owed. No
    card data is stored: a card payment keeps the terminal's reference only. A mistaken entry
    is marked entered in error, never deleted. Cents, always positive."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    charge = models.ForeignKey(
        Charge, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    claim = models.ForeignKey(
        Claim, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    source = models.CharField(max_length=16, choices=PaymentSource.choices)
    method = models.CharField(max_length=16, choices=PaymentMethod.choices)
    amount_cents = models.PositiveIntegerField()
    received_on = models.DateField()
    reference = models.CharField(max_length=60, blank=True)
    note = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-received_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_cents__gte=1), name="payment_positive"),
        ]
        indexes = [models.Index(fields=["patient", "-received_on"], name="payment_patient_day")]
