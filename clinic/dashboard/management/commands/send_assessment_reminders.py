from django.core.management.base import BaseCommand

from clinic.assessments.services import assessment_reminders_send
from clinic.core.request_context import RequestContext, request_context
from clinic.scheduling.selectors import in_clinic_session_bounds


class Command(BaseCommand):
    help = (
        "E-mail patients a questionnaire link for every assessment due under the clinic's "
        "schedule (once per open link). Run daily from cron; `db_worker` sends the e-mail."
    )

    def handle(self, *args, **options):
        with request_context(RequestContext(channel="command")):
            queued = assessment_reminders_send(session_bounds=in_clinic_session_bounds)
        self.stdout.write(f"Queued {queued} reminder(s).")
