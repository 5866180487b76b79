from django.core.management.base import BaseCommand

from clinic.assessments.services import notifications_due
from clinic.assessments.tasks import enqueue_delivery


class Command(BaseCommand):
    help = (
        "Queue delivery of every alert e-mail that is due (pending, or failed and past its "
        "retry time). Run it every few minutes from cron, beside `manage.py db_worker`."
    )

    def handle(self, *args, **options):
        due = notifications_due()
        for notification_id in due:
            enqueue_delivery(notification_id)
        self.stdout.write(f"Queued {len(due)} notification(s).")
