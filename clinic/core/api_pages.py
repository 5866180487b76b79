"""Cursor pagination for the API's lists: `{"items": [...], "next_cursor": "..." | null}`.

In core, like api_schemas, so that every app's router and selectors can use it (clinic.api is
the top layer; the apps sit below it).

A list is read in a fixed total order (its sort fields, then the record's UUID to break ties)
and a page starts strictly after the last record the previous page returned: keyset
pagination. A record added or removed while a client pages through a list never shifts the
pages after it, so each record comes once, in order. The cursor is that last record's sort
values and UUID, signed (django.core.signing, SECRET_KEY) with the list it belongs to and the
filters it was read with: one that was altered, or that is sent to another list or with other
filters, is refused (422), never read as "from the start". It holds the UUID, not the
database id (ADR 0003: no sequential record numbers in a URL), and no patient data.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, Q, QuerySet
from ninja import Field, Schema
from ninja.errors import ValidationError

from clinic.core.text import OneLine

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
_SALT = "clinic.api.cursor"
BAD_CURSOR = (
    "This cursor is not one this list gave, or was given for other filters: start again without it."
)


class CursorQuery(Schema):
    """The query parameters every cursor-paged list takes."""

    cursor: OneLine | None = Field(
        None,
        max_length=1000,
        description="`next_cursor` of the previous page; leave it out for the first page.",
    )
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page.")


@dataclass(frozen=True)
class Keyset:
    """A list's order: its sort fields (a leading "-" for descending; none may be null), with
    the record's UUID last, in the direction of the first field."""

    fields: tuple[str, ...]

    @property
    def order_by(self) -> list[str]:
        tie = "-uuid" if self.fields[0].startswith("-") else "uuid"
        return [*self.fields, tie]

    def values_of(self, record: Model) -> list[Any]:
        return [_plain(getattr(record, name.lstrip("-"))) for name in self.order_by]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, int | str):
        return value
    return str(value)  # a UUID


def _bad_cursor() -> ValidationError:
    return ValidationError(
        [{"loc": ["query", "cursor"], "msg": BAD_CURSOR, "type": "invalid_input"}]
    )


def _fingerprint(scope: str, filters: dict[str, Any]) -> str:
    text = scope + "|" + "|".join(f"{k}={filters[k]}" for k in sorted(filters))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def cursor_decode(token: str | None, *, scope: str, filters: dict[str, Any]) -> list[Any] | None:
    """The position a cursor names (the last record's sort values), or None for the first
    page. Refused as invalid input when it is not one `cursor_encode` made for this list and
    these filters."""
    if not token:
        return None
    try:
        data = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        data = None
    if (
        not isinstance(data, dict)
        or data.get("f") != _fingerprint(scope, filters)
        or not isinstance(data.get("k"), list)
    ):
        raise ValidationError(
            [{"loc": ["query", "cursor"], "msg": BAD_CURSOR, "type": "invalid_input"}]
        )
    return data["k"]


def cursor_encode(values: Sequence[Any], *, scope: str, filters: dict[str, Any]) -> str:
    return signing.dumps({"k": list(values), "f": _fingerprint(scope, filters)}, salt=_SALT)


def _after(queryset: QuerySet, keyset: Keyset, after: Sequence[Any]) -> QuerySet:
    """Rows strictly after `after` in the keyset's order: (a, b, c) > (x, y, z) as
    a > x, or a = x and b > y, or a = x and b = y and c > z (each "greater" in its direction)."""
    model = queryset.model
    names = [name.lstrip("-") for name in keyset.order_by]
    values = [
        model._meta.get_field(name).to_python(value)
        for name, value in zip(names, after, strict=True)
    ]
    condition = Q()
    for position, field in enumerate(keyset.order_by):
        step = Q(
            **{f"{names[position]}__{'lt' if field.startswith('-') else 'gt'}": values[position]}
        )
        for earlier in range(position):
            step &= Q(**{names[earlier]: values[earlier]})
        condition |= step
    return queryset.filter(condition)


@dataclass(frozen=True)
class KeysetPage[RecordT: Model]:
    items: list[RecordT]
    # The last item's sort values when more follow; None on the last page.
    next_after: list[Any] | None


def keyset_page[RecordT: Model](
    queryset: QuerySet[RecordT], *, keyset: Keyset, after: Sequence[Any] | None, limit: int
) -> KeysetPage[RecordT]:
    """One page of `queryset` in the keyset's order, after `after` (None: from the start). One
    query: a row past the page tells whether another page follows."""
    if after is not None:
        try:
            queryset = _after(queryset, keyset, after)
        except (ValueError, TypeError, DjangoValidationError) as error:
            # Signed by us, but of another shape (a cursor from before a change of order).
            raise _bad_cursor() from error
    rows = list(queryset.order_by(*keyset.order_by)[: limit + 1])
    items = rows[:limit]
    more = len(rows) > limit
    return KeysetPage(items=items, next_after=keyset.values_of(items[-1]) if more else None)
