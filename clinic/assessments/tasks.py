"""The outbox's delivery task lives in `clinic.notifications.delivery`; the questionnaire
reminders' task in `clinic.dashboard.tasks` (it reads scheduling's sessions, above this app).

Kept for the task queue: deliveries queued before the outbox moved name their task by this
module's path, and the database backend imports that path to run them.
"""

from clinic.notifications.delivery import deliver_notification as deliver_notification
