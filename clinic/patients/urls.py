from django.urls import path

from clinic.patients import views, views_emergency, views_portal, views_records

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="patient_list"),
    path("new/", views.patient_create, name="patient_create"),
    path("<uuid:patient_uuid>/", views.patient_chart, name="patient_chart"),
    path("<uuid:patient_uuid>/edit/", views.patient_edit, name="patient_edit"),
    path("<uuid:patient_uuid>/care-team/", views.care_team_edit, name="care_team_edit"),
    path(
        "<uuid:patient_uuid>/measurements/new/",
        views.measurement_create,
        name="measurement_create",
    ),
    path(
        "<uuid:patient_uuid>/measurements/<uuid:measurement_uuid>/entered-in-error/",
        views.measurement_entered_in_error,
        name="measurement_entered_in_error",
    ),
]

# The patient portal (views_portal): invite, revoke an invitation, send a password reset.
urlpatterns += [
    path(
        "<uuid:patient_uuid>/portal/invite/",
        views_portal.portal_invitation_create,
        name="portal_invitation_create",
    ),
    path(
        "<uuid:patient_uuid>/portal/invitations/<uuid:invitation_uuid>/revoke/",
        views_portal.portal_invitation_revoke,
        name="portal_invitation_revoke",
    ),
    path(
        "<uuid:patient_uuid>/portal/password-reset/",
        views_portal.portal_password_reset,
        name="portal_password_reset",
    ),
]

# Break the glass (views_emergency): a clinician's emergency access, the administrator's review.
urlpatterns += [
    path(
        "<uuid:patient_uuid>/emergency-access/",
        views_emergency.emergency_access_request,
        name="emergency_access_request",
    ),
    path("emergency-access/", views_emergency.emergency_access_list, name="emergency_access_list"),
    path(
        "emergency-access/<uuid:access_uuid>/review/",
        views_emergency.emergency_access_review,
        name="emergency_access_review",
    ),
    # Requests for a copy of the record (views_records).
    path("records-requests/", views_records.records_request_list, name="records_request_list"),
    path(
        "<uuid:patient_uuid>/records-requests/new/",
        views_records.records_request_new,
        name="records_request_new",
    ),
    path(
        "<uuid:patient_uuid>/records-requests/<uuid:request_uuid>/",
        views_records.records_request_detail,
        name="records_request_detail",
    ),
    path(
        "<uuid:patient_uuid>/records-requests/<uuid:request_uuid>/fulfil/",
        views_records.records_request_close,
        {"action": "fulfil"},
        name="records_request_fulfil",
    ),
    path(
        "<uuid:patient_uuid>/records-requests/<uuid:request_uuid>/withdraw/",
        views_records.records_request_close,
        {"action": "withdraw"},
        name="records_request_withdraw",
    ),
    path(
        "<uuid:patient_uuid>/records-requests/<uuid:request_uuid>/extend/",
        views_records.records_request_extend,
        name="records_request_extend",
    ),
]
