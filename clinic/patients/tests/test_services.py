import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from clinic.core.exceptions import InvalidInput, NotFound, PermissionDenied
from clinic.core.models import AuditEvent
from clinic.patients import services
from clinic.patients.measurements import mrn_is_valid
from clinic.patients.models import BodyMeasurement, CareTeamMember, Patient
from clinic.patients.tests.factories import register

pytestmark = pytest.mark.django_db


def test_registration_assigns_a_valid_unique_mrn_and_audits(front_desk):
    first = register(front_desk)
    second = register(front_desk, legal_given_name="Avery")
    assert mrn_is_valid(first.mrn) and mrn_is_valid(second.mrn)
    assert first.mrn != second.mrn
    event = AuditEvent.objects.get(action="create", object_type="patient", patient=first)
    assert event.actor == front_desk
    assert event.changes["legal_family_name"] == {"before": None, "after": "Rivera"}
    assert event.changes["mrn"]["after"] == first.mrn


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("legal_given_name", "  ", "required"),
        ("date_of_birth", timezone.localdate() + datetime.timedelta(days=1), "future"),
        ("date_of_birth", datetime.date(1880, 1, 1), "over 125"),
        ("sex", "x", "Choose one of"),
        ("phone_mobile", "call me", "phone number"),
        ("phone_mobile", "12345", "phone number"),
        ("email", "not-an-email", "valid email"),
        ("country", "USA", "two-letter"),
    ],
)
def test_bad_demographics_are_refused_naming_the_field_and_nothing_is_saved(
    front_desk, field, value, message
):
    with pytest.raises(InvalidInput) as caught:
        register(front_desk, **{field: value})
    assert field in caught.value.errors
    assert message in " ".join(caught.value.errors[field])
    assert Patient.objects.count() == 0
    assert not AuditEvent.objects.filter(action="create", object_type="patient").exists()


@pytest.mark.parametrize("role", ["prescriber", "nurse", "therapist", "billing"])
def test_only_front_desk_and_admin_register_patients(make_staff, role):
    with pytest.raises(PermissionDenied):
        register(make_staff(role))
    assert Patient.objects.count() == 0


def test_update_records_before_and_after_of_changed_fields_only(front_desk):
    patient = register(front_desk, city="Boston")
    services.patient_update(
        actor=front_desk, patient=patient, data={"city": "Salem", "legal_family_name": "Rivera"}
    )
    patient.refresh_from_db()
    assert patient.city == "Salem"
    event = AuditEvent.objects.get(action="update", object_type="patient")
    assert event.changes == {"city": {"before": "Boston", "after": "Salem"}}


def test_update_without_changes_writes_no_event(front_desk):
    patient = register(front_desk)
    services.patient_update(actor=front_desk, patient=patient, data={"legal_given_name": "Jordan"})
    assert not AuditEvent.objects.filter(action="update").exists()


def test_clinician_off_the_care_team_cannot_update(front_desk, nurse):
    patient = register(front_desk)
    with pytest.raises(NotFound):
        services.patient_update(actor=nurse, patient=patient, data={"city": "Salem"})
    patient.refresh_from_db()
    assert patient.city == ""


def test_care_team_set_replaces_members_and_audits(front_desk, prescriber, nurse, therapist):
    patient = register(front_desk)
    services.care_team_set(
        actor=front_desk, patient=patient, primary_prescriber=prescriber, nurses=[nurse]
    )
    services.care_team_set(
        actor=front_desk, patient=patient, primary_prescriber=prescriber, therapists=[therapist]
    )
    roles = dict(
        CareTeamMember.objects.filter(patient=patient).values_list("staff__username", "team_role")
    )
    assert roles == {"prescriber": "primary_prescriber", "therapist": "therapist"}
    last = AuditEvent.objects.filter(object_type="care_team").order_by("-id").first()
    assert last.changes["care_team"] == {
        "before": ["nurse:nurse", "primary_prescriber:prescriber"],
        "after": ["primary_prescriber:prescriber", "therapist:therapist"],
    }


def test_care_team_members_must_hold_the_matching_role(front_desk, nurse, prescriber):
    patient = register(front_desk)
    with pytest.raises(InvalidInput) as caught:
        services.care_team_set(
            actor=front_desk, patient=patient, primary_prescriber=nurse, nurses=[prescriber]
        )
    assert set(caught.value.errors) == {"primary_prescriber", "nurses"}
    assert not CareTeamMember.objects.exists()


def test_deactivated_staff_cannot_join_a_care_team(front_desk, make_staff):
    gone = make_staff("nurse", username="gone")
    gone.is_active = False
    gone.save()
    patient = register(front_desk)
    with pytest.raises(InvalidInput):
        services.care_team_set(
            actor=front_desk, patient=patient, primary_prescriber=None, nurses=[gone]
        )


@pytest.fixture
def team_patient(front_desk, prescriber, nurse, therapist):
    patient = register(front_desk)
    services.care_team_set(
        actor=front_desk,
        patient=patient,
        primary_prescriber=prescriber,
        nurses=[nurse],
        therapists=[therapist],
    )
    return Patient.objects.prefetch_related("care_team_members").get(pk=patient.pk)


# Plausibility ranges from policy-defaults.md: weight 25–350 kg, height 120–230 cm.
@pytest.mark.parametrize(
    ("weight", "height", "error_field"),
    [
        ("25", None, None),
        ("350", None, None),
        ("24.9", None, "weight_kg"),
        ("350.1", None, "weight_kg"),
        (None, "120", None),
        (None, "230", None),
        (None, "119.9", "height_cm"),
        (None, "230.1", "height_cm"),
        # The range applies before rounding: 24.95 is below 25 even though it rounds to 25.0.
        ("24.95", None, "weight_kg"),
        ("350.04", None, "weight_kg"),
        ("NaN", None, "weight_kg"),
        ("abc", None, "weight_kg"),
        (None, None, "weight_kg"),
    ],
)
def test_measurements_outside_the_plausible_range_are_entry_errors(
    team_patient, nurse, weight, height, error_field
):
    call = lambda: services.body_measurement_record(  # noqa: E731
        actor=nurse,
        patient=team_patient,
        measured_on=timezone.localdate(),
        weight_kg=weight,
        height_cm=height,
    )
    if error_field is None:
        measurement = call()
        assert measurement.pk is not None
    else:
        with pytest.raises(InvalidInput) as caught:
            call()
        assert error_field in caught.value.errors
        assert not BodyMeasurement.objects.exists()


def test_a_measurement_cannot_be_dated_in_the_future(team_patient, nurse):
    with pytest.raises(InvalidInput) as caught:
        services.body_measurement_record(
            actor=nurse,
            patient=team_patient,
            measured_on=timezone.localdate() + datetime.timedelta(days=1),
            weight_kg="80",
        )
    assert "measured_on" in caught.value.errors


def test_a_measurement_cannot_predate_the_patients_birth(team_patient, nurse):
    with pytest.raises(InvalidInput) as caught:
        services.body_measurement_record(
            actor=nurse,
            patient=team_patient,
            measured_on=datetime.date(1985, 4, 11),
            weight_kg="80",
        )
    assert "before the date of birth" in caught.value.errors["measured_on"][0]


def test_control_characters_are_refused_naming_the_field(front_desk):
    with pytest.raises(InvalidInput) as caught:
        register(front_desk, city="Bos\x00ton")
    assert list(caught.value.errors) == ["city"]
    assert Patient.objects.count() == 0


@pytest.mark.parametrize("who", ["therapist", "front_desk", "billing", "outsider"])
def test_only_care_team_prescribers_and_nurses_record_measurements(
    team_patient, make_staff, request, who
):
    actor = (
        make_staff("nurse", username="outsider")
        if who == "outsider"
        else request.getfixturevalue(who)
    )
    with pytest.raises(PermissionDenied):
        services.body_measurement_record(
            actor=actor, patient=team_patient, measured_on=timezone.localdate(), weight_kg="80"
        )
    assert not BodyMeasurement.objects.exists()


def test_entered_in_error_keeps_the_row_and_needs_a_reason(team_patient, nurse):
    today = timezone.localdate()
    earlier = services.body_measurement_record(
        actor=nurse,
        patient=team_patient,
        measured_on=today - datetime.timedelta(days=7),
        weight_kg="82.0",
    )
    wrong = services.body_measurement_record(
        actor=nurse, patient=team_patient, measured_on=today, weight_kg="28.0"
    )
    with pytest.raises(InvalidInput):
        services.body_measurement_mark_entered_in_error(actor=nurse, measurement=wrong, reason=" ")
    services.body_measurement_mark_entered_in_error(
        actor=nurse, measurement=wrong, reason="Typed 28 for 82"
    )
    wrong.refresh_from_db()
    assert wrong.entered_in_error_reason == "Typed 28 for 82"
    assert BodyMeasurement.objects.count() == 2
    assert BodyMeasurement.objects.valid().get() == earlier
    from clinic.patients.selectors import current_body

    body = current_body(measurements=list(BodyMeasurement.objects.filter(patient=team_patient)))
    assert body.weight_kg == Decimal("82.0")
