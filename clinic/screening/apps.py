from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "clinic.screening"
    label = "screening"
    verbose_name = "Screening and eligibility"

    def ready(self):
        from clinic.patients.chart import register_alert_provider, register_section
        from clinic.screening import chart

        register_alert_provider(chart.header_alerts)
        register_section(chart.SECTION)
