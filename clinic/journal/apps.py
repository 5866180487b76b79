from django.apps import AppConfig


class JournalConfig(AppConfig):
    name = "clinic.journal"
    label = "journal"
    verbose_name = "Intentions and integration journal"

    def ready(self):
        from clinic.journal import chart
        from clinic.patients.chart import register_section

        register_section(chart.SECTION)
