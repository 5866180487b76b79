from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "clinic.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from clinic.billing import chart
        from clinic.billing.services.charges import code_signed_session_quietly
        from clinic.patients.chart import register_alert_provider, register_section
        from clinic.treatment_sessions.signals import session_signed

        register_section(chart.SECTION)
        session_signed.connect(code_signed_session_quietly, dispatch_uid="billing.charge")
        register_alert_provider(chart.coverage_alerts)
