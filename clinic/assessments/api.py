"""Assessment responses per patient: the same selectors and services as the pages."""

from __future__ import annotations

import uuid

from ninja import Router, Status

from clinic.accounts.permissions import Capability
from clinic.assessments import selectors, services
from clinic.assessments.models import AssessmentResponse
from clinic.assessments.schemas import ResponseCreate, ResponseRead
from clinic.core.access import require
from clinic.patients.selectors import patient_get

router = Router(tags=["assessments"])


def _read(response: AssessmentResponse) -> dict:
    return {
        "uuid": response.uuid,
        "instrument": response.instrument_code,
        "instrument_version": response.instrument_version,
        "answers": response.answers,
        "complete": response.complete,
        "total": response.total,
        "severity": response.severity or None,
        "flags": response.flags,
        "subscales": response.subscales,
        "taken_at": response.taken_at,
        "timepoint": response.timepoint,
        "source": response.source,
        "entered_in_error": response.entered_in_error_at is not None,
        "alerts": [
            {
                "uuid": a.uuid,
                "kind": a.kind,
                "trigger": a.trigger,
                "status": a.status,
                "follow_up": False,
            }
            for a in response.alerts.all()
        ]
        + [
            # Answers that joined an alert already waiting for a clinician (ADR 0004).
            {
                "uuid": f.alert.uuid,
                "kind": f.alert.kind,
                "trigger": f.trigger,
                "status": f.alert.status,
                "follow_up": True,
            }
            for f in response.alert_follow_ups.all()
        ],
    }


@router.get(
    "/{patient_uuid}/assessments",
    response=list[ResponseRead],
    summary="A patient's assessments, newest first",
)
def response_list(request, patient_uuid: uuid.UUID):
    patient = patient_get(actor=request.auth, patient_uuid=patient_uuid, purpose="api assessments")
    responses = selectors.response_list(actor=request.auth, patient=patient, purpose="api")
    alerts = selectors.alerts_by_response(responses=responses)
    follow_ups = selectors.follow_ups_by_response(responses=responses)
    for response in responses:
        # Django's prefetch cache, filled by hand from the two queries above.
        response._prefetched_objects_cache = {  # type: ignore[attr-defined]
            "alerts": alerts.get(response.pk, []),
            "alert_follow_ups": follow_ups.get(response.pk, []),
        }
    return [_read(r) for r in responses]


@router.post(
    "/{patient_uuid}/assessments",
    response={201: ResponseRead},
    summary="Record an assessment; the server scores it",
    description=(
        "Answers are one value per item, null when unanswered. A partly answered form is "
        "stored unscored, with its flags; a blank one (every value null) is refused with 422. "
        "A positive suicidality answer raises an alert, or joins as a follow-up the patient's "
        "alert still waiting for a clinician (`alerts[].follow_up`)."
    ),
)
def response_create(request, patient_uuid: uuid.UUID, payload: ResponseCreate):
    require(request.auth, Capability.ASSESSMENT_RECORD)  # before looking anything up
    patient = patient_get(actor=request.auth, patient_uuid=patient_uuid, purpose="api assessments")
    response = services.response_record(
        actor=request.auth,
        patient=patient,
        instrument_code=payload.instrument,
        answers=payload.answers,
        timepoint=payload.timepoint,
        taken_at=payload.taken_at,
    )
    return Status(201, _read(response))
