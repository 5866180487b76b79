from django.urls import path

from clinic.locations import views

app_name = "locations"

urlpatterns = [
    path("", views.location_list, name="list"),
    path("new/", views.location_open, name="open"),
    path("choose/", views.location_choose, name="choose"),
    path("<uuid:location_uuid>/", views.location_detail, name="detail"),
    path("<uuid:location_uuid>/staff/", views.location_staff, name="staff"),
]
