"""Patient endpoints: the pages' selectors and services, so the same checks and audit."""

from __future__ import annotations

import uuid

from ninja import Query, Router, Status

from clinic.accounts.models import User
from clinic.accounts.permissions import Capability
from clinic.core.access import require
from clinic.core.api_pages import CursorQuery, cursor_decode, cursor_encode
from clinic.core.exceptions import InvalidInput
from clinic.core.parsing import record_uuid
from clinic.patients import selectors, selectors_api, services
from clinic.patients.duplicates import PossibleDuplicatePatient
from clinic.patients.models import Patient
from clinic.patients.schemas import (
    CareTeamMemberRead,
    CareTeamWrite,
    EnteredInError,
    MeasurementCreate,
    MeasurementRead,
    MeasurementsRead,
    PatientCreate,
    PatientDuplicateConflict,
    PatientPage,
    PatientRead,
    PatientSearch,
    PatientUpdate,
    duplicate_conflict,
)

router = Router(tags=["patients"])


def _care_team(patient: Patient) -> list[dict]:
    return [
        {
            "team_role": member.team_role,
            "staff": {
                "uuid": member.staff.uuid,
                "name": member.staff.display_name,
                "role": member.staff.role,
            },
        }
        for member in patient.care_team_members.all()
    ]


def _summary(patient: Patient) -> dict:
    return {
        "uuid": patient.uuid,
        "mrn": patient.mrn,
        "legal_given_name": patient.legal_given_name,
        "legal_family_name": patient.legal_family_name,
        "preferred_name": patient.preferred_name,
        "date_of_birth": patient.date_of_birth,
        "age_years": patient.age_years(),
        "sex": patient.sex,
        "is_active": patient.is_active,
    }


def _read(patient: Patient) -> dict:
    data = _summary(patient)
    data.update({name: getattr(patient, name) for name in services.DEMOGRAPHIC_FIELDS})
    data.update(
        care_team=_care_team(patient),
        created_at=patient.created_at,
        updated_at=patient.updated_at,
    )
    return data


PAGE_NUMBERS_GONE = (
    "The patient list is paged by cursor now: leave out `page` and send `next_cursor` back as "
    "`cursor`."
)
PAGING = (
    " A page at a time, by family then given name: send `next_cursor` back as `cursor` (null: "
    "the last page). Breaking change: `page` (the page numbers of before) is refused with 422, "
    "and the page no longer says `count`, `page`, `pages` or `page_size`."
)


def _page(request, *, scope: str, search: str, cursor: str | None, limit: int) -> dict:
    # Bound to the list and its search: a cursor sent to another list or with other terms
    # is refused (422), never read as "from the start".
    filters = {"query": search}
    after = cursor_decode(cursor, scope=scope, filters=filters)
    page = selectors_api.patient_cursor_page(
        actor=request.auth,
        search=search,
        after=record_uuid(after[0]) if after else None,
        limit=limit,
    )
    return {
        "items": [_summary(p) for p in page.items],
        "next_cursor": (
            cursor_encode([str(page.next_after)], scope=scope, filters=filters)
            if page.next_after
            else None
        ),
    }


@router.get(
    "",
    response=PatientPage,
    summary="List patients you may see",
    description="Every patient you may see." + PAGING,
)
def patient_list(request, params: Query[CursorQuery]):
    if "page" in request.GET:
        # A client still sending page numbers would otherwise read the first page over and over.
        raise InvalidInput({"page": [PAGE_NUMBERS_GONE]})
    return _page(request, scope="patients", search="", cursor=params.cursor, limit=params.limit)


@router.post(
    "/search",
    response=PatientPage,
    summary="Search by name, MRN or date of birth",
    description=(
        "Every word must match a name, the start of an MRN or a date of birth (YYYY-MM-DD). "
        "The terms go in the body, never in a URL; the cursor too." + PAGING
    ),
)
def patient_search(request, payload: PatientSearch):
    # A POST body, so search terms (names, dates of birth) never appear in a URL or access log.
    return _page(
        request,
        scope="patients_search",
        search=payload.query,
        cursor=payload.cursor,
        limit=payload.limit,
    )


@router.post(
    "",
    response={201: PatientRead, 409: PatientDuplicateConflict},
    summary="Register a patient",
    description=(
        "Refused with 409 `possible_duplicate_patient` while a patient with the same name and "
        "date of birth, the same e-mail or the same phone number is registered: the body lists "
        "them (who they are only where you may open them). Open that patient instead, or send "
        "the request again with `confirm_new_patient: true` once you have checked that this is "
        "a different person."
    ),
)
def patient_create(request, payload: PatientCreate):
    data = payload.model_dump()
    confirm = data.pop("confirm_new_patient")
    try:
        patient = services.patient_register(
            actor=request.auth, data=data, confirm_new_patient=confirm
        )
    except PossibleDuplicatePatient as error:
        return Status(409, duplicate_conflict(error))
    patient = selectors.patient_get(actor=request.auth, patient_uuid=patient.uuid, purpose="api")
    return Status(201, _read(patient))


@router.get(
    "/{patient_uuid}", response=PatientRead, summary="A patient's demographics and care team"
)
def patient_detail(request, patient_uuid: uuid.UUID):
    return _read(
        selectors.patient_get(actor=request.auth, patient_uuid=patient_uuid, purpose="api")
    )


@router.patch("/{patient_uuid}", response=PatientRead, summary="Change demographics")
def patient_update(request, patient_uuid: uuid.UUID, payload: PatientUpdate):
    require(request.auth, Capability.PATIENT_EDIT_DEMOGRAPHICS)  # before looking anything up
    patient = selectors.patient_get(
        actor=request.auth, patient_uuid=patient_uuid, purpose="api update"
    )
    changed = services.patient_update(
        actor=request.auth, patient=patient, data=payload.model_dump(exclude_unset=True)
    )
    return _read(
        selectors.patient_get(actor=request.auth, patient_uuid=changed.uuid, purpose="api")
    )


@router.get(
    "/{patient_uuid}/care-team",
    response=list[CareTeamMemberRead],
    summary="A patient's care team",
)
def care_team_detail(request, patient_uuid: uuid.UUID):
    return _care_team(
        selectors.patient_get(
            actor=request.auth, patient_uuid=patient_uuid, purpose="api care team"
        )
    )


def _staff_by_uuid(field: str, keys: list[uuid.UUID]) -> list[User]:
    found = {u.uuid: u for u in User.objects.filter(uuid__in=keys)}
    missing = [str(k) for k in keys if k not in found]
    if missing:
        raise InvalidInput({field: [f"No staff member with id {k}." for k in missing]})
    return [found[k] for k in keys]


@router.put(
    "/{patient_uuid}/care-team",
    response=list[CareTeamMemberRead],
    summary="Replace a patient's care team",
)
def care_team_replace(request, patient_uuid: uuid.UUID, payload: CareTeamWrite):
    # The role first: a refusal must not tell whether the patient or a staff id exists.
    require(request.auth, Capability.PATIENT_EDIT_CARE_TEAM)
    patient = selectors.patient_get(
        actor=request.auth, patient_uuid=patient_uuid, purpose="api care team"
    )
    primary = payload.primary_prescriber
    services.care_team_set(
        actor=request.auth,
        patient=patient,
        primary_prescriber=_staff_by_uuid("primary_prescriber", [primary])[0] if primary else None,
        prescribers=_staff_by_uuid("prescribers", payload.prescribers),
        nurses=_staff_by_uuid("nurses", payload.nurses),
        therapists=_staff_by_uuid("therapists", payload.therapists),
    )
    return _care_team(
        selectors.patient_get(
            actor=request.auth, patient_uuid=patient_uuid, purpose="api care team"
        )
    )


def _measurements(actor, patient: Patient) -> dict:
    selectors.require_clinical_view(actor=actor, patient=patient, purpose="api measurements")
    measurements = selectors.body_measurement_list(actor=actor, patient=patient)
    body = selectors.current_body(measurements=measurements)
    return {
        "current_weight_kg": body.weight_kg,
        "current_height_cm": body.height_cm,
        "bmi_kg_m2": body.bmi_kg_m2,
        "measurements": [
            {
                "uuid": m.uuid,
                "measured_on": m.measured_on,
                "weight_kg": m.weight_kg,
                "height_cm": m.height_cm,
                "recorded_by": m.recorded_by.display_name,
                "entered_in_error": m.entered_in_error_at is not None,
                "entered_in_error_reason": m.entered_in_error_reason,
            }
            for m in measurements
        ],
    }


@router.get(
    "/{patient_uuid}/measurements",
    response=MeasurementsRead,
    summary="A patient's weights and heights",
)
def measurement_list(request, patient_uuid: uuid.UUID):
    patient = selectors.patient_get(
        actor=request.auth, patient_uuid=patient_uuid, purpose="api measurements"
    )
    return _measurements(request.auth, patient)


@router.post(
    "/{patient_uuid}/measurements",
    response={201: MeasurementRead},
    summary="Record a weight and height",
)
def measurement_create(request, patient_uuid: uuid.UUID, payload: MeasurementCreate):
    require(request.auth, Capability.PATIENT_RECORD_MEASUREMENTS)
    patient = selectors.patient_get(
        actor=request.auth, patient_uuid=patient_uuid, purpose="api measurements"
    )
    m = services.body_measurement_record(
        actor=request.auth, patient=patient, **payload.model_dump()
    )
    return Status(
        201,
        {
            "uuid": m.uuid,
            "measured_on": m.measured_on,
            "weight_kg": m.weight_kg,
            "height_cm": m.height_cm,
            "recorded_by": m.recorded_by.display_name,
            "entered_in_error": False,
            "entered_in_error_reason": "",
        },
    )


@router.post(
    "/{patient_uuid}/measurements/{measurement_uuid}/entered-in-error",
    response=MeasurementsRead,
    summary="Mark a measurement entered in error, with the reason",
)
def measurement_entered_in_error(
    request, patient_uuid: uuid.UUID, measurement_uuid: uuid.UUID, payload: EnteredInError
):
    require(request.auth, Capability.PATIENT_RECORD_MEASUREMENTS)
    patient = selectors.patient_get(
        actor=request.auth, patient_uuid=patient_uuid, purpose="api measurements"
    )
    selectors.require_clinical_act(
        actor=request.auth,
        patient=patient,
        capability=Capability.PATIENT_RECORD_MEASUREMENTS,
        message="Only the care team's prescribers and nurses correct measurements.",
    )
    measurement = selectors.body_measurement_get(patient=patient, measurement_uuid=measurement_uuid)
    services.body_measurement_mark_entered_in_error(
        actor=request.auth, measurement=measurement, reason=payload.reason
    )
    return _measurements(request.auth, patient)
