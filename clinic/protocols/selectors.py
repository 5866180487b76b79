"""Reads of protocol templates and treatment plans. A plan is part of a patient's clinical record:
its reads take the actor and answer only for the patient's care team (and clinic admins)."""

from __future__ import annotations

import uuid

from django.db.models import Exists, OuterRef, QuerySet

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.api_pages import Keyset, KeysetPage, keyset_page
from clinic.core.audit import audit_record
from clinic.core.choices import AuditAction
from clinic.core.exceptions import NotFound, PermissionDenied
from clinic.patients.models import Patient
from clinic.patients.selectors import (
    CurrentBody,
    body_measurements_for_dosing,
    can_view_clinical,
    current_body,
    record_in_reach,
    require_clinical_view,
)
from clinic.protocols.models import PlannedSession, ProtocolTemplate, TreatmentPlan


def template_list() -> list[ProtocolTemplate]:
    """The latest active version of each template that names its route, by code."""
    latest: dict[str, ProtocolTemplate] = {}
    for template in (
        ProtocolTemplate.objects.filter(is_active=True)
        .exclude(route="")
        .order_by("code", "-version")
    ):
        latest.setdefault(template.code, template)
    return list(latest.values())


def template_reader_check(*, actor: User) -> None:
    """As the templates page: the clinicians, who plan from them, and whoever manages them."""
    if not (
        actor.can(Capability.PATIENT_VIEW_CLINICAL)
        or actor.can(Capability.PROTOCOL_MANAGE_TEMPLATES)
    ):
        raise PermissionDenied("Your role does not read protocol templates.")


def _latest_templates() -> QuerySet[ProtocolTemplate]:
    """`template_list`'s templates as one query: the active versions that name their route
    with no newer such version of their code."""
    planned = ProtocolTemplate.objects.filter(is_active=True).exclude(route="")
    newer = planned.filter(code=OuterRef("code"), version__gt=OuterRef("version"))
    return planned.exclude(Exists(newer))


def template_page(*, actor: User, after: list | None, limit: int) -> KeysetPage[ProtocolTemplate]:
    """A page of `template_list` by code (one version per code, so the code orders them)."""
    template_reader_check(actor=actor)
    rows = _latest_templates().order_by("code")
    if after:
        rows = rows.filter(code__gt=str(after[0]))
    found = list(rows[: limit + 1])
    items = found[:limit]
    return KeysetPage(items=items, next_after=[items[-1].code] if len(found) > limit else None)


def template_get(*, actor: User, code: str, version: int | None = None) -> ProtocolTemplate:
    """A template's latest version (the one a new plan is made from), or one version of it,
    retired ones included, as a plan pinned to it names it."""
    template_reader_check(actor=actor)
    rows = (
        _latest_templates().filter(code=code)
        if version is None
        else ProtocolTemplate.objects.filter(code=code, version=version)
    )
    found = rows.first()
    if found is None:
        raise NotFound("No such protocol template.")
    return found


def plan_get(*, actor: User, patient: Patient, plan_uuid: uuid.UUID) -> TreatmentPlan:
    """One of the patient's plans, for the care team; the clinical refusal is audited."""
    require_clinical_view(actor=actor, patient=patient, purpose="treatment plan")
    plan = (
        TreatmentPlan.objects.filter(patient=patient, uuid=plan_uuid)
        .select_related("template", "prescribed_by", "eligibility_decision")
        .first()
    )
    if plan is None:
        raise NotFound()
    return plan


def plan_list(*, actor: User, patient: Patient) -> list[TreatmentPlan]:
    """The patient's plans with their templates; none for those outside the care team."""
    if not can_view_clinical(actor=actor, patient=patient):
        return []
    return list(TreatmentPlan.objects.filter(patient=patient).select_related("template"))


def plans_read(*, actor: User, patient: Patient, purpose: str) -> list[TreatmentPlan]:
    """The patient's plans, newest first, for reading outside the chart (FHIR CarePlan):
    refused, not empty, outside the care team, since an empty list would read as "no plan";
    audited."""
    require_clinical_view(actor=actor, patient=patient, purpose=purpose)
    plans = list(
        TreatmentPlan.objects.filter(patient=patient)
        .select_related("template", "prescribed_by")
        .order_by("-start_date", "-id")
    )
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="treatment_plan",
        patient=patient,
        summary=f"{len(plans)} treatment plans ({purpose})"[:300],
    )
    return plans


def plan_in_reach(*, actor: User, plan_uuid: object, purpose: str) -> TreatmentPlan:
    """One plan by its UUID alone (FHIR MedicationRequest read), for a clinician who may see
    the patient's clinical record; otherwise not found, audited as a denial. A role that never
    sees clinical records is refused outright."""
    require(actor, Capability.PATIENT_VIEW_CLINICAL)
    return record_in_reach(
        actor=actor,
        queryset=TreatmentPlan.objects.select_related("patient", "template", "prescribed_by"),
        record_uuid=plan_uuid,
        object_type="treatment_plan",
        patient_of=lambda plan: plan.patient,
        not_found_message="No such plan, or the patient is not in your reach.",
        in_reach=lambda plan: can_view_clinical(actor=actor, patient=plan.patient),
        view_summary=purpose,
    )


def planned_session_list(*, plan: TreatmentPlan) -> list[PlannedSession]:
    """A plan's sessions in order (the plan was read through `plan_get`)."""
    return list(plan.sessions.all())


def last_planned_session(*, plan: TreatmentPlan) -> PlannedSession | None:
    """The plan's session planned latest (maintenance is added after it)."""
    return plan.sessions.order_by("-planned_date").first()


def dosing_body(*, patient: Patient) -> CurrentBody:
    """The latest weight and height a dose is calculated from. For a service that has already
    checked reach."""
    return current_body(measurements=body_measurements_for_dosing(patient=patient))


PLAN_ORDER = Keyset(("-start_date",))


def plan_page(
    *, actor: User, patient: Patient, after: list | None, limit: int
) -> KeysetPage[TreatmentPlan]:
    """A page of the patient's plans, newest start first, for the API: refused, not empty,
    outside the care team (as `plans_read`); audited."""
    require_clinical_view(actor=actor, patient=patient, purpose="api treatment plans")
    page = keyset_page(
        TreatmentPlan.objects.filter(patient=patient).select_related("template", "prescribed_by"),
        keyset=PLAN_ORDER,
        after=after,
        limit=limit,
    )
    audit_record(
        actor=actor,
        action=AuditAction.LIST,
        object_type="treatment_plan",
        patient=patient,
        summary=f"{len(page.items)} treatment plans (api)",
    )
    return page
