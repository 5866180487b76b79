from django.urls import path

from clinic.screening import views_consultations

app_name = "screening"

urlpatterns = [
    path("consultations/", views_consultations.consultation_list, name="consultation_list"),
    path(
        "consultations/<uuid:consultation_uuid>/",
        views_consultations.consultation_detail,
        name="consultation_detail",
    ),
    path(
        "consultations/<uuid:consultation_uuid>/convert/",
        views_consultations.consultation_convert,
        name="consultation_convert",
    ),
    path(
        "consultations/<uuid:consultation_uuid>/link/",
        views_consultations.consultation_link,
        name="consultation_link",
    ),
]
