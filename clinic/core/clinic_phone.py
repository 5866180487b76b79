"""The clinic's telephone number (settings.CLINIC_PHONE), for every place a patient is told to
call: pages show it as a tel: link (the `clinic_phone` template variable and
core/_call_the_clinic.html), e-mail and messages as text (`call_the_clinic`).

When the clinic has not set it, the wording stays "call the clinic": a patient is never shown
an empty or made-up number.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class ClinicPhone:
    shown: str  # as the clinic writes it: "(212) 555-0142"
    tel: str  # for a tel: link: the digits, with the leading + when the clinic gave one

    def __str__(self) -> str:
        return self.shown


def clinic_phone() -> ClinicPhone | None:
    shown = (getattr(settings, "CLINIC_PHONE", "") or "").strip()
    digits = "".join(ch for ch in shown if ch.isdigit())
    if not digits:
        return None
    return ClinicPhone(shown=shown, tel=("+" if shown.startswith("+") else "") + digits)


def call_the_clinic() -> str:
    """ "call the clinic on (212) 555-0142", or "call the clinic" when no number is set."""
    phone = clinic_phone()
    return f"call the clinic on {phone.shown}" if phone else "call the clinic"
