from django.apps import AppConfig


class ControlledSubstancesConfig(AppConfig):
    name = "clinic.controlled_substances"
    label = "controlled_substances"
    verbose_name = "Controlled substances"
