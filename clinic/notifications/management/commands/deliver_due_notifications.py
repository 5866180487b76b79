from django.core.management.base import BaseCommand

from clinic.notifications.abandoned import abandoned_tasks_fail
from clinic.notifications.delivery import enqueue_delivery
from clinic.notifications.selectors import notifications_due


class Command(BaseCommand):
    help = (
        "Queue delivery of every alert e-mail that is due (pending, or failed and past its "
        "retry time), and mark failed any task a stopped worker left running. Run it every few "
        "minutes from cron, beside `manage.py db_worker`."
    )

    def handle(self, *args, **options):
        due = notifications_due()
        for notification_id in due:
            enqueue_delivery(notification_id)
        self.stdout.write(f"Queued {len(due)} notification(s).")
        abandoned = abandoned_tasks_fail()
        if abandoned:
            self.stdout.write(f"Marked {abandoned} task(s) failed: their worker stopped.")
