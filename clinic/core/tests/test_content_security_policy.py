"""Issue 13, defect 10: every response carries a strict Content-Security-Policy, and no
template needs anything it forbids (an inline script, an inline style, an inline event
handler, an htmx trigger filter, which htmx runs through eval).

The browser tests enforce the same policy on every page they open (tests/e2e/conftest.py fails
a test whose page the policy refused something on); this module checks the header itself and
guards the templates, so a new page cannot quietly need 'unsafe-inline'.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CLINIC = Path(__file__).resolve().parents[2]


def _directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/portal/", "/api/v1/openapi.json"])
def test_every_response_allows_only_our_own_origin(client, path):
    response = client.get(path)
    policy = _directives(response.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    header = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in header
    assert "unsafe-eval" not in header
    assert "http:" not in header and "https:" not in header and "*" not in header


def _templates() -> list[Path]:
    return sorted(CLINIC.rglob("templates/**/*.html"))


_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
_INLINE_STYLE = re.compile(r"<style\b|\sstyle=", re.IGNORECASE)
_EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
# An htmx trigger filter (`hx-trigger="event[condition]"`) or a `js:` value is evaluated with
# eval, which the policy forbids.
_HTMX_EVAL = re.compile(r"""hx-trigger=["'][^"']*\[|hx-vals=["']\s*js:|hx-on""", re.IGNORECASE)


@pytest.mark.parametrize(
    ("what", "pattern"),
    [
        ("an inline <script>", _INLINE_SCRIPT),
        ("an inline style", _INLINE_STYLE),
        ("an inline event handler", _EVENT_HANDLER),
        ("an htmx attribute evaluated with eval", _HTMX_EVAL),
    ],
)
def test_no_template_needs_what_the_policy_forbids(what, pattern):
    offenders = [
        f"{path.relative_to(CLINIC)}: {match.group(0).strip()}"
        for path in _templates()
        # JSON data blocks are not scripts: the browser never runs them.
        for match in pattern.finditer(path.read_text(encoding="utf-8"))
        if 'type="application/json"' not in match.group(0)
    ]
    assert _templates(), "no templates found"
    assert offenders == [], f"{what} in: " + "; ".join(offenders)


def test_the_course_chart_carries_no_inline_style():
    from clinic.outcomes import charts

    source = Path(charts.__file__).read_text(encoding="utf-8")
    assert "style=" not in source
