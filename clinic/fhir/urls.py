from django.urls import path, re_path

from clinic.fhir import views, views_bulk, views_medications, views_provenance

app_name = "fhir"

urlpatterns = [
    path("metadata", views.metadata, name="metadata"),
    path("Patient", views.patient_search, name="patient_search"),
    path("Patient/_search", views.patient_search_post, name="patient_search_post"),
    # Before Patient/<id>, which would read "$export" as an id.
    path("Patient/$export", views_bulk.export_all_patients, name="export_all_patients"),
    path(
        "Patient/<str:patient_id>/$export",
        views_bulk.export_one_patient,
        name="export_one_patient",
    ),
    path("$export-status/<str:export_id>", views_bulk.export_status, name="export_status"),
    path(
        "$export-file/<str:export_id>/<str:file_name>",
        views_bulk.export_file,
        name="export_file",
    ),
    path("Patient/<str:patient_id>", views.patient_read, name="patient_read"),
    path("Observation", views.observation_search, name="observation_search"),
    path("Observation/<str:observation_id>", views.observation_read, name="observation_read"),
    path("Encounter", views.encounter_search, name="encounter_search"),
    path("Condition", views.condition_search, name="condition_search"),
    path("CarePlan", views.careplan_search, name="careplan_search"),
    path("AuditEvent", views.audit_event_search, name="audit_event_search"),
    path("Appointment", views.appointment_search, name="appointment_search"),
    path("Appointment/<str:appointment_id>", views.appointment_read, name="appointment_read"),
    path(
        "Questionnaire/<str:questionnaire_id>",
        views.questionnaire_read,
        name="questionnaire_read",
    ),
    path(
        "QuestionnaireResponse",
        views.questionnaire_response_search,
        name="questionnaire_response_search",
    ),
    path(
        "QuestionnaireResponse/<str:response_id>",
        views.questionnaire_response_read,
        name="questionnaire_response_read",
    ),
    path("CodeSystem/<str:code_system_id>", views.code_system_read, name="code_system_read"),
    path("Encounter/<str:encounter_id>", views.encounter_read, name="encounter_read"),
    path("Practitioner/<str:practitioner_id>", views.practitioner_read, name="practitioner_read"),
    path(
        "MedicationAdministration",
        views_medications.medication_administration_search,
        name="medication_administration_search",
    ),
    path(
        "MedicationAdministration/<str:administration_id>",
        views_medications.medication_administration_read,
        name="medication_administration_read",
    ),
    path(
        "MedicationRequest",
        views_medications.medication_request_search,
        name="medication_request_search",
    ),
    path(
        "MedicationRequest/<str:request_id>",
        views_medications.medication_request_read,
        name="medication_request_read",
    ),
    path("Provenance", views_provenance.provenance_search, name="provenance_search"),
    path(
        "Provenance/<str:provenance_id>",
        views_provenance.provenance_read,
        name="provenance_read",
    ),
    path(
        "Organization/<str:organization_id>",
        views_provenance.organization_read,
        name="organization_read",
    ),
    # Last: anything else is answered as FHIR answers, not with the site's page.
    re_path(r"^(?P<rest>.*)$", views.not_served, name="not_served"),
]
