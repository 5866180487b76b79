"""The chair-side alerts of the in-basket (`GET /alerts/chair`): unacknowledged vitals alerts of
the actor's patients' open sessions, critical first. Each names its session: acknowledge it
there (`POST /sessions/{session_uuid}/alerts/{alert_uuid}/acknowledge`, with the session's
ETag), as the in-basket links to the session page."""

from __future__ import annotations

from ninja import Query, Router

from clinic.core.api_pages import CursorQuery, cursor_decode, cursor_encode
from clinic.treatment_sessions import selectors
from clinic.treatment_sessions.api._read import alert_read, chair_of, patient_ref
from clinic.treatment_sessions.schemas import ChairAlertPage

router = Router(tags=["alerts"])


@router.get(
    "/chair",
    response=ChairAlertPage,
    summary="Open chair-side vitals alerts",
    description=(
        "Those of the in-basket: unacknowledged alerts of your patients' open sessions, "
        "critical first, then oldest first, a page at a time. Nurses and prescribers "
        "(session.run)."
    ),
)
def chair_alert_list(request, params: Query[CursorQuery]):
    after = cursor_decode(params.cursor, scope="alerts:chair", filters={})
    page = selectors.session_alert_page(actor=request.auth, after=after, limit=params.limit)
    return {
        "items": [
            {
                **alert_read(alert),
                "session_uuid": alert.session.uuid,
                "chair": chair_of(alert.session),
                "patient": patient_ref(alert.session.patient),
            }
            for alert in page.items
        ],
        "next_cursor": cursor_encode(page.next_after, scope="alerts:chair", filters={})
        if page.next_after
        else None,
    }
