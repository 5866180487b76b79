from django.urls import path

from clinic.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.home, name="home"),
    path("in-basket/", views.inbasket, name="inbasket"),
    path("in-basket/count/", views.inbasket_count, name="inbasket_count"),
]
