from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.validators import UnicodeUsernameValidator

from clinic.accounts.choices import STAFF_ROLES, Role
from clinic.core.forms import TextField, apply_text_policy
from clinic.locations.models import Location


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "That username and password do not match an active account.",
        "inactive": "This account is disabled. Ask your clinic administrator.",
    }


class SecondFactorForm(forms.Form):
    otp_token = TextField(
        label="6-digit code from your authenticator app",
        min_length=6,
        max_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]{6}"}
        ),
    )

    def clean_otp_token(self):
        token = self.cleaned_data["otp_token"].strip()
        if not token.isdigit():
            raise forms.ValidationError("Enter the six digits your app shows.")
        return token


# Roles a clinic administrator gives staff (never the patient role: patients are invited to
# the portal from their chart).
STAFF_ROLE_CHOICES = [(r.value, r.label) for r in Role if r in STAFF_ROLES]


class StaffDetailsForm(forms.Form):
    first_name = TextField(label="First name", max_length=150)
    last_name = TextField(label="Last name", max_length=150)
    email = apply_text_policy(forms.EmailField(label="E-mail address"))
    role = forms.ChoiceField(choices=STAFF_ROLE_CHOICES)
    credentials = TextField(
        max_length=40, required=False, help_text="Shown after the name, e.g. MD, NP, RN, LCSW."
    )
    npi = TextField(
        label="NPI",
        max_length=10,
        required=False,
        help_text="The clinician's own 10-digit NPI, for claims and prior authorizations.",
    )


class StaffInviteForm(StaffDetailsForm):
    username = TextField(
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text="What they type to sign in: letters, digits and @ . + - _ only.",
    )

    works_at = forms.ModelMultipleChoiceField(
        label="Works at",
        queryset=Location.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="The locations whose schedules, chair board and ledger they work with.",
    )

    field_order = [
        "username",
        "first_name",
        "last_name",
        "email",
        "role",
        "credentials",
        "npi",
        "works_at",
    ]

    def __init__(self, *args, current_location: Location | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        open_locations = Location.objects.open().order_by("-is_default", "name")
        if len(open_locations) <= 1:
            # A clinic with one location: no question to ask (they work there).
            del self.fields["works_at"]
            return
        works_at = self.fields["works_at"]
        assert isinstance(works_at, forms.ModelMultipleChoiceField)
        works_at.queryset = open_locations
        if current_location is not None:
            self.fields["works_at"].initial = [current_location.pk]
