from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo clinic (`manage.py seed_demo`): data for every stage of care, so it may import
    every app's services."""

    name = "clinic.demo"
    label = "demo"
    verbose_name = "Demo clinic"
