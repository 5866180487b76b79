from django.conf import settings


def clinic(request):
    user = getattr(request, "user", None)
    can = getattr(user, "can", None)
    return {
        "clinic_name": settings.CLINIC_NAME,
        "perms_audit_view": bool(can and can("audit.view")),
        "perms_consultations": bool(can and can("consultation.manage")),
        "perms_schedule": bool(can and can("schedule.view")),
        "perms_ledger": bool(can and can("ledger.view")),
        "perms_session_board": bool(can and can("session.board")),
    }
