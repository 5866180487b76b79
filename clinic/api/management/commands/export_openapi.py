import json

from django.core.management.base import BaseCommand

from clinic.api.api import api


class Command(BaseCommand):
    help = "Print the OpenAPI document of /api/v1/ (commit it as docs/openapi.json)."

    def handle(self, *args, **options):
        schema = api.get_openapi_schema(path_prefix="/api/v1/")
        self.stdout.write(json.dumps(schema, indent=2, sort_keys=True))
