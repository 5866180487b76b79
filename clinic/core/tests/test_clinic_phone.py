"""The clinic's telephone number (CLINIC_PHONE): read from the environment, refused at start-up
when it is not a number, offered to templates and messages, and never printed empty."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.template import Context, Template

from clinic.core.clinic_phone import ClinicPhone, call_the_clinic, clinic_phone

ROOT = Path(__file__).resolve().parents[3]


def test_a_number_is_shown_as_written_and_dialled_by_its_digits(settings):
    settings.CLINIC_PHONE = "(212) 555-0142"

    assert clinic_phone() == ClinicPhone(shown="(212) 555-0142", tel="2125550142")
    assert call_the_clinic() == "call the clinic on (212) 555-0142"


def test_an_international_number_keeps_its_plus(settings):
    settings.CLINIC_PHONE = "+1 212 555 0142"

    assert clinic_phone() == ClinicPhone(shown="+1 212 555 0142", tel="+12125550142")


@pytest.mark.parametrize("unset", ["", "   "])
def test_without_a_number_the_words_name_no_number(settings, unset):
    settings.CLINIC_PHONE = unset

    assert clinic_phone() is None
    assert call_the_clinic() == "call the clinic"


def _render(text: str, **context) -> str:
    return Template(text).render(Context(context))


def test_the_page_snippet_is_a_tel_link_or_plain_words(settings):
    snippet = 'Please {% include "core/_call_the_clinic.html" %}.'
    settings.CLINIC_PHONE = "(212) 555-0142"

    shown = _render(snippet, clinic_phone=clinic_phone())

    assert shown == (
        'Please call the clinic on <a href="tel:2125550142" class="clinic-phone">'
        "(212) 555-0142</a>."
    )
    assert _render(snippet, clinic_phone=None) == "Please call the clinic."


def test_a_message_naming_the_number_gets_it_as_a_link_and_stays_escaped(settings):
    settings.CLINIC_PHONE = "(212) 555-0142"
    message = f"<b>Logged</b>: please {call_the_clinic()}."

    shown = _render("{% load clinic_phone %}{{ message|link_clinic_phone }}", message=message)

    assert shown == (
        "&lt;b&gt;Logged&lt;/b&gt;: please call the clinic on "
        '<a href="tel:2125550142" class="clinic-phone">(212) 555-0142</a>.'
    )
    settings.CLINIC_PHONE = ""
    assert _render(
        "{% load clinic_phone %}{{ message|link_clinic_phone }}", message="<i>x</i>"
    ) == ("&lt;i&gt;x&lt;/i&gt;")


def test_every_page_gets_the_number_from_the_context_processor(client, settings):
    settings.CLINIC_PHONE = "(212) 555-0142"

    response = client.get("/accounts/login/")

    assert response.context["clinic_phone"] == ClinicPhone("(212) 555-0142", "2125550142")


@pytest.mark.parametrize("bad", ["call us", "12", "555-0142 ext. 7", "+1 (212) 555-0142-0000-1"])
def test_start_up_refuses_a_value_that_is_not_a_telephone_number(tmp_path, bad):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(DEBUG="1", KETACARE_VAR_DIR=str(tmp_path), CLINIC_PHONE=bad)
    result = subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "CLINIC_PHONE must be a telephone number" in result.stderr
