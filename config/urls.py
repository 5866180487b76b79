from django.contrib import admin
from django.urls import include, path

from clinic.api.api import api

urlpatterns = [
    path("", include("clinic.dashboard.urls")),
    path("audit/", include("clinic.core.urls")),
    path("accounts/", include("clinic.accounts.urls")),
    path("patients/", include("clinic.patients.urls")),
    path("", include("clinic.assessments.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]
