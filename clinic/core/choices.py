from django.db import models


class AuditAction(models.TextChoices):
    VIEW = "view", "Viewed"
    LIST = "list", "Listed"
    SEARCH = "search", "Searched"
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"
    EXPORT = "export", "Exported"
    LOGIN = "login", "Signed in"
    LOGIN_FAILED = "login_failed", "Failed sign-in"
    LOCKED_OUT = "locked_out", "Locked out"
    LOGOUT = "logout", "Signed out"
    SECOND_FACTOR = "second_factor", "Second factor"
    TOKEN = "token", "API token"
    DENIED = "denied", "Access denied"
    # Break the glass: a clinician outside the care team opened a chart in an emergency. Its
    # own action, so the audit trail can be filtered for it and no one reads past it.
    EMERGENCY_ACCESS = "emergency_access", "Emergency access (break the glass)"
