from django.core.management.base import BaseCommand

from clinic.treatment_sessions.prescriber_requests import prescriber_reminders_send


class Command(BaseCommand):
    help = (
        "E-mail the prescribers of every chair-side request that has waited longer than the "
        "clinic's delay (CLINIC_POLICY['prescriber_requests']['email_after_min']) and has not been "
        "e-mailed yet. Run it every minute from cron, beside `manage.py db_worker`."
    )

    def handle(self, *args, **options):
        sent = prescriber_reminders_send()
        self.stdout.write(f"E-mailed about {sent} waiting request(s).")
