"""Bounded pages (issue 14): no page's size or query count grows with the clinic's size.

Two shapes, one for each kind of page:
- a *section* of a home page or the in-basket shows the first `SECTION_SIZE` rows, the total,
  and a link to the full list ("12 more - see all"): `bounded()`;
- a *list page* shows one page of `PAGE_SIZE` rows with links to the others: `page_of()`
  (Django's Paginator).

Both cost the same number of queries however many rows there are: the rows (at most a page)
and one COUNT. A section's COUNT stops at `SECTION_COUNT_CAP` rows ("1000+"), so its cost does
not grow with years of history either: nobody acts on the thousand-and-first.

A queryset is bounded in the database; a list already in memory (a section
built in Python) is cut, so the page stays small even where the work behind it does not.
A section whose filter and whose rows are both wide (the in-basket's) is read in two steps,
`bounded_in_two_steps()`: PostgreSQL plans the two halves apart far faster than together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import Model, QuerySet


@dataclass(frozen=True)
class Bounded[T]:
    """The first rows of a section and how many there are in all. Iterates, counts and tests
    true like the rows it shows, so a template that looped over the whole list loops over
    the bounded one unchanged; `total` and `more` say what is left out."""

    items: list[T]
    total: int
    # The COUNT stopped at the cap: there are at least `total`.
    capped: bool = False

    @property
    def more(self) -> int:
        return max(self.total - len(self.items), 0)

    @property
    def total_text(self) -> str:
        return f"{self.total}+" if self.capped else str(self.total)

    @property
    def more_text(self) -> str:
        return f"{self.more}+" if self.capped else str(self.more)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __getitem__(self, index: int) -> T:
        return self.items[index]


def section_size(size: int | None = None) -> int:
    return size or settings.SECTION_SIZE


def bounded[T](rows: QuerySet[Any, T] | Sequence[T], *, size: int | None = None) -> Bounded[T]:
    """The first `size` rows (SECTION_SIZE by default) and the total: two queries for a
    queryset (the slice and a COUNT), whatever its length."""
    size = section_size(size)
    if isinstance(rows, QuerySet):
        items = list(rows[:size])
        # Always counted, even when the slice came back short: the same queries at any size;
        # counted only up to the cap (a COUNT over a LIMITed subquery).
        cap = settings.SECTION_COUNT_CAP
        total = rows.order_by()[: cap + 1].count()
        if total > cap:
            return Bounded(items=items, total=cap, capped=True)
        return Bounded(items=items, total=total)
    return Bounded(items=list(rows[:size]), total=len(rows))


def bounded_in_two_steps[M: Model](
    matching: QuerySet[M],
    *,
    rows: Callable[[QuerySet[M]], QuerySet[M]],
    size: int | None = None,
) -> Bounded[M]:
    """`bounded()` for a section whose filter (care team, location, subqueries) and whose rows
    (select_related of the patient, the chair, the people) are both wide. PostgreSQL plans
    one query with all of them in several milliseconds and runs it in a fraction of one
    (docs/performance.md); it plans each half alone in a fraction. So: the ids of the first
    `size` matching rows in order, then `rows()` of those ids (skipped when there are none),
    then the capped COUNT."""
    size = section_size(size)
    ids = list(matching.values_list("pk", flat=True)[:size])
    found: dict[Any, M] = {}
    if ids:
        # The base manager: exactly the rows the ids name, whatever a default manager hides.
        found = {row.pk: row for row in rows(matching.model._base_manager.filter(pk__in=ids))}
    # A row gone between the two reads (resolved a moment ago) is simply not shown.
    items = [found[pk] for pk in ids if pk in found]
    cap = settings.SECTION_COUNT_CAP
    total = matching.order_by()[: cap + 1].count()
    if total > cap:
        return Bounded(items=items, total=cap, capped=True)
    return Bounded(items=items, total=total)


def page_of(
    rows: QuerySet | Sequence[Any], page_number: Any = 1, *, size: int | None = None
) -> Page:
    """One page of a list (PAGE_SIZE rows by default); an out-of-range or malformed page
    number gives the nearest page, as Paginator.get_page does."""
    return Paginator(rows, size or settings.PAGE_SIZE).get_page(page_number)
