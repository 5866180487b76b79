from django.urls import path

from clinic.public_site import views

app_name = "public_site"

urlpatterns = [
    path("", views.consultation_request, name="consultation_request"),
    path("thanks/", views.consultation_thanks, name="consultation_thanks"),
]
