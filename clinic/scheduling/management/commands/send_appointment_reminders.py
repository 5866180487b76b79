from django.core.management.base import BaseCommand

from clinic.core.request_context import RequestContext, request_context
from clinic.scheduling.services import appointment_reminders_send


class Command(BaseCommand):
    help = (
        "Queue the appointment reminder e-mails that are due (48 h and 24 h before each booked "
        "appointment by default; once each). Run every 15 minutes from cron; `db_worker` sends "
        "the e-mail and retries failures."
    )

    def handle(self, *args, **options):
        with request_context(RequestContext(channel="command")):
            queued = appointment_reminders_send()
        self.stdout.write(f"Queued {queued} appointment reminder(s).")
