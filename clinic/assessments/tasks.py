"""The outbox's delivery task moved to `clinic.notifications.delivery`, and the questionnaire
reminders' task to `clinic.dashboard.tasks` (it reads scheduling's sessions, above this app).

Deliveries queued before the move name their task by the path below, and scheduling still
queues through `enqueue_delivery` here.
"""

from clinic.notifications.delivery import (  # re-export: remove after the renovation
    deliver_notification as deliver_notification,
)
from clinic.notifications.delivery import (  # re-export: remove after the renovation
    enqueue_delivery as enqueue_delivery,
)
