"""Small helpers for page tests, shared by every app's permission matrix."""

from __future__ import annotations

import re


def client_as(client, actor):
    """The test client signed in as `actor` (None stays anonymous)."""
    if actor is not None:
        client.force_login(actor)
    return client


def status_word(response):
    """A response's status, with a redirect to the sign-in page as "login"."""
    if response.status_code == 302 and "/accounts/login/" in response.headers["Location"]:
        return "login"
    return response.status_code


def without_csrf(response) -> str:
    """The page with its (per-request, masked) CSRF token blanked, for comparing two pages."""
    html = re.sub(r'"X-CSRFToken": "[^"]*"', "", response.content.decode())
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
