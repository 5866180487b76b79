from django.apps import AppConfig


class TreatmentSessionsConfig(AppConfig):
    name = "clinic.treatment_sessions"
    label = "treatment_sessions"
    verbose_name = "Treatment sessions"

    def ready(self):
        from clinic.patients.chart import register_section
        from clinic.treatment_sessions import chart

        register_section(chart.SECTION)
