"""Entity tags for the API: two devices cannot overwrite each other's change silently.

A GET of one record that can change answers with an `ETag`, and so does every write that
returns it. A change to that record (PATCH, or an action such as reschedule or cancel)
must send the tag back as `If-Match`: without it the change is refused with 428
`precondition_required`; with a tag that is no longer the record's (someone changed it since
it was read) with 412 `precondition_failed`, and nothing is written. The services compare the
tag under the record's row lock (their `precondition`), so of two changes sent with the same
tag, the second always sees the first and is refused.

A tag is a digest of the record's UUID and the stored fields its representation depends on
(its app chooses them; `updated_at` among them), so it says nothing about the record.
In core, like api_schemas, so that every app's router can use it.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from typing import Any

from ninja import Header

from clinic.core.exceptions import DomainError

IF_MATCH_DESCRIPTION = (
    "Required: the `ETag` of the record as you last read it. Missing: 428; no longer the "
    "record's (it changed since): 412, and nothing is written."
)
# Every router's `If-Match` parameter: optional to the schema so that a missing one reaches
# the service and is answered 428 in the error envelope, not 422.
IfMatch = Header(None, alias="If-Match", description=IF_MATCH_DESCRIPTION)
ETAG_HEADER = {
    "ETag": {
        "description": "The record's entity tag: send it as `If-Match` to change the record.",
        "schema": {"type": "string"},
    }
}


class PreconditionRequired(DomainError):
    code = "precondition_required"
    status = 428


class PreconditionFailed(DomainError):
    code = "precondition_failed"
    status = 412


def _part(value: Any) -> str:
    # A moment is the same moment whichever zone it was read in (a row just saved holds the
    # client's offset; read back, UTC).
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat()
    return str(value)


def entity_tag(*parts: Any) -> str:
    """A strong entity tag (quoted, RFC 9110 §8.8.3) from a record's UUID and state."""
    digest = hashlib.sha256("|".join(_part(part) for part in parts).encode()).hexdigest()
    return f'"{digest[:32]}"'


def if_match_check(if_match: str | None, current: str) -> None:
    """Refuse a change unless `If-Match` names the record's current tag. Strong comparison
    (a weak tag never matches); `*` is refused too, as it would match whatever changed."""
    tags = [tag.strip() for tag in (if_match or "").split(",") if tag.strip()]
    if not tags or "*" in tags:
        raise PreconditionRequired(
            "Send If-Match with the ETag of the record as you last read it (GET it first).",
            field="If-Match",
        )
    if current not in tags:
        raise PreconditionFailed(
            "The record changed since you read it: read it again, check the change, then send "
            "yours with its new ETag.",
            field="If-Match",
        )


def precondition[RecordT](
    if_match: str | None, etag: Callable[[RecordT], str]
) -> Callable[[RecordT], None]:
    """A service's `precondition`: the record's tag, computed and compared on the row the
    service holds locked, so that of two changes sent with one tag the second is refused."""

    def check(locked: RecordT) -> None:
        if_match_check(if_match, etag(locked))

    return check


def etag_openapi(*statuses: int) -> dict:
    """`openapi_extra` documenting the ETag header of these success responses."""
    return {"responses": {status: {"headers": ETAG_HEADER} for status in statuses}}
