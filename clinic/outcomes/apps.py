from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "clinic.outcomes"
    label = "outcomes"
    verbose_name = "Outcomes"
