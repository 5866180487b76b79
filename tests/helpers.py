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


# Everyone a page's permission matrix tries, in the order of the root conftest's `actors`
# fixture; expected-status tables list one status per actor in this order.
ACTOR_ORDER = [
    "anonymous",
    "patient_principal",
    "clinic_admin",
    "prescriber",
    "nurse",
    "therapist",
    "front_desk",
    "billing",
    "prescriber_off_team",
    "nurse_off_team",
    "therapist_off_team",
]


def chart_html(client, patient) -> str:
    """The patient's chart page as the signed-in client sees it (must load)."""
    from django.urls import reverse

    response = client.get(reverse("patients:patient_chart", args=[patient.uuid]))
    assert response.status_code == 200
    return response.content.decode()


def path_of(url: str) -> str:
    """A URL the test client built, without its test-server origin."""
    return url.removeprefix("http://testserver")


def _pdf_streams(content: bytes) -> list[str]:
    """A PDF made by fpdf2's content streams, inflated where compressed."""
    import zlib

    assert content.startswith(b"%PDF-")
    texts = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", content, re.DOTALL):
        try:
            texts.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            texts.append(stream.decode("latin-1"))
    return texts


def text_drawn_in_pdf(content: bytes) -> str:
    """The text drawn in a PDF made by fpdf2: its content streams, inflated, with fpdf2's
    escaped parentheses put back."""
    return "\n".join(_pdf_streams(content)).replace("\\(", "(").replace("\\)", ")")


def words_drawn_in_pdf(content: bytes) -> str:
    """The strings fpdf2 drew, in drawing order (a table row left to right), joined by single
    spaces: what a reader sees, without the PDF's operators."""
    drawn = [
        re.sub(r"\\(.)", r"\1", string)
        for text in _pdf_streams(content)
        for string in re.findall(r"\(((?:\\.|[^\\)])*)\)\s*Tj", text)
    ]
    return re.sub(r"\s+", " ", " ".join(drawn))
