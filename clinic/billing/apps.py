from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "clinic.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from clinic.billing import chart
        from clinic.patients.chart import register_alert_provider, register_section

        register_section(chart.SECTION)
        register_alert_provider(chart.coverage_alerts)
