"""GET /api/v1/patients and POST /api/v1/patients/search a cursor page at a time
(clinic/core/api_pages.py; issue 16): by family then given name, each patient once even while
patients are registered; the cursor bound to its list and its search, naming no patient; the
page numbers of before refused with 422. Query counts: test_api_records.py.
"""

from __future__ import annotations

import base64

import pytest

from clinic.patients.tests.api_helpers import API, call, client_for, register

pytestmark = pytest.mark.django_db


def search(client, query: str, **paging):
    return call(client, "post", f"{API}/search", {"query": query, **paging})


def _pages(fetch) -> list[list[dict]]:
    """Every page of a list, following `next_cursor` to the end."""
    pages, cursor = [], None
    while True:
        response = fetch(cursor)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"items", "next_cursor"}
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


@pytest.fixture
def thirty(make_staff):
    desk_user = make_staff("front_desk", username="page_desk")
    for i in range(30):
        register(desk_user, legal_given_name=f"Given{i:02d}", legal_family_name="Pagewright")
    return client_for(desk_user)


def test_the_list_and_a_search_page_by_cursor_in_name_order(thirty):
    expected = [f"Given{i:02d}" for i in range(30)]  # one family name: by given name
    listed = _pages(
        lambda cursor: thirty.get(API, {"limit": 10, **({"cursor": cursor} if cursor else {})})
    )
    assert [len(page) for page in listed] == [10, 10, 10]
    assert [p["legal_given_name"] for page in listed for p in page] == expected
    found = _pages(lambda cursor: search(thirty, "Pagewright", limit=12, cursor=cursor))
    assert [len(page) for page in found] == [12, 12, 6]
    assert [p["legal_given_name"] for page in found for p in page] == expected


def test_page_numbers_are_refused(thirty):
    listed = thirty.get(API, {"page": 2})
    assert listed.status_code == 422
    assert listed.json()["detail"][0]["loc"] == ["body", "page"]
    assert "cursor" in listed.json()["detail"][0]["msg"]
    assert search(thirty, "Pagewright", page=2).status_code == 422


def test_a_cursor_is_bound_to_its_list_and_its_search(thirty):
    cursor = thirty.get(API, {"limit": 10}).json()["next_cursor"]
    assert search(thirty, "Pagewright", cursor=cursor).status_code == 422
    searched = search(thirty, "Pagewright", limit=10).json()["next_cursor"]
    assert search(thirty, "Given", cursor=searched).status_code == 422
    assert thirty.get(API, {"cursor": searched}).status_code == 422
    assert thirty.get(API, {"cursor": cursor + "x"}).status_code == 422


def test_the_cursor_names_no_patient(thirty):
    cursor = thirty.get(API, {"limit": 10}).json()["next_cursor"]
    decoded = base64.urlsafe_b64decode(cursor.split(":")[0] + "==").decode(errors="replace")
    assert "Pagewright" not in decoded and "Given" not in decoded


def test_paging_gives_each_patient_once_while_patients_arrive(thirty, make_staff):
    first = thirty.get(API, {"limit": 10}).json()
    desk_user = make_staff("front_desk", username="late_desk")
    # One sorts before the first page (it is not shown: the client read past it), one after.
    register(desk_user, legal_given_name="Given00a", legal_family_name="Pagewright")
    register(desk_user, legal_given_name="Given29a", legal_family_name="Pagewright")
    rest = _pages(
        lambda cursor: thirty.get(API, {"limit": 10, "cursor": cursor or first["next_cursor"]})
    )
    names = [p["legal_given_name"] for p in first["items"]] + [
        p["legal_given_name"] for page in rest for p in page
    ]
    assert names == [f"Given{i:02d}" for i in range(30)] + ["Given29a"]


def test_the_contract_says_cursor(client):
    document = client.get("/api/v1/openapi.json").json()
    paths = document["paths"]
    listed, searched = paths["/api/v1/patients"]["get"], paths["/api/v1/patients/search"]["post"]
    assert set(listed["responses"]) == {"200", "401", "403", "422"}
    assert set(searched["responses"]) == {"200", "400", "401", "403", "413", "422"}
    for operation in (listed, searched):
        assert "`page`" in operation["description"] and "422" in operation["description"]
        for status in set(operation["responses"]) - {"200"}:
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ApiError"}
    assert {p["name"] for p in listed["parameters"]} == {"cursor", "limit"}
    page = document["components"]["schemas"]["PatientPage"]
    assert set(page["properties"]) == {"items", "next_cursor"}
