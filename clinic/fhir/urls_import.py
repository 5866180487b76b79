from django.urls import path

from clinic.fhir import views_import

app_name = "imports"

urlpatterns = [
    path("", views_import.import_start, name="start"),
    path("template.csv", views_import.csv_template, name="csv_template"),
    path("<uuid:batch_uuid>/", views_import.import_detail, name="detail"),
    path("<uuid:batch_uuid>/import/", views_import.import_run, name="run"),
]
