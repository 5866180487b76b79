from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class FhirConfig(AppConfig):
    name = "clinic.fhir"
    label = "fhir"
    verbose_name = "FHIR"

    def ready(self) -> None:
        from clinic.fhir import terminology

        # terminology.py is pure and reads KETACARE_FHIR_BASE itself; a settings module that
        # set another value would send identifiers the setting does not name.
        if terminology.KETACARE_BASE != settings.KETACARE_FHIR_BASE:
            raise ImproperlyConfigured(
                "KETACARE_FHIR_BASE in the settings differs from the environment's "
                f"({settings.KETACARE_FHIR_BASE!r} vs {terminology.KETACARE_BASE!r}): set the "
                "environment variable, not the setting."
            )
