from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "clinic.assessments"
    label = "assessments"
    verbose_name = "Assessments"

    def ready(self):
        from clinic.assessments import chart
        from clinic.patients.chart import register_alert_provider, register_section

        register_alert_provider(chart.header_alerts)
        register_section(chart.SECTION)
