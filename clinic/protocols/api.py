"""Treatment-plan endpoints: the plan pages' selectors, form and services, so the same checks,
the same validation messages and the same audit. A plan is the patient's clinical record: read
by the care team (and clinic administrators); made and changed by a prescriber on it."""

from __future__ import annotations

import datetime
import uuid

from django.http import HttpResponse
from ninja import Field, Query, Router, Status

from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.api_pages import CursorQuery, cursor_decode, cursor_encode
from clinic.core.api_schemas import ApiError, RequestBody
from clinic.core.api_versions import IfMatch, entity_tag, etag_openapi, precondition
from clinic.core.exceptions import InvalidInput, PermissionDenied
from clinic.core.text import OneLine
from clinic.patients.models import Patient
from clinic.patients.schemas import DecimalIn
from clinic.patients.selectors import can_act_clinically, patient_get
from clinic.protocols import selectors, services
from clinic.protocols.forms import MaintenanceForm, PlanForm, TitrationForm
from clinic.protocols.models import ProtocolTemplate, TreatmentPlan
from clinic.protocols.schedules import validate_definition
from clinic.protocols.schemas import (
    PlanChoices,
    PlanEnd,
    PlanPage,
    PlanPreviewRead,
    PlanRead,
)

router = Router(tags=["treatment plans"])

PLANS = "/{patient_uuid}/treatment-plans"
ONE_PLAN = PLANS + "/{plan_uuid}"
# The choices each route's plan form has (PlanForm); any other is refused for that route.
_ROUTE_FIELDS = ("dose_mg_per_kg", "weight_basis", "esketamine_dose_mg", "infusion_minutes")


def plan_etag(plan: TreatmentPlan) -> str:
    """From the plan and its sessions: a titration changes only the sessions."""
    sessions = selectors.planned_session_list(plan=plan)
    return entity_tag(
        "treatment_plan",
        plan.uuid,
        plan.updated_at,
        plan.status,
        *(
            (
                s.uuid,
                s.planned_date,
                s.dose_mg,
                s.dose_mg_per_kg,
                s.infusion_minutes,
                s.dose_change_reason,
                s.cancelled,
            )
            for s in sessions
        ),
    )


def _template(template: ProtocolTemplate) -> dict:
    return {
        "code": template.code,
        "version": template.version,
        "name": template.name,
        "route": template.route,
    }


def _summary(plan: TreatmentPlan) -> dict:
    return {
        "uuid": plan.uuid,
        "template": _template(plan.template),
        "route": plan.route,
        "status": plan.status,
        "start_date": plan.start_date,
        "session_count": plan.session_count,
        "prescribed_by": {
            "uuid": plan.prescribed_by.uuid,
            "name": plan.prescribed_by.display_name,
        },
        "activated_at": plan.activated_at,
        "ended_at": plan.ended_at,
        "updated_at": plan.updated_at,
    }


def _answer(response: HttpResponse, plan: TreatmentPlan) -> dict:
    response["ETag"] = plan_etag(plan)
    return {
        **_summary(plan),
        "dose_mg_per_kg": plan.dose_mg_per_kg,
        "weight_basis": plan.weight_basis,
        "esketamine_dose_mg": plan.esketamine_dose_mg,
        "infusion_minutes": plan.infusion_minutes,
        "maintenance_interval_weeks": plan.maintenance_interval_weeks,
        "notes": plan.notes,
        "end_reason": plan.end_reason,
        "sessions": [
            {
                "uuid": s.uuid,
                "number": s.number,
                "planned_date": s.planned_date,
                "phase": s.phase,
                "dose_mg": s.dose_mg,
                "dose_mg_per_kg": s.dose_mg_per_kg,
                "weight_used_kg": s.weight_used_kg,
                "infusion_minutes": s.infusion_minutes,
                "dose_change_reason": s.dose_change_reason,
                "cancelled": s.cancelled,
            }
            for s in selectors.planned_session_list(plan=plan)
        ],
    }


@router.get(PLANS, response=PlanPage, summary="A patient's treatment plans")
def plan_list(request, patient_uuid: uuid.UUID, params: Query[CursorQuery]):
    actor = request.auth
    patient = patient_get(actor=actor, patient_uuid=patient_uuid, purpose="api treatment plans")
    scope = f"treatment-plans:{patient.uuid}"
    page = selectors.plan_page(
        actor=actor,
        patient=patient,
        after=cursor_decode(params.cursor, scope=scope, filters={}),
        limit=params.limit,
    )
    return {
        "items": [_summary(plan) for plan in page.items],
        "next_cursor": cursor_encode(page.next_after, scope=scope, filters={})
        if page.next_after
        else None,
    }


def _prescriber_reach(request, patient_uuid: uuid.UUID) -> Patient:
    """As the plan page: a prescriber on the care team (the role is refused before anything
    is looked up)."""
    actor = request.auth
    require(actor, Capability.PLAN_PRESCRIBE)
    patient = patient_get(actor=actor, patient_uuid=patient_uuid, purpose="api treatment plan")
    if not can_act_clinically(actor=actor, patient=patient, capability=Capability.PLAN_PRESCRIBE):
        raise PermissionDenied("Only a prescriber on the care team makes a treatment plan.")
    return patient


def _checked(choices: PlanChoices) -> tuple[ProtocolTemplate, PlanForm]:
    """The plan page's form over the body, so a refusal says what the page says. A choice the
    route (or an option the protocol) does not take is refused, not ignored."""
    services.builtin_templates_ensure()
    template = next((t for t in selectors.template_list() if t.code == choices.template), None)
    if template is None:
        raise InvalidInput({"template": ["No such protocol, or it is retired."]})
    definition = validate_definition(template.definition)
    data: dict[str, str] = {
        "template": template.code,
        "start_date": choices.start_date.isoformat(),
        "notes": choices.notes,
    }
    sent = choices.model_dump(include=set(_ROUTE_FIELDS), exclude_none=True)
    data.update({name: str(value) for name, value in sent.items()})
    data.update({f"option_{name}": str(value) for name, value in choices.options.items()})
    form = PlanForm(
        data,
        templates=[(template.code, template.name)],
        option_specs=definition.options,
        route=template.route,
    )
    problems: dict[str, list[str]] = {}
    for name in sent:
        if name not in form.fields:
            problems[name] = [f"The {template.route} route does not take this choice."]
    for name in choices.options:
        if name not in form.option_names:
            problems[f"options.{name}"] = ["This protocol has no such option."]
    if not form.is_valid():
        for field, messages in form.errors.items():
            key = (
                f"options.{field.removeprefix('option_')}" if field.startswith("option_") else field
            )
            problems.setdefault(key, []).extend(str(message) for message in messages)
    if problems:
        raise InvalidInput(problems)
    return template, form


# What a service's refusal may name besides the body's fields: the chart's weight, the dose
# and the schedule as a whole. Anything else it names is one of the protocol's options.
_NOT_OPTIONS = {"weight", "dose", "schedule"}


def _in_api_words(error: InvalidInput) -> InvalidInput:
    """A service's refusal names a template option by its own name: here, `options.<name>`."""
    renamed: dict[str, list[str]] = {}
    for field, messages in error.errors.items():
        known = field in PlanChoices.model_fields or field in _NOT_OPTIONS
        renamed.setdefault(field if known else f"options.{field}", []).extend(messages)
    return InvalidInput(renamed, error.message)


@router.post(
    PLANS + "/preview",
    response=PlanPreviewRead,
    summary="Preview a plan: its schedule and each session's dose",
    description=(
        "What the prescriber signs, as the plan page's preview: each session's dose on the "
        "patient's latest weight. Writes nothing. 422 with the page's messages (a missing "
        "weight is `weight`)."
    ),
)
def plan_preview(request, patient_uuid: uuid.UUID, payload: PlanChoices):
    patient = _prescriber_reach(request, patient_uuid)
    template, form = _checked(payload)
    try:
        preview = services.plan_preview(
            patient=patient,
            template=template,
            start_date=form.cleaned_data["start_date"],
            options=form.options(),
            **form.plan_values(),
        )
    except InvalidInput as error:
        raise _in_api_words(error) from error
    return {
        "template": _template(template),
        "start_date": form.cleaned_data["start_date"],
        "weight_kg": preview.body.weight_kg,
        "weight_measured_on": preview.body.weight_measured_on,
        "height_cm": preview.body.height_cm,
        "warnings": list(preview.schedule.warnings),
        "sessions": [
            {
                "number": session.number,
                "planned_date": session.date,
                "phase": session.phase,
                "dose_mg": dose.dose_mg,
                "dose_mg_per_kg": dose.dose_mg_per_kg,
                "weight_used_kg": dose.weight_used_kg,
                "infusion_minutes": dose.infusion_minutes,
                "devices": dose.devices,
            }
            for session, dose in preview.rows
        ],
    }


# After the preview: "/preview" must be matched before "/{plan_uuid}" takes it as an id.
@router.get(ONE_PLAN, response=PlanRead, openapi_extra=etag_openapi(200), summary="One plan")
def plan_detail(request, patient_uuid: uuid.UUID, plan_uuid: uuid.UUID, response: HttpResponse):
    actor = request.auth
    patient = patient_get(actor=actor, patient_uuid=patient_uuid, purpose="api treatment plan")
    return _answer(response, selectors.plan_get(actor=actor, patient=patient, plan_uuid=plan_uuid))


@router.post(
    PLANS,
    response={201: PlanRead, 409: ApiError},
    openapi_extra=etag_openapi(201),
    summary="Draft a plan (prescriber on the care team)",
    description=(
        "The plan page's create: a draft, to be signed with .../activate. 409 `not_cleared` "
        "while no signed eligibility decision opens the route; 422 with the page's messages."
    ),
)
def plan_create(request, patient_uuid: uuid.UUID, payload: PlanChoices, response: HttpResponse):
    patient = _prescriber_reach(request, patient_uuid)
    template, form = _checked(payload)
    try:
        plan = services.plan_create(
            actor=request.auth,
            patient=patient,
            template=template,
            start_date=form.cleaned_data["start_date"],
            options=form.options(),
            notes=form.cleaned_data["notes"],
            **form.plan_values(),
        )
    except InvalidInput as error:
        raise _in_api_words(error) from error
    return Status(201, _answer(response, plan))


_CHANGED = {200: PlanRead, 409: ApiError, 412: ApiError, 428: ApiError}


def _plan_for_change(request, patient_uuid: uuid.UUID, plan_uuid: uuid.UUID) -> TreatmentPlan:
    actor = request.auth
    require(actor, Capability.PLAN_PRESCRIBE)  # before looking anything up
    patient = patient_get(actor=actor, patient_uuid=patient_uuid, purpose="api treatment plan")
    return selectors.plan_get(actor=actor, patient=patient, plan_uuid=plan_uuid)


@router.post(
    ONE_PLAN + "/activate",
    response=_CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Sign a draft plan: it becomes active",
    description="409 when not a draft, not cleared, or another plan is active on the route.",
)
def plan_activate(
    request,
    patient_uuid: uuid.UUID,
    plan_uuid: uuid.UUID,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    plan = _plan_for_change(request, patient_uuid, plan_uuid)
    signed = services.plan_activate(
        actor=request.auth, plan=plan, precondition=precondition(if_match, plan_etag)
    )
    return _answer(response, signed)


@router.post(
    ONE_PLAN + "/complete",
    response=_CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Complete a plan",
)
def plan_complete(
    request,
    patient_uuid: uuid.UUID,
    plan_uuid: uuid.UUID,
    payload: PlanEnd,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    plan = _plan_for_change(request, patient_uuid, plan_uuid)
    ended = services.plan_finish(
        actor=request.auth,
        plan=plan,
        discontinued=False,
        reason=payload.reason,
        precondition=precondition(if_match, plan_etag),
    )
    return _answer(response, ended)


@router.post(
    ONE_PLAN + "/discontinue",
    response=_CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Discontinue a plan, with a reason",
)
def plan_discontinue(
    request,
    patient_uuid: uuid.UUID,
    plan_uuid: uuid.UUID,
    payload: PlanEnd,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    plan = _plan_for_change(request, patient_uuid, plan_uuid)
    ended = services.plan_finish(
        actor=request.auth,
        plan=plan,
        discontinued=True,
        reason=payload.reason,
        precondition=precondition(if_match, plan_etag),
    )
    return _answer(response, ended)


# ---------------------------------------------------------------- titration and maintenance
# The plan page's two other actions (views.plan_action "titrate" and "maintenance"): the same
# forms over the body, the same services, If-Match checked under the plan's row lock.


class PlanTitration(RequestBody):
    """A new dose from one session on, with the reason. IV and IM take `dose_mg_per_kg`
    (within the clinic's range for the route); esketamine and sublingual `esketamine_dose_mg`
    (esketamine: one of the label's doses)."""

    from_session: int = Field(..., description="The first session to change (numbered from 1)")
    dose_mg_per_kg: DecimalIn | None = Field(None, description="IV and IM: the new mg/kg")
    esketamine_dose_mg: int | None = Field(None, description="Esketamine and sublingual: mg")
    reason: OneLine = Field(..., max_length=300, description="Why the dose changes")


class PlanMaintenance(RequestBody):
    """Maintenance sessions appended after the last planned one."""

    interval_weeks: int = Field(..., description="Weeks apart (2 to 8)")
    count: int = Field(..., description="How many sessions to add (1 to 52)")
    start_date: datetime.date = Field(..., description="The first maintenance session")


def _page_form(form, payload: RequestBody, *, route: str) -> dict:
    """The page's form over the body: its cleaned data, or its messages named by the body's
    fields. A dose field the plan's route does not take is refused, not ignored."""
    problems: dict[str, list[str]] = {}
    for name, value in payload.model_dump().items():
        if value is not None and name not in form.fields:
            problems[name] = [f"The {route} route does not take this choice."]
    if not form.is_valid():
        for field, messages in form.errors.items():
            problems.setdefault(field, []).extend(str(message) for message in messages)
    if problems:
        raise InvalidInput(problems)
    return form.cleaned_data


def _form_data(payload: RequestBody) -> dict[str, str]:
    return {
        name: value.isoformat() if isinstance(value, datetime.date) else str(value)
        for name, value in payload.model_dump(exclude_none=True).items()
    }


@router.post(
    ONE_PLAN + "/titrate",
    response=_CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Titrate: a new dose from one session on (prescriber on the care team)",
    description=(
        "As the plan page: every later session not cancelled gets the new dose, calculated on "
        "the patient's latest weight, with the reason. 422 naming the field with the page's "
        "words (a dose outside the clinic's range for the route, a session after the last); "
        "409 `plan_finished` for a completed or discontinued plan. `If-Match` required."
    ),
)
def plan_titrate(
    request,
    patient_uuid: uuid.UUID,
    plan_uuid: uuid.UUID,
    payload: PlanTitration,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    plan = _plan_for_change(request, patient_uuid, plan_uuid)
    sessions = selectors.planned_session_list(plan=plan)
    form = TitrationForm(
        _form_data(payload),
        route=plan.route,
        last_session=sessions[-1].number if sessions else None,
    )
    titrated = services.plan_titrate(
        actor=request.auth,
        plan=plan,
        precondition=precondition(if_match, plan_etag),
        **_page_form(form, payload, route=plan.route),
    )
    return _answer(response, titrated)


@router.post(
    ONE_PLAN + "/maintenance",
    response=_CHANGED,
    openapi_extra=etag_openapi(200),
    summary="Add maintenance sessions (prescriber on the care team)",
    description=(
        "As the plan page: `count` sessions `interval_weeks` apart from `start_date`, after the "
        "last planned session, at the latest session's dose (mg/kg on today's weight for IV "
        "and IM). 422 naming the field; 409 `plan_not_active` unless the plan is active. "
        "`If-Match` required."
    ),
)
def plan_maintenance(
    request,
    patient_uuid: uuid.UUID,
    plan_uuid: uuid.UUID,
    payload: PlanMaintenance,
    response: HttpResponse,
    if_match: OneLine | None = IfMatch,
):
    plan = _plan_for_change(request, patient_uuid, plan_uuid)
    last = selectors.last_planned_session(plan=plan)
    form = MaintenanceForm(_form_data(payload), last_planned=last.planned_date if last else None)
    extended = services.plan_set_maintenance(
        actor=request.auth,
        plan=plan,
        precondition=precondition(if_match, plan_etag),
        **_page_form(form, payload, route=plan.route),
    )
    return _answer(response, extended)
