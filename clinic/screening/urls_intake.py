from django.urls import path

from clinic.screening import views_intake as views

app_name = "intake"

urlpatterns = [
    path("patients/<uuid:patient_uuid>/intake/", views.intake_edit, name="intake_edit"),
    path(
        "patients/<uuid:patient_uuid>/intake/link/",
        views.intake_link_create,
        name="intake_link_create",
    ),
    path(
        "patients/<uuid:patient_uuid>/eligibility/",
        views.eligibility_review,
        name="eligibility_review",
    ),
    path("patients/<uuid:patient_uuid>/rems/", views.rems_create, name="rems_create"),
    path("intake/<str:token>/", views.intake_public_start, name="public_start"),
    path("intake/", views.intake_public_fill, name="public_fill"),
    path("screening/rules/", views.rule_set, name="rule_set"),
]
