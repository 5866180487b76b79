"""The patient chart is built from parts that later stages of care contribute.

`patients` must not import the apps that come after it (imports point one way), so each app
registers, in its AppConfig.ready(), a function giving header alerts and/or a chart section.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ChartAlert:
    level: str  # danger, warning, info
    text: str
    url: str = ""


@dataclass(frozen=True)
class ChartSection:
    order: int
    template: str
    # (actor, patient, clinical: bool) -> context dict, or None to leave the section out.
    context: Callable[..., dict[str, Any] | None]


_alert_providers: list[Callable[..., list[ChartAlert]]] = []
_sections: list[ChartSection] = []


def register_alert_provider(provider: Callable[..., list[ChartAlert]]) -> None:
    """`provider(actor=..., patient=..., clinical=...)` returns alerts for the chart header."""
    if provider not in _alert_providers:
        _alert_providers.append(provider)


def register_section(section: ChartSection) -> None:
    if section not in _sections:
        _sections.append(section)
        _sections.sort(key=lambda s: s.order)


def extra_alerts(*, actor, patient, clinical: bool) -> list[ChartAlert]:
    return [a for p in _alert_providers for a in p(actor=actor, patient=patient, clinical=clinical)]


def extra_sections(*, actor, patient, clinical: bool) -> list[tuple[str, dict[str, Any]]]:
    rendered = []
    for section in _sections:
        context = section.context(actor=actor, patient=patient, clinical=clinical)
        if context is not None:
            rendered.append((section.template, context))
    return rendered


def read_once_per_chart[T](patient, key: str, read: Callable[[], T]) -> T:
    """What a header alert and a section of the same app both show (the latest eligibility
    decision and intake), read once per chart view. Kept on the patient object the view
    loaded for this request, so it lives exactly as long as the request."""
    memo = patient.__dict__.setdefault("_read_once_per_chart", {})
    if key not in memo:
        memo[key] = read()
    return memo[key]
