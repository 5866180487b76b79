from django.conf import settings

from clinic.core.clinic_phone import clinic_phone


def clinic(request):
    user = getattr(request, "user", None)
    can = getattr(user, "can", None)
    return {
        "clinic_name": settings.CLINIC_NAME,
        # None when the clinic has not set CLINIC_PHONE (see core/_call_the_clinic.html).
        "clinic_phone": clinic_phone(),
        # Shared pages (errors, the second-factor check) keep a patient inside the portal's
        # frame, with its crisis resources.
        "base_template": (
            "portal/base.html"
            if getattr(user, "is_authenticated", False) and user.is_patient_principal
            else "base.html"
        ),
        "perms_audit_view": bool(can and can("audit.view")),
        "perms_consultations": bool(can and can("consultation.manage")),
        "perms_schedule": bool(can and can("schedule.view")),
        "perms_ledger": bool(can and can("ledger.view")),
        "perms_session_board": bool(can and can("session.board")),
        "perms_staff_manage": bool(can and can("staff.manage")),
        "perms_location_manage": bool(can and can("location.manage")),
        "perms_payers": bool(can and can("payer.manage")),
        "perms_charges": bool(can and can("charge.view")),
        "perms_charge_manage": bool(can and can("charge.manage")),
        "perms_fee_schedule": bool(can and can("fee_schedule.manage")),
        "perms_coverage": bool(can and can("coverage.view")),
        "perms_prior_auth_manage": bool(can and can("prior_auth.manage")),
        "perms_account": bool(can and can("account.view")),
        # The in-basket (clinic/dashboard/inbasket.py) is for whoever reads clinical records.
        "perms_inbasket": bool(can and can("patient.view_clinical")),
    }
