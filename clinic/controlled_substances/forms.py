from __future__ import annotations

import datetime
from decimal import Decimal

from django import forms
from django.contrib.auth import authenticate
from django.utils import timezone

from clinic.controlled_substances import selectors
from clinic.controlled_substances.choices import (
    BusinessTime,
    CountKind,
    EntryKind,
    LossKind,
    ProductKind,
)
from clinic.controlled_substances.models import MG_DECIMAL_PLACES, MG_DIGITS, Product
from clinic.core.forms import DateInput, PlausibleDateField, TextField
from clinic.locations.models import Location


def mg_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DecimalField:
    """An amount as the ledger stores it (mg, or mL for a vial's volume): to three places, and
    more than zero."""
    return forms.DecimalField(
        label=label,
        required=required,
        help_text=help_text,
        max_digits=MG_DIGITS,
        decimal_places=MG_DECIMAL_PLACES,
        min_value=Decimal("0.001"),
    )


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%H:%M")


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return f"{user.display_name} ({user.get_role_display()})"


def _moment(day: datetime.date | None, clock: datetime.time | None):
    """An aware moment in the clinic's time zone from a date and a time; None (now) if blank."""
    if day is None:
        return None
    return timezone.make_aware(datetime.datetime.combine(day, clock or datetime.time(0)))


class WitnessMixin:
    """A witness chosen from active licensed staff other than the actor, who confirms with
    their own password (checked through the sign-in backends, so lockouts apply)."""

    witness_required = False

    def _witness_fields(self, *, actor, request, location=None):
        """With `location`, only those who work there are offered (the services check it)."""
        self.request = request
        self.fields["witness"] = PersonChoiceField(
            queryset=selectors.witness_candidates(actor=actor, location=location),
            to_field_name="uuid",
            required=self.witness_required,
            empty_label="Choose the witness…",
        )
        self.fields["witness_password"] = forms.CharField(
            label="Witness's password",
            required=False,
            strip=False,
            widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
            help_text="The witness types their own password to confirm.",
        )

    def _check_witness(self, data):
        witness = data.get("witness")
        if witness is None:
            return
        password = data.get("witness_password") or ""
        if not password:
            self.add_error("witness_password", "The witness must confirm with their password.")
            return
        confirmed = authenticate(self.request, username=witness.username, password=password)
        if confirmed is None or confirmed.pk != witness.pk:
            self.add_error("witness_password", "The witness's password is not right.")


class ProductForm(forms.Form):
    name = TextField(max_length=120)
    kind = forms.ChoiceField(choices=ProductKind.choices)
    strength_mg_per_ml = mg_field(
        "Strength (mg/mL)", required=False, help_text="Vials: from the label."
    )
    volume_ml = mg_field("Volume (mL)", required=False, help_text="Vials: from the label.")
    mg_per_device = mg_field(
        "Esketamine per device (mg)",
        required=False,
        help_text="Devices: from the label (28 mg per device for Spravato [C1], [C2]).",
    )
    ndc = TextField(label="NDC", max_length=20, required=False)


class ReceiptForm(WitnessMixin, forms.Form):
    product = forms.ModelChoiceField(
        queryset=Product.objects.filter(active=True), to_field_name="uuid"
    )
    lot_number = TextField(max_length=40)
    expiry = PlausibleDateField(days_ahead="expiry_days_ahead", widget=DateInput())
    containers = forms.IntegerField(
        label="Containers received (vials or devices)", min_value=1, max_value=999
    )
    supplier = TextField(label="Supplier's name", max_length=200)
    supplier_address = TextField(label="Supplier's address", max_length=300)
    supplier_dea_number = TextField(label="Supplier's DEA number", max_length=20)
    invoice = TextField(label="Invoice or packing-slip number", max_length=60)
    received_on = PlausibleDateField(
        label="Date received", widget=DateInput(), help_text="The actual date of receipt."
    )
    received_time = forms.TimeField(label="Time received", required=False, widget=TimeInput())

    def __init__(self, *args, actor, request, location=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._witness_fields(actor=actor, request=request, location=location)
        self.fields["witness"].help_text = "Optional: a second person who checked the delivery."

    def clean(self):
        data = super().clean()
        self._check_witness(data)
        return data

    @property
    def received_at(self):
        return _moment(self.cleaned_data.get("received_on"), self.cleaned_data.get("received_time"))


class AdministrationForm(forms.Form):
    patient_mrn = TextField(label="Patient MRN", max_length=12)
    drawn_mg = mg_field("Drawn (mg)")
    given_mg = mg_field("Given (mg)")
    session_ref = TextField(label="Session reference", max_length=64, required=False)


class WasteForm(WitnessMixin, forms.Form):
    witness_required = True
    administration = forms.ChoiceField(
        label="Waste of",
        required=False,
        help_text="The residual of a draw (no change to the container), or straight from it.",
    )
    quantity_mg = mg_field("Wasted (mg)")
    reason = TextField(max_length=300)

    def __init__(self, *args, actor, request, awaiting=(), location=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["administration"].choices = [("", "From the container itself")] + [
            (
                str(row.entry.uuid),
                f"Residual of the {timezone.localtime(row.entry.occurred_at):%m/%d %H:%M} draw "
                f"({row.residual_outstanding_mg:f} mg left to waste)",
            )
            for row in awaiting
        ]
        self._witness_fields(actor=actor, request=request, location=location)

    def clean(self):
        data = super().clean()
        self._check_witness(data)
        return data


class ReturnForm(forms.Form):
    recipient = TextField(label="Returned to (supplier or reverse distributor)", max_length=200)
    recipient_dea_number = TextField(label="Their DEA number", max_length=20)
    reason = TextField(max_length=300)


class TransferForm(forms.Form):
    """Move a sealed container to another location the actor works at (ADR 0007)."""

    to_location = forms.ModelChoiceField(
        label="To location", queryset=Location.objects.none(), to_field_name="uuid"
    )
    reason = TextField(max_length=300)

    def __init__(self, *args, actor, container, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_location"].queryset = (
            selectors.ledger_locations(actor)
            .filter(active=True)
            .exclude(pk=container.location_id)
            .order_by("name", "id")
        )


class ReasonForm(forms.Form):
    reason = TextField(max_length=300)


class CountForm(WitnessMixin, forms.Form):
    kind = forms.ChoiceField(choices=CountKind.choices, initial=CountKind.DAILY)
    taken_at = forms.ChoiceField(
        label="Taken at",
        choices=[("", "—"), *BusinessTime.choices],
        required=False,
        help_text="Initial and biennial inventories: the opening or the close of business [J7].",
    )
    note = TextField(max_length=300, required=False)

    def __init__(self, *args, actor, request, containers, location=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.containers = containers
        for container in containers:
            self.fields[self.field_name(container)] = forms.DecimalField(
                label=f"{container.label} ({container.lot.product.name}, lot "
                f"{container.lot.lot_number})",
                max_digits=MG_DIGITS,
                decimal_places=MG_DECIMAL_PLACES,
                min_value=Decimal(0),
                help_text="mg left; an open container may be estimated [J7].",
            )
        self._witness_fields(actor=actor, request=request, location=location)
        self.fields["witness"].help_text = "Optional: a second licensed person who counted too."
        # Counted blind: the book balance is not shown until the count is recorded.
        self.order_fields(
            ["kind", "taken_at", *(self.field_name(c) for c in containers), "note", "witness"]
        )

    @staticmethod
    def field_name(container) -> str:
        return f"container_{container.uuid}"

    def counted_fields(self):
        return [self[self.field_name(c)] for c in self.containers]

    def lines(self) -> dict:
        return {c: self.cleaned_data[self.field_name(c)] for c in self.containers}

    def clean(self):
        data = super().clean()
        self._check_witness(data)
        return data


class ResolveForm(forms.Form):
    reason = TextField(max_length=300)
    adjust_balance = forms.BooleanField(
        label="Bring the book balance to the count (adjustment entry)", required=False
    )


class LossReportForm(forms.Form):
    kind = forms.ChoiceField(choices=LossKind.choices)
    discovered_on = PlausibleDateField(label="Date discovered", widget=DateInput())
    discovered_time = forms.TimeField(label="Time discovered", widget=TimeInput())
    description = TextField(max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))
    product = forms.ModelChoiceField(
        queryset=Product.objects.all(), to_field_name="uuid", required=False
    )
    quantity_mg = mg_field("Quantity (mg)", required=False)

    @property
    def discovered_at(self):
        return _moment(self.cleaned_data["discovered_on"], self.cleaned_data["discovered_time"])


class DoneForm(forms.Form):
    """When the DEA was notified, or Form 106 filed; blank is now."""

    done_on = PlausibleDateField(label="Date", required=False, widget=DateInput())
    done_time = forms.TimeField(label="Time", required=False, widget=TimeInput())
    reference = TextField(label="Form 106 reference", max_length=60, required=False)

    @property
    def done_at(self):
        return _moment(self.cleaned_data.get("done_on"), self.cleaned_data.get("done_time"))


class LedgerFilterForm(forms.Form):
    date_from = PlausibleDateField(
        days_ahead="booking_days_ahead", label="From", required=False, widget=DateInput()
    )
    date_to = PlausibleDateField(
        days_ahead="booking_days_ahead", label="To", required=False, widget=DateInput()
    )
    product = forms.ModelChoiceField(
        queryset=Product.objects.all(), to_field_name="uuid", required=False
    )
    kind = forms.ChoiceField(choices=[("", "Any entry"), *EntryKind.choices], required=False)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def period(self) -> selectors.Period:
        if not self.is_valid():
            return selectors.Period()
        data = self.cleaned_data
        return selectors.Period(data.get("date_from"), data.get("date_to"), data.get("product"))
