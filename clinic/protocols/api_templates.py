"""Protocol templates through the API: the versioned protocols plans are built from.

As the templates page (views.template_list): read by the clinicians, who plan from them, and by
whoever manages them; added by the clinic administrator (protocol.manage_templates) through the
page's form and service. A template is never edited: saving a code again adds its next version,
and a plan stays pinned to the version it was made from."""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from ninja import Field, Query, Router, Schema, Status

from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.api_forms import form_checked
from clinic.core.api_pages import CursorQuery, cursor_decode, cursor_encode
from clinic.core.api_schemas import ApiError, RequestBody
from clinic.core.exceptions import InvalidInput
from clinic.core.text import OneLine
from clinic.protocols import selectors, services, services_templates
from clinic.protocols.forms import TemplateForm
from clinic.protocols.models import ProtocolTemplate

router = Router(tags=["protocol templates"])

TEMPLATES = "/protocol-templates"
SCOPE = "protocol-templates"


class ProtocolTemplateRead(Schema):
    code: str
    version: int
    name: str
    route: str
    built_in: bool
    active: bool = Field(description="False: retired, no new plan is made from it")
    created_at: datetime.datetime
    definition: dict[str, Any] = Field(
        description=(
            "The protocol as data: its phases (sessions, spacing, dose, dose changes, review "
            "points), the options a plan may set and their limits, its source"
        )
    )


class ProtocolTemplatePage(Schema):
    items: list[ProtocolTemplateRead]
    next_cursor: str | None


class ProtocolTemplateCreate(RequestBody):
    """The templates page's form: a code, a name and the definition, in the form the built-in
    templates take (GET one to see it)."""

    code: OneLine = Field(..., min_length=1, max_length=64, description="Letters, digits, - and _")
    name: OneLine = Field(..., min_length=1, max_length=200)
    # The keys are the definition's own (checked by the page's form and the service); every
    # string in it is held to the text policy by the form's validator.
    definition: dict[OneLine, Any]


def _read(template: ProtocolTemplate) -> dict:
    return {
        "code": template.code,
        "version": template.version,
        "name": template.name,
        "route": template.route,
        "built_in": template.built_in,
        "active": template.is_active,
        "created_at": template.created_at,
        "definition": template.definition,
    }


@router.get(
    TEMPLATES,
    response=ProtocolTemplatePage,
    summary="The protocol templates plans are made from",
    description=(
        "As the templates page: the latest active version of each protocol, by code, a page "
        "at a time (send `next_cursor` back as `cursor`). Clinicians and the clinic "
        "administrator."
    ),
)
def template_list(request, params: Query[CursorQuery]):
    services.builtin_templates_ensure()  # as the page: the built-in protocols are always there
    page = selectors.template_page(
        actor=request.auth,
        after=cursor_decode(params.cursor, scope=SCOPE, filters={}),
        limit=params.limit,
    )
    return {
        "items": [_read(template) for template in page.items],
        "next_cursor": cursor_encode(page.next_after, scope=SCOPE, filters={})
        if page.next_after
        else None,
    }


@router.get(
    TEMPLATES + "/{code}",
    response=ProtocolTemplateRead,
    summary="A protocol's latest version",
)
def template_detail(request, code: str):
    services.builtin_templates_ensure()
    return _read(selectors.template_get(actor=request.auth, code=code))


@router.get(
    TEMPLATES + "/{code}/versions/{version}",
    response=ProtocolTemplateRead,
    summary="One version of a protocol",
    description="Retired versions too: a plan stays pinned to the version it was made from.",
)
def template_version(request, code: str, version: int):
    services.builtin_templates_ensure()
    return _read(selectors.template_get(actor=request.auth, code=code, version=version))


@router.post(
    TEMPLATES,
    response={201: ProtocolTemplateRead, 409: ApiError},
    summary="Add a protocol template, or a protocol's next version (clinic administrator)",
    description=(
        "The templates page's form: the definition is checked against the clinic's dosing "
        "policy, 422 naming what is wrong (a built-in code cannot be redefined). Saving a code "
        "that exists adds its next version; no version is ever changed. 409 "
        "`template_version_taken` when someone added a version of the same code at the same "
        "moment: read the protocol again."
    ),
)
def template_create(request, payload: ProtocolTemplateCreate):
    actor = request.auth
    require(actor, Capability.PROTOCOL_MANAGE_TEMPLATES)
    form = TemplateForm(
        {
            "code": payload.code,
            "name": payload.name,
            "definition": json.dumps(payload.definition, cls=DjangoJSONEncoder),
        }
    )
    form_checked(form)
    try:
        template = services_templates.template_create(actor=actor, **form.cleaned_data)
    except InvalidInput as error:
        raise _in_body_words(error) from error
    return Status(201, _read(template))


def _in_body_words(error: InvalidInput) -> InvalidInput:
    """The service names a part of the definition by its path in it ("phases[0].sessions"):
    here, under `definition`."""
    renamed: dict[str, list[str]] = {}
    for field, messages in error.errors.items():
        key = field if field in ProtocolTemplateCreate.model_fields else f"definition.{field}"
        renamed.setdefault(key, []).extend(messages)
    return InvalidInput(renamed, error.message)
