from django.apps import AppConfig


class ProtocolsConfig(AppConfig):
    name = "clinic.protocols"
    label = "protocols"
    verbose_name = "Protocols and treatment plans"
