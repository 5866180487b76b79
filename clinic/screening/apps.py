from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "clinic.screening"
    label = "screening"
    verbose_name = "Screening and eligibility"
