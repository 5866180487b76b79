from django.conf import settings


def portal(request):
    """Crisis resources for every portal page, and whether the at-home program's pages apply."""
    context = {"crisis_resources": settings.CRISIS_RESOURCES}
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False) and user.is_patient_principal:
        from clinic.portal.access import portal_patient
        from clinic.protocols.choices import PlanStatus
        from clinic.screening.choices import Route

        patient = portal_patient(user)
        context["portal_home_program"] = bool(
            patient
            and patient.treatment_plans.filter(
                route=Route.SUBLINGUAL, status=PlanStatus.ACTIVE
            ).exists()
        )
    return context
