from django.core.management.base import BaseCommand

from clinic.core.request_context import RequestContext, request_context
from clinic.fhir.bulk_export import exports_expire


class Command(BaseCommand):
    help = (
        "Delete the files of every FHIR bulk export past its expiry (CLINIC_POLICY"
        '["bulk_export"]["download_valid_hours"]), and fail every export whose worker stopped '
        "writing. Run it every 15 minutes from cron."
    )

    def handle(self, *args, **options):
        with request_context(RequestContext(channel="command")):
            expired, abandoned = exports_expire()
        self.stdout.write(
            f"Deleted the files of {expired} expired export(s); "
            f"{abandoned} abandoned export(s) marked failed."
        )
