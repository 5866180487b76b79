"""Template helpers for the public education pages: citations and plain-words durations."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join

register = template.Library()


@register.simple_tag(takes_context=True)
def cite(context, *keys: str) -> str:
    """`{% cite "A1" "A2" %}` → [1, 2], each a link to its entry in the page's Sources list.

    The page's `citations` (sources.Citations) numbers them in order of first citation; an
    unknown key fails the page, so a typo cannot cite nothing."""
    citations = context["citations"]
    links = format_html_join(
        ", ",
        '<a href="#source-{0}" aria-label="Source {0}">{0}</a>',
        ((citations.number(key),) for key in keys),
    )
    return format_html('<sup class="cite">[{}]</sup>', links)


@register.filter
def duration_words(minutes) -> str:
    """240 → "4 hours", 30 → "30 minutes", 90 → "1 hour 30 minutes"."""
    minutes = int(minutes)
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour" + ("" if hours == 1 else "s"))
    if rest or not hours:
        parts.append(f"{rest} minute" + ("" if rest == 1 else "s"))
    return " ".join(parts)
