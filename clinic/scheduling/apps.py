from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "clinic.scheduling"
    label = "scheduling"
    verbose_name = "Scheduling"

    def ready(self):
        from clinic.patients.chart import register_section
        from clinic.scheduling import chart

        register_section(chart.SECTION)
