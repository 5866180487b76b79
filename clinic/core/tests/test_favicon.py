"""The favicon: /favicon.ico answers (never a 404) with the clinic's own icon, and every base
template links it."""

from __future__ import annotations

import io

import pytest
from django.contrib.staticfiles import finders
from PIL import Image

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["get", "head"])
def test_favicon_ico_answers_with_the_static_icon(client, method):
    response = getattr(client, method)("/favicon.ico")

    assert response.status_code == 302
    assert response.headers["Location"] == "/static/core/favicon.ico"
    assert "max-age=86400" in response.headers["Cache-Control"]


def test_favicon_ico_only_answers_reads(client):
    assert client.post("/favicon.ico").status_code == 405


def test_the_icon_files_are_a_real_icon_and_an_svg():
    ico = finders.find("core/favicon.ico")
    svg = finders.find("core/favicon.svg")
    assert ico and svg
    with open(ico, "rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
        assert image.format == "ICO"
        assert {(16, 16), (32, 32)} <= set(image.info["sizes"])
    with open(svg, encoding="utf-8") as handle:
        assert handle.read().startswith("<svg ")


@pytest.mark.parametrize(
    "url",
    [
        "/",  # the public site, for an anonymous visitor
        "/accounts/login/",  # the staff base template
        "/portal/password-reset/",  # the portal's base template
    ],
)
def test_every_base_template_links_the_icon(client, url):
    html = client.get(url).content.decode()

    assert '<link rel="icon" href="/static/core/favicon.svg" type="image/svg+xml">' in html
    assert '<link rel="icon" href="/static/core/favicon.ico" sizes="16x16 32x32 48x48">' in html
