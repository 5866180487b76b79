from django.urls import path

from clinic.protocols import views

app_name = "protocols"

urlpatterns = [
    path("patients/<uuid:patient_uuid>/plans/new/", views.plan_new, name="plan_new"),
    path(
        "patients/<uuid:patient_uuid>/plans/<uuid:plan_uuid>/",
        views.plan_detail,
        name="plan_detail",
    ),
    path(
        "patients/<uuid:patient_uuid>/plans/<uuid:plan_uuid>/<slug:action>/",
        views.plan_action,
        name="plan_action",
    ),
    path("protocols/", views.template_list, name="template_list"),
]
