"""Money on billing pages: stored in whole cents, shown in dollars ("$1,234.50")."""

from __future__ import annotations

from django import template

from clinic.billing import prior_auth as prior_auth_dates

register = template.Library()


@register.filter
def dollars(cents: int | None) -> str:
    if cents is None:
        return "—"
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(int(cents)), 100)
    return f"{sign}${whole:,}.{part:02d}"


@register.filter
def us_date(iso: str | None) -> str:
    """An ISO date kept in a prior-authorization packet, printed MM/DD/YYYY."""
    return prior_auth_dates.us_date(iso)
