"""Notices about a patient that an app above shows on pages below it.

A lower stage of care cannot import a higher one (the layers in pyproject.toml), yet some of
its pages must show what a higher one knows: the treatment plan and the booking page warn when
a booked session falls outside the patient's prior authorization, which billing holds. Billing
registers a provider at start-up; the plan and booking pages ask `patient_notices` and show
what comes back. Providers check the actor themselves and return nothing they may not see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Notice:
    level: str  # "info", "warning" or "danger", as the page's alert styles
    text: str
    url: str = ""


_PROVIDERS: list[Callable[..., list[Notice]]] = []


def register_patient_notices(provider: Callable[..., list[Notice]]) -> None:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def patient_notices(*, actor: Any, patient: Any) -> list[Notice]:
    notices: list[Notice] = []
    for provider in _PROVIDERS:
        notices += provider(actor=actor, patient=patient)
    return notices
