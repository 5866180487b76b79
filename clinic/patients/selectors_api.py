"""The patient list and search for the API, a cursor page at a time (clinic/core/api_pages.py),
with the list page's reach (`Patient.objects.visible_to`), search rule and audit (one event a
page, never the search terms).

By family then given name, as the page, with the UUID to break ties: a fixed total order, so
paging gives each patient once. The API's cursor carries only the last patient's UUID (never a
name: a cursor travels in URLs and logs); the next page starts after that patient's current
place in the order, read again from the database."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from clinic.accounts.models import User
from clinic.core.api_pages import BAD_CURSOR, Keyset, keyset_page
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import InvalidInput
from clinic.core.text import CONTROL_CHARACTER_MESSAGE, has_control_characters
from clinic.patients.models import Patient
from clinic.patients.selectors import _search_filter

PATIENT_ORDER = Keyset(("legal_family_name", "legal_given_name"))


@dataclass(frozen=True)
class PatientCursorPage:
    items: list[Patient]
    # The last patient's UUID when more follow; None on the last page.
    next_after: uuid.UUID | None


def patient_cursor_page(
    *, actor: User, search: str = "", after: uuid.UUID | None, limit: int
) -> PatientCursorPage:
    """One page of the patients the actor may see, optionally narrowed by a search, after the
    patient `after` (None: from the start). Two queries (three after the first page)."""
    if has_control_characters(search):
        raise InvalidInput({"query": [CONTROL_CHARACTER_MESSAGE]})
    queryset = Patient.objects.visible_to(actor)
    if search.strip():
        queryset = queryset.filter(_search_filter(search))
    position = None
    if after is not None:
        # Where that patient stands now: every patient keeps a row (records are never
        # erased), so only a cursor of another kind finds none.
        anchor = (
            Patient.objects.filter(uuid=after)
            .values_list("legal_family_name", "legal_given_name", "uuid")
            .first()
        )
        if anchor is None:
            raise InvalidInput({"cursor": [BAD_CURSOR]})
        position = [str(value) for value in anchor]
    page = keyset_page(queryset, keyset=PATIENT_ORDER, after=position, limit=limit)
    audit_record(
        actor=actor,
        action=AuditAction.SEARCH if search.strip() else AuditAction.LIST,
        object_type="patient",
        summary=f"Patient list (API): {len(page.items)} listed",
    )
    return PatientCursorPage(page.items, page.items[-1].uuid if page.next_after else None)
