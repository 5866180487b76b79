from django.urls import path

from clinic.scheduling import views

app_name = "scheduling"

urlpatterns = [
    path("", views.calendar, name="calendar"),
    path("plans/<uuid:plan_uuid>/book/", views.plan_book, name="plan_book"),
    path(
        "appointments/<uuid:appointment_uuid>/",
        views.appointment_detail,
        name="appointment_detail",
    ),
    path(
        "appointments/<uuid:appointment_uuid>/reschedule/",
        views.appointment_reschedule,
        name="appointment_reschedule",
    ),
    path(
        "appointments/<uuid:appointment_uuid>/cancel/",
        views.appointment_cancel,
        name="appointment_cancel",
    ),
    path(
        "appointments/<uuid:appointment_uuid>/no-show/",
        views.appointment_no_show,
        name="appointment_no_show",
    ),
    path("resources/", views.resources, name="resources"),
    path("feed/", views.calendar_feed, name="calendar_feed"),
    path("ical/<str:token>.ics", views.ical_feed, name="ical_feed"),
]
