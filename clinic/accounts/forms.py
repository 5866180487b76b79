from django import forms
from django.contrib.auth.forms import AuthenticationForm

from clinic.core.forms import TextField


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
