from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "clinic.dashboard"
    label = "dashboard"
    verbose_name = "Staff home"
