from django.apps import AppConfig


class HomeProgramConfig(AppConfig):
    name = "clinic.home_program"
    label = "home_program"
    verbose_name = "At-home program"

    def ready(self):
        from clinic.home_program import chart
        from clinic.patients.chart import register_alert_provider, register_section

        register_alert_provider(chart.header_alerts)
        register_section(chart.SECTION)
