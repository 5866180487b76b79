"""The public education pages, mounted at /learn/ (the public home is "/", dashboard:home)."""

from django.urls import path

from clinic.public_site import views
from clinic.public_site.pages import PAGES

app_name = "learn"

urlpatterns = [
    path("", views.learn_index, name="index"),
    *(path(page.path, views.education_page, {"name": page.name}, name=page.name) for page in PAGES),
]
