from __future__ import annotations

from decimal import Decimal

from django import forms

from clinic.billing.models import (
    Charge,
    Coverage,
    CoveragePriority,
    EligibilityMethod,
    EligibilityResult,
    Evidence,
    InsurancePlan,
    PackageOffer,
    PayerKind,
    PaymentMethod,
    PaymentSource,
    SessionCoding,
    SubscriberRelationship,
)
from clinic.billing.selectors_reports import GROUPS as REPORT_GROUPS
from clinic.billing.selectors_reports import KINDS as REPORT_KINDS
from clinic.billing.session_codes import BILLABLE_CODES
from clinic.core.forms import DateInput, PlausibleDateField, TextField
from clinic.locations.models import Location


class DiagnosisForm(forms.Form):
    icd10_code = TextField(
        label="ICD-10-CM code",
        max_length=10,
        help_text="A billable code, e.g. F33.1. Find one by words below, or use a suggestion.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    onset_date = PlausibleDateField(label="Onset", required=False, widget=DateInput())
    primary = forms.BooleanField(
        label="Primary diagnosis for treatment (claims list it first)", required=False
    )
    note = TextField(label="Note", required=False, max_length=300)


class ResolveForm(forms.Form):
    resolved_on = PlausibleDateField(label="Resolved on", widget=DateInput())


class EnteredInErrorForm(forms.Form):
    reason = TextField(max_length=300, label="Why is this entry wrong?")


# --------------------------------------------------------------------------- coverage


class PayerForm(forms.Form):
    name = TextField(label="Payer's name", max_length=120)
    payer_id = TextField(
        label="Electronic payer ID",
        max_length=15,
        required=False,
        help_text="As the clearinghouse lists it (2 to 15 letters and digits).",
    )
    kind = forms.ChoiceField(choices=PayerKind.choices)


class PayerEditForm(PayerForm):
    session_coding = forms.ChoiceField(
        label="Session coding",
        choices=SessionCoding.choices,
        help_text=(
            "Which codes a treatment session's charge uses for this payer's patients. Some "
            "Medicare Advantage and Medicaid plans take Medicare's G-codes: check the plan's "
            "policy."
        ),
    )
    is_active = forms.BooleanField(
        label="Billed (switch off a payer no longer used)", required=False
    )


class PlanForm(forms.Form):
    plan_name = TextField(label="New plan", max_length=120)


class PlanChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.payer.name} — {obj.name}"


def _money(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=Decimal("0"),
        max_digits=9,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )


def cents(value: Decimal | None) -> int | None:
    """Dollars as typed ("25" or "25.50") to whole cents."""
    return None if value is None else int((value * 100).to_integral_value())


class CoverageForm(forms.Form):
    plan = PlanChoiceField(queryset=InsurancePlan.objects.none(), empty_label="Choose a plan")
    priority = forms.ChoiceField(choices=CoveragePriority.choices)
    member_id = TextField(label="Member ID", max_length=40)
    group_number = TextField(label="Group number", max_length=40, required=False)
    subscriber_relationship = forms.ChoiceField(
        label="Patient's relationship to the subscriber",
        choices=SubscriberRelationship.choices,
        initial=SubscriberRelationship.SELF,
    )
    subscriber_name = TextField(
        label="Subscriber's name",
        max_length=150,
        required=False,
        help_text="Only when the subscriber is not the patient.",
    )
    subscriber_date_of_birth = PlausibleDateField(
        label="Subscriber's date of birth", required=False, widget=DateInput()
    )
    starts_on = PlausibleDateField(
        label="Effective from", required=False, widget=DateInput(), days_ahead="booking_days_ahead"
    )
    ends_on = PlausibleDateField(
        label="Last day (if the card shows one)",
        required=False,
        widget=DateInput(),
        days_ahead="booking_days_ahead",
    )

    def __init__(self, *args, plans=(), **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["plan"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = InsurancePlan.objects.filter(pk__in=[p.pk for p in plans]).select_related(
            "payer"
        )


class EndCoverageForm(forms.Form):
    ends_on = PlausibleDateField(
        label="Last day", widget=DateInput(), days_ahead="booking_days_ahead"
    )


class EligibilityForm(forms.Form):
    method = forms.ChoiceField(label="Checked by", choices=EligibilityMethod.choices)
    result = forms.ChoiceField(label="Payer's answer", choices=EligibilityResult.choices)
    copay = _money("Copay ($)")
    coinsurance_percent = forms.IntegerField(
        label="Coinsurance (%)", required=False, min_value=0, max_value=100
    )
    deductible = _money("Deductible ($)")
    deductible_remaining = _money("Deductible remaining ($)")
    reference_number = TextField(label="Call or reference number", max_length=60, required=False)
    note = TextField(label="Note", max_length=300, required=False)


# --------------------------------------------------------------------------- charges


class FeeForm(forms.Form):
    code = forms.ChoiceField(choices=())
    price = forms.DecimalField(
        label="Price ($)",
        min_value=Decimal("0"),
        max_digits=9,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        help_text="Per unit: J0013 per mg, +96366 per added hour.",
    )
    effective_on = PlausibleDateField(label="In force from", days_ahead=366, widget=DateInput())
    note = TextField(max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = [("", "Choose a code")] + [
            (code, code) for code in sorted(BILLABLE_CODES)
        ]


VISIT_KIND_CHOICES = [
    ("e_m", "Office E/M visit"),
    ("evaluation", "Psychiatric diagnostic evaluation"),
    ("psychotherapy", "Psychotherapy (coded from its minutes)"),
]
VISIT_CODE_CHOICES = [
    ("", "— (psychotherapy: leave empty)"),
    ("E/M, new patient", [(c, c) for c in ("99202", "99203", "99204", "99205")]),
    ("E/M, established patient", [(c, c) for c in ("99211", "99212", "99213", "99214", "99215")]),
    (
        "Diagnostic evaluation",
        [("90791", "90791 (no medical services)"), ("90792", "90792 (with medical services)")],
    ),
]


class VisitCodeForm(forms.Form):
    kind = forms.ChoiceField(choices=VISIT_KIND_CHOICES, label="What was done")
    code = forms.ChoiceField(
        label="E/M or evaluation code", choices=VISIT_CODE_CHOICES, required=False
    )
    minutes = forms.IntegerField(
        label="Minutes documented",
        required=False,
        min_value=1,
        max_value=480,
        help_text="Psychotherapy: its own minutes only, not the E/M's or the whole visit's.",
    )


class RecodeForm(forms.Form):
    reason = TextField(max_length=200, label="Why code it again?")


# --------------------------------------------------------------------------- prior authorization


class CoverageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.plan.payer.name} — {obj.plan.name} ({obj.get_priority_display().lower()})"


class PriorAuthForm(forms.Form):
    coverage = CoverageChoiceField(queryset=Coverage.objects.none(), empty_label="Choose")
    route = forms.ChoiceField(
        choices=[
            ("esketamine", "Esketamine nasal spray"),
            ("iv", "IV ketamine"),
            ("im", "IM ketamine"),
        ]
    )

    def __init__(self, *args, coverages=(), **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["coverage"]
        field.queryset = Coverage.objects.filter(pk__in=[c.pk for c in coverages]).select_related(
            "plan__payer"
        )


class ApprovalForm(forms.Form):
    authorization_number = TextField(label="Authorization number", max_length=50)
    approved_sessions = forms.IntegerField(label="Sessions approved", min_value=1, max_value=200)
    starts_on = PlausibleDateField(label="First day", days_ahead=732, widget=DateInput())
    ends_on = PlausibleDateField(label="Last day", days_ahead=732, widget=DateInput())
    note = TextField(max_length=500, required=False)


class PayerNoteForm(forms.Form):
    note = TextField(max_length=500, label="What the payer said, or what was sent")


class CriterionForm(forms.Form):
    text = TextField(max_length=300, label="Criterion, as the payer's policy puts it")
    evidence = forms.ChoiceField(choices=Evidence.choices, label="Where the record shows it")
    threshold = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=60,
        label="The payer's number",
        help_text="For trials (how many) and scores (the least total), as the policy says.",
    )


# --------------------------------------------------------------------------- payments


class ChargeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"Session of {obj.date_of_service:%m/%d/%Y}"


class PaymentForm(forms.Form):
    source = forms.ChoiceField(choices=PaymentSource.choices, label="From")
    method = forms.ChoiceField(choices=PaymentMethod.choices, label="How")
    amount = forms.DecimalField(
        label="Amount ($)",
        min_value=Decimal("0.01"),
        max_digits=9,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    received_on = PlausibleDateField(label="Received on", widget=DateInput())
    charge = ChargeChoiceField(
        queryset=Charge.objects.none(),
        required=False,
        empty_label="The account as a whole",
        label="For",
    )
    reference = TextField(
        max_length=60,
        required=False,
        label="Reference",
        help_text="The card terminal's reference, the check number or the transfer's trace. "
        "Never a card number.",
    )
    note = TextField(max_length=300, required=False)

    def __init__(self, *args, charges=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["charge"].queryset = Charge.objects.filter(pk__in=[c.pk for c in charges])


class ReportForm(forms.Form):
    """What a billing report covers. Read from the query string: a report is a read."""

    report = forms.ChoiceField(choices=list(REPORT_KINDS.items()), initial="charges")
    group = forms.ChoiceField(
        choices=list(REPORT_GROUPS.items()), initial="payer", label="By", required=False
    )
    date_from = PlausibleDateField(required=False, label="From", widget=DateInput())
    date_to = PlausibleDateField(required=False, label="To", widget=DateInput())
    as_of = PlausibleDateField(
        required=False, label="As of", widget=DateInput(), help_text="Aging only; today if empty."
    )
    location = forms.ModelChoiceField(
        queryset=Location.objects.order_by("name"),
        required=False,
        empty_label="Every location",
        to_field_name="uuid",
    )

    def clean(self):
        data = super().clean()
        data["group"] = data.get("group") or "payer"
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The last day comes before the first.")
        return data


PACKAGE_ROUTE_CHOICES = [
    ("iv", "IV infusion"),
    ("im", "IM injection"),
    ("esketamine", "Esketamine"),
]


class PackageOfferForm(forms.Form):
    name = TextField(
        max_length=120, help_text="As the patient sees it: “IV induction, six infusions”."
    )
    route = forms.ChoiceField(choices=[("", "Choose a route"), *PACKAGE_ROUTE_CHOICES])
    sessions = forms.IntegerField(min_value=1, max_value=52, label="Sessions included")
    price = forms.DecimalField(
        label="Package price ($)",
        min_value=Decimal("0.01"),
        max_digits=9,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )


class PackageSaleForm(forms.Form):
    offer = forms.ModelChoiceField(
        queryset=PackageOffer.objects.none(),
        empty_label="Choose a package",
        label="Package",
        to_field_name="uuid",
    )
    purchased_on = PlausibleDateField(label="Sold on", widget=DateInput())
    note = TextField(max_length=300, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["offer"].queryset = PackageOffer.objects.filter(active=True).order_by("name")
        self.fields["offer"].label_from_instance = lambda offer: (
            f"{offer.name} — {offer.sessions} sessions, ${offer.price_cents / 100:,.2f}"
        )
