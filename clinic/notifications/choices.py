from django.db import models


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Waiting to send"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed; will retry"
    GAVE_UP = "gave_up", "Failed; needs attention"
