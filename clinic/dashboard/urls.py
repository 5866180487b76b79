from django.urls import path

from clinic.dashboard import views, views_records

app_name = "dashboard"
urlpatterns = [
    path("", views.home, name="home"),
    path("in-basket/", views.inbasket, name="inbasket"),
    path("in-basket/count/", views.inbasket_count, name="inbasket_count"),
    path(
        "patients/<uuid:patient_uuid>/whole-record/<slug:file_format>/",
        views_records.whole_record_download,
        name="whole_record_download",
    ),
]
