from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "clinic.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        # accounts sits below the outbox and cannot import it: it is handed the queue.
        from clinic.accounts.outbox import register_outbox
        from clinic.notifications.services import notification_queue

        register_outbox(notification_queue)
