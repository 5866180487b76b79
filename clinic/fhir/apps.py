from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "clinic.fhir"
    label = "fhir"
    verbose_name = "FHIR"
