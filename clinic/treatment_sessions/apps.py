from django.apps import AppConfig


class TreatmentSessionsConfig(AppConfig):
    name = "clinic.treatment_sessions"
    label = "treatment_sessions"
    verbose_name = "Treatment sessions"
