"""The API's cursor and entity-tag helpers (clinic/core/api_pages.py, api_versions.py) on their
own; the lists and changes that use them are tested with their routers
(clinic/scheduling/tests/test_api.py, clinic/protocols/tests/test_api.py)."""

from __future__ import annotations

import datetime

import pytest
from ninja.errors import ValidationError

from clinic.core.api_pages import cursor_decode, cursor_encode
from clinic.core.api_versions import (
    PreconditionFailed,
    PreconditionRequired,
    entity_tag,
    if_match_check,
)

FILTERS = {"date": datetime.date(2031, 6, 2), "room": None}


def test_a_cursor_reads_back_only_for_its_list_and_filters():
    token = cursor_encode(["2031-06-02T13:00:00+00:00", "a-uuid"], scope="x", filters=FILTERS)
    assert cursor_decode(token, scope="x", filters=FILTERS) == [
        "2031-06-02T13:00:00+00:00",
        "a-uuid",
    ]
    assert cursor_decode(None, scope="x", filters=FILTERS) is None
    for scope, filters, sent in (
        ("y", FILTERS, token),
        ("x", {**FILTERS, "room": "r"}, token),
        ("x", FILTERS, token[:-1] + ("A" if token[-1] != "A" else "B")),
        ("x", FILTERS, "not a cursor"),
    ):
        with pytest.raises(ValidationError) as caught:
            cursor_decode(sent, scope=scope, filters=filters)
        assert caught.value.errors[0]["loc"] == ["query", "cursor"]


def test_a_moment_gives_the_same_tag_in_any_zone():
    utc = datetime.datetime(2031, 6, 2, 13, 0, tzinfo=datetime.UTC)
    new_york = utc.astimezone(datetime.timezone(datetime.timedelta(hours=-4)))
    assert entity_tag("a", utc) == entity_tag("a", new_york)
    assert entity_tag("a", utc) != entity_tag("b", utc)
    assert entity_tag("a", utc).startswith('"') and entity_tag("a", utc).endswith('"')


@pytest.mark.parametrize(
    ("sent", "refusal"),
    [
        (None, PreconditionRequired),
        ("", PreconditionRequired),
        ("*", PreconditionRequired),
        ('"stale"', PreconditionFailed),
        ('W/"current"', PreconditionFailed),  # a weak tag never matches strongly
        ('"stale", "current"', None),
        ('"current"', None),
    ],
)
def test_if_match(sent, refusal):
    if refusal is None:
        if_match_check(sent, '"current"')
        return
    with pytest.raises(refusal) as caught:
        if_match_check(sent, '"current"')
    assert caught.value.status == (428 if refusal is PreconditionRequired else 412)
