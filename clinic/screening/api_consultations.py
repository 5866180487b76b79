"""POST /api/v1/consultations: the public site's consultation request as JSON, without an
account (the one operation of the API that takes no credentials: `auth=None`, so no CSRF
token either, as there is no session to forge; every other operation keeps the API's auth).

The same as the public page (clinic/public_site/views.py): the same rules (the service's
`clean_consultation_request`, which the page's form runs too, so the same messages), the same
rate limit with the same count per address (clinic/screening/rate_limit.py: a request by the
page and one by the API count alike), and the same answer whoever sends it: 201 with the
thank-you page's words and nothing else — no id, nothing the person sent — so it cannot tell
anyone whether that person is a patient, nor be used to read anything."""

from __future__ import annotations

import datetime
from typing import Literal

from django.conf import settings
from django.http import HttpResponse
from ninja import Field, Router, Schema, Status
from pydantic import StrictBool

from clinic.core.api_schemas import ApiError, RequestBody
from clinic.core.text import MultiLine, OneLine
from clinic.screening.choices import ContactMethod, SeekingHelp
from clinic.screening.rate_limit import (
    consultation_counted,
    consultation_over_limit,
    consultation_retry_after_s,
)
from clinic.screening.services import TEXT_LIMITS, consultation_request_create

router = Router(tags=["consultations"])

RECEIVED = (
    "We have your request. Someone from our front desk will contact you, the way you asked, "
    "as soon as we can. You do not need to send it again."
)

ContactCode = Literal[tuple(ContactMethod.values)]  # type: ignore[valid-type]
SeekingCode = Literal[tuple(SeekingHelp.values)]  # type: ignore[valid-type]


class ConsultationRequestBody(RequestBody):
    given_name: OneLine = Field(..., max_length=TEXT_LIMITS["given_name"])
    family_name: OneLine = Field(..., max_length=TEXT_LIMITS["family_name"])
    email: OneLine = Field("", max_length=TEXT_LIMITS["email"])
    phone: OneLine = Field("", max_length=TEXT_LIMITS["phone"], description="7 to 15 digits.")
    preferred_contact: ContactCode = Field(  # type: ignore[valid-type]
        description="E-mail needs `email`; a call or a text needs `phone`."
    )
    date_of_birth: datetime.date | None = None
    seeking_help_with: SeekingCode  # type: ignore[valid-type]
    message: MultiLine = Field("", max_length=TEXT_LIMITS["message"])
    heard_about: OneLine = Field("", max_length=TEXT_LIMITS["heard_about"])
    consent_to_contact: StrictBool = Field(
        description="Must be true: the clinic may contact the person about this request."
    )


class ConsultationReceived(Schema):
    status: Literal["received"]
    detail: str = Field(description="The thank-you page's words; the same for everyone.")


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds until this address may send another request.",
        "schema": {"type": "integer"},
    }
}


@router.post(
    "",
    auth=None,
    response={201: ConsultationReceived, 429: ApiError},
    openapi_extra={"responses": {429: {"headers": _RETRY_AFTER}}},
    summary="Ask for a consultation (public: no account needed)",
    description=(
        "The public site's consultation form as JSON: no credentials and no CSRF token. The "
        "same rules and messages as the form (422 naming each field), and its rate limit: "
        "CONSULTATION_RATE_LIMIT_COUNT requests an address in CONSULTATION_RATE_LIMIT_WINDOW_MIN "
        "minutes, counted together with the page's; past it, 429 with `Retry-After` and "
        "nothing is stored. 201 says only that the request was received."
    ),
    operation_id="consultation_request_create",
)
def consultation_create(request, payload: ConsultationRequestBody, response: HttpResponse):
    if consultation_over_limit(request):
        response["Retry-After"] = str(consultation_retry_after_s(request))
        return Status(
            429,
            {
                "detail": (
                    "Too many requests from this address: please try again in "
                    f"{settings.CONSULTATION_RATE_LIMIT_WINDOW_MIN} minutes, or call the clinic."
                ),
                "code": "rate_limited",
            },
        )
    consultation_request_create(data=payload.model_dump())
    # As the page: only a request that was stored counts (a refused one can be corrected).
    consultation_counted(request)
    return Status(201, {"status": "received", "detail": RECEIVED})
