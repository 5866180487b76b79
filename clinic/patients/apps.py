from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "clinic.patients"
    label = "patients"
    verbose_name = "Patients"

    def ready(self):
        from clinic.patients import portal_access, selectors_records
        from clinic.patients.chart import ChartSection, register_section

        register_section(
            ChartSection(
                order=90,
                template="patients/_portal_section.html",
                context=portal_access.chart_section_context,
            )
        )
        register_section(
            ChartSection(
                order=95,
                template="patients/_records_section.html",
                context=selectors_records.chart_section_context,
            )
        )
