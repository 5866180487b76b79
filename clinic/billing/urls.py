from django.urls import path

from clinic.billing import views

app_name = "billing"

urlpatterns = [
    path(
        "patients/<uuid:patient_uuid>/diagnoses/new/",
        views.diagnosis_add,
        name="diagnosis_add",
    ),
    path(
        "patients/<uuid:patient_uuid>/diagnoses/<uuid:diagnosis_uuid>/primary/",
        views.diagnosis_make_primary,
        name="diagnosis_make_primary",
    ),
    path(
        "patients/<uuid:patient_uuid>/diagnoses/<uuid:diagnosis_uuid>/resolve/",
        views.diagnosis_resolve,
        name="diagnosis_resolve",
    ),
    path(
        "patients/<uuid:patient_uuid>/diagnoses/<uuid:diagnosis_uuid>/entered-in-error/",
        views.diagnosis_entered_in_error,
        name="diagnosis_entered_in_error",
    ),
    path("icd10/", views.icd10_search, name="icd10_search"),
]
