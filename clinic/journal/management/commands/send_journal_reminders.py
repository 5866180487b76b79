from django.core.management.base import BaseCommand

from clinic.core.request_context import RequestContext, request_context
from clinic.journal.services import journal_reminders_send


class Command(BaseCommand):
    help = (
        'E-mail patients the "remind me to reflect later" reminders they asked for in their '
        "journal, each once at its time. Run every 15 minutes from cron; `db_worker` sends "
        "the e-mail."
    )

    def handle(self, *args, **options):
        with request_context(RequestContext(channel="command")):
            queued = journal_reminders_send()
        self.stdout.write(f"Queued {queued} journal reminder(s).")
