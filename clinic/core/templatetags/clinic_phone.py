"""`{{ text|link_clinic_phone }}`: a message from a service that names the clinic's number (see
clinic.core.clinic_phone.call_the_clinic), with that number as a tel: link. The text itself is
escaped as usual."""

from __future__ import annotations

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from clinic.core.clinic_phone import clinic_phone

register = template.Library()


@register.filter
def link_clinic_phone(text) -> str:
    escaped = str(conditional_escape(text))
    phone = clinic_phone()
    if phone is None:
        return mark_safe(escaped)  # noqa: S308 (escaped just above)
    shown = str(conditional_escape(phone.shown))
    link = format_html('<a href="tel:{}" class="clinic-phone">{}</a>', phone.tel, phone.shown)
    return mark_safe(escaped.replace(shown, str(link)))  # noqa: S308 (both parts escaped)
