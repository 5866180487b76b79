from django.apps import AppConfig


class ProtocolsConfig(AppConfig):
    name = "clinic.protocols"
    label = "protocols"
    verbose_name = "Protocols and treatment plans"

    def ready(self):
        from clinic.patients.chart import register_section
        from clinic.protocols import chart

        register_section(chart.SECTION)
