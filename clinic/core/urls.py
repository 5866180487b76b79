from django.urls import path

from clinic.core import views

app_name = "core"
urlpatterns = [
    path("", views.audit_list, name="audit_list"),
    path("export.csv", views.audit_export, name="audit_export"),
]
