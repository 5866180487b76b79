from django.urls import path

from clinic.home_program import views

app_name = "home_program"

urlpatterns = [
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<uuid:alert_uuid>/", views.alert_acknowledge, name="alert_acknowledge"),
]
