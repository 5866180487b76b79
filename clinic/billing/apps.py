from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "clinic.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from clinic.billing import chart
        from clinic.billing.selectors_prior_auth import prior_auth_notices
        from clinic.billing.services.charges import code_signed_session_quietly
        from clinic.core.notices import register_patient_notices
        from clinic.patients.chart import register_alert_provider, register_section
        from clinic.treatment_sessions.signals import session_signed

        register_section(chart.SECTION)
        session_signed.connect(code_signed_session_quietly, dispatch_uid="billing.charge")
        register_alert_provider(chart.coverage_alerts)
        register_alert_provider(chart.prior_auth_alerts)
        register_alert_provider(chart.account_alerts)
        register_patient_notices(prior_auth_notices)
