"""Home pages and lists are bounded (issue 14): the same queries, and a page that does not grow,
for a small clinic and one 200 times its size (tests/scale.py). A section shows its first
SECTION_SIZE rows, the total, and a link to the full, paginated list."""

from __future__ import annotations

import pytest

from clinic.core.pages import bounded, bounded_in_two_steps, page_of
from clinic.patients.models import Patient
from tests.helpers import client_as
from tests.scale import LARGE, SMALL, measured, patients_in_bulk

pytestmark = pytest.mark.django_db


def _two_sizes(client, url, grow):
    grow(SMALL)
    small = measured(client, url)
    grow(LARGE - SMALL)
    large = measured(client, url)
    return small, large


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("prescriber", "/"),
        ("nurse", "/"),
        ("prescriber", "/patients/"),
        ("front_desk", "/patients/"),
        ("prescriber", "/in-basket/"),
        ("therapist", "/"),
        ("billing", "/"),
    ],
)
def test_pages_cost_the_same_at_ten_patients_and_at_two_thousand(
    client, actors, settings, who, url
):
    # Sections and pages of 5: already full at 10 patients, so a page that is bounded is the
    # same size at 10,000 (digits aside), and one that is not has grown by 9,990 rows.
    settings.SECTION_SIZE = 5
    settings.PAGE_SIZE = 5
    actor = actors[who]
    client_as(client, actor)
    # Billing reaches every patient without a care team.
    team_role = {"prescriber": "prescriber", "nurse": "nurse", "therapist": "therapist"}
    team = {actor: team_role[who]} if who in team_role else {}
    made = []

    def grow(n):
        made.extend(patients_in_bulk(n, care_team=team, start=len(made) + 100))

    (small_queries, small_bytes), (large_queries, large_bytes) = _two_sizes(client, url, grow)
    assert large_queries == small_queries
    # Digits are normalised: a longer total ("1990 more") is not growth, nor is a plural's "s";
    # one more row (over a hundred bytes) is.
    assert abs(large_bytes - small_bytes) <= 16


def test_the_prescribers_home_lists_the_first_patients_and_links_to_all(
    client, prescriber, settings
):
    settings.SECTION_SIZE = 10
    patients_in_bulk(25, care_team={prescriber: "prescriber"})
    html = client_as(client, prescriber).get("/").content.decode()
    assert "Family00000" in html and "Family00009" in html  # the first ten, by name
    assert "Family00010" not in html
    assert "15 more" in html and 'href="/patients/"' in html


def test_bounded_and_page_of_cut_and_count():
    rows = list(range(23))
    section = bounded(rows, size=10)
    assert (list(section), section.total, section.more, len(section)) == (rows[:10], 23, 13, 10)
    assert not bounded([], size=10) and bounded([], size=10).more == 0
    page = page_of(rows, 3, size=10)
    assert (list(page.object_list), page.paginator.num_pages) == (rows[20:], 3)
    assert page_of(rows, "junk", size=10).number == 1


def test_a_queryset_section_costs_two_queries_at_any_size(django_assert_num_queries, front_desk):
    patients_in_bulk(15)
    with django_assert_num_queries(2):
        section = bounded(Patient.objects.order_by("pk"), size=10)
    assert (len(section), section.total) == (10, 15)


def test_a_section_in_two_steps_keeps_the_order_and_drops_a_row_gone_in_between(
    django_assert_num_queries, front_desk
):
    # bounded_in_two_steps: the first ids in order, then their rows, then the count. A row
    # that disappears between the two reads is left out, never shown as something else.
    made = patients_in_bulk(7)
    newest_first = Patient.objects.order_by("-pk")
    gone = made[-2].pk
    with django_assert_num_queries(3):
        section = bounded_in_two_steps(
            newest_first, rows=lambda rows: rows.exclude(pk=gone), size=3
        )
    assert [p.pk for p in section] == [made[-1].pk, made[-3].pk]
    assert (section.total, section.more) == (7, 5)
    with django_assert_num_queries(2):  # nothing matches: no second read
        empty = bounded_in_two_steps(newest_first.filter(pk=0), rows=lambda rows: rows, size=3)
    assert (list(empty), empty.total) == ([], 0)
