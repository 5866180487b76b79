"""POST /api/v1/consultations (issue 16): the public consultation form as JSON. No credentials
and no CSRF token; the page's rules and messages; the page's rate limit, counted together with
the page's; an answer that says nothing but "received"; and nothing else becomes public."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from clinic.api.api import api
from clinic.screening.api_consultations import RECEIVED
from clinic.screening.models import ConsultationRequest

pytestmark = pytest.mark.django_db

URL = "/api/v1/consultations"


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


def valid(**changes):
    body = {
        "given_name": "Dana",
        "family_name": "Reyes",
        "email": "dana@example.org",
        "phone": "",
        "preferred_contact": "email",
        "seeking_help_with": "generalized_anxiety",
        "consent_to_contact": True,
    }
    body.update(changes)
    return body


def _send(client, body, address="198.51.100.20", **extra):
    return client.post(URL, body, content_type="application/json", REMOTE_ADDR=address, **extra)


def test_a_request_without_credentials_or_csrf_is_stored_and_answered_alike():
    client = Client(enforce_csrf_checks=True)
    response = _send(client, valid())
    assert response.status_code == 201, response.content
    # Only that it was received: no id, nothing the person sent.
    assert response.json() == {"status": "received", "detail": RECEIVED}
    stored = ConsultationRequest.objects.get()
    assert (stored.family_name, stored.preferred_contact) == ("Reyes", "email")
    assert str(stored.uuid) not in response.content.decode()


def test_the_pages_rules_and_messages_and_nothing_stored(client):
    response = _send(client, valid(email="", phone="(555) 010-4477"))
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "loc": ["body", "preferred_contact"],
            "msg": "You chose e-mail: please give an e-mail address.",
            "type": "invalid_input",
        }
    ]
    unknown = _send(client, valid(website="https://spam.example"))
    assert unknown.status_code == 422
    not_agreed = _send(client, valid(consent_to_contact=False))
    assert not_agreed.status_code == 422
    assert not ConsultationRequest.objects.exists()


def test_over_the_limit_429_with_retry_after_and_nothing_stored(client, settings):
    settings.CONSULTATION_RATE_LIMIT_COUNT = 3
    settings.CONSULTATION_RATE_LIMIT_WINDOW_MIN = 30
    # A refused request does not count, as on the page.
    assert _send(client, valid(email="")).status_code == 422
    for i in range(3):
        assert _send(client, valid(family_name=f"Family{i}")).status_code == 201
    refused = _send(client, valid(family_name="Family3"))
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 30 * 60
    assert "Family3" not in refused.content.decode()
    assert ConsultationRequest.objects.count() == 3
    # Another address is not held back.
    assert _send(client, valid(), address="198.51.100.21").status_code == 201


def test_the_page_and_the_api_share_one_count(client, settings):
    settings.CONSULTATION_RATE_LIMIT_COUNT = 2
    page = reverse("public_site:consultation_request")
    form = {**valid(), "consent_to_contact": "on", "website": ""}
    assert client.post(page, form, REMOTE_ADDR="198.51.100.22").status_code == 302
    assert _send(client, valid(), address="198.51.100.22").status_code == 201
    assert _send(client, valid(), address="198.51.100.22").status_code == 429
    on_the_page = client.post(page, form, REMOTE_ADDR="198.51.100.22")
    assert on_the_page.status_code == 429 and int(on_the_page["Retry-After"]) >= 1
    assert ConsultationRequest.objects.count() == 2


def test_it_cannot_be_used_to_read_anything(client):
    assert _send(client, valid()).status_code == 201
    stored = ConsultationRequest.objects.get()
    # The front desk's queue shares the path: without credentials it answers 401 and says
    # nothing about the request.
    for url in (URL, f"{URL}/{stored.uuid}"):
        refused = client.get(url)
        assert refused.status_code == 401 and refused.json()["code"] == "unauthenticated"
        assert "Reyes" not in refused.content.decode()


def _concrete(path: str) -> str:
    # Any id will do: authentication is checked before anything is looked up.
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        name = path[start + 1 : end]
        value = "phq9" if name == "code" else "5d1d8a9c-0000-4000-8000-00000000000a"
        path = path[:start] + value + path[end + 1 :]
    return path


def test_every_other_operation_still_answers_401_without_credentials(client):
    # The test client skips CSRF checks: with them, a write without a session is refused even
    # earlier (403, by the session auth's CSRF check). Either way nothing is public.
    public = []
    for bound_router in api._get_bound_routers():
        for path, path_view in bound_router.path_operations.items():
            for operation in path_view.operations:
                url = "/api/v1" + _concrete(bound_router.prefix + path)
                if operation.auth_param is None:
                    public.append(url)
                    continue
                for method in operation.methods:
                    response = client.generic(method, url, "{}", content_type="application/json")
                    assert response.status_code == 401, (method, url, response.content)
                    assert response.json()["code"] == "unauthenticated"
    assert public == [URL]
