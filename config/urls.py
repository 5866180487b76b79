from django.contrib import admin
from django.urls import include, path

from clinic.api.api import api
from clinic.core.views_favicon import favicon
from clinic.core.views_health import healthz

urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
    path("healthz", healthz, name="healthz"),
    path("", include("clinic.dashboard.urls")),
    path("audit/", include("clinic.core.urls")),
    path("accounts/", include("clinic.accounts.urls")),
    path("patients/", include("clinic.patients.urls")),
    path("screening/", include("clinic.screening.urls")),
    path("locations/", include("clinic.locations.urls")),
    path("schedule/", include("clinic.scheduling.urls")),
    path("controlled-substances/", include("clinic.controlled_substances.urls")),
    path("sessions/", include("clinic.treatment_sessions.urls")),
    path("billing/", include("clinic.billing.urls")),
    path("portal/", include("clinic.portal.urls")),
    path("at-home/", include("clinic.home_program.urls")),
    path("consultation/", include("clinic.public_site.urls")),
    path("learn/", include("clinic.public_site.urls_learn")),
    path("", include("clinic.assessments.urls")),
    path("", include("clinic.screening.urls_intake")),
    path("", include("clinic.protocols.urls")),
    path("api/v1/", api.urls),
    path("fhir/R4/", include("clinic.fhir.urls")),
    path("imports/", include("clinic.fhir.urls_import")),
    path("admin/", admin.site.urls),
]
