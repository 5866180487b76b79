"""`date` and `time` filters safe for any stored value (a template builtin: config/settings.py).

Django's own filters convert an aware datetime to local time before formatting, and a year-1 or
year-9999 instant overflows in that conversion: one odd row would answer 500 on every page
that shows it. These convert through clinic.core.dates.showable first, then format as Django
does."""

from __future__ import annotations

import datetime
from typing import Any

from django import template
from django.template import defaultfilters

from clinic.core.dates import showable

register = template.Library()


@register.filter(expects_localtime=False, is_safe=False)
def date(value: Any, arg: str | None = None) -> str:
    if isinstance(value, datetime.datetime):
        value = showable(value)
    return defaultfilters.date(value, arg)


@register.filter(expects_localtime=False, is_safe=False)
def time(value: Any, arg: str | None = None) -> str:
    if isinstance(value, datetime.datetime):
        value = showable(value)
    return defaultfilters.time(value, arg)
