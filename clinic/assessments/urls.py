from django.urls import path

from clinic.assessments import views

app_name = "assessments"

urlpatterns = [
    path(
        "patients/<uuid:patient_uuid>/assessments/new/<slug:code>/",
        views.response_create,
        name="response_create",
    ),
    path(
        "patients/<uuid:patient_uuid>/assessments/<uuid:response_uuid>/",
        views.response_detail,
        name="response_detail",
    ),
    path(
        "patients/<uuid:patient_uuid>/assessments/<uuid:response_uuid>/entered-in-error/",
        views.response_entered_in_error,
        name="response_entered_in_error",
    ),
    path("patients/<uuid:patient_uuid>/questionnaire-link/", views.link_create, name="link_create"),
    path("q/<str:token>/", views.questionnaire_start, name="questionnaire_start"),
    path("q/", views.questionnaire_fill, name="questionnaire_fill"),
    path("alerts/outbox/", views.outbox, name="outbox"),
    path("alerts/<uuid:alert_uuid>/", views.alert_detail, name="alert_detail"),
]
