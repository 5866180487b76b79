from django.urls import path

from clinic.accounts import views, views_staff, views_tokens

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/patient/", views.PatientLoginView.as_view(), name="patient_login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("2fa/setup/", views.second_factor_setup, name="second_factor_setup"),
    path("2fa/verify/", views.second_factor_verify, name="second_factor_verify"),
    path("tokens/", views_tokens.token_list, name="token_list"),
    path("tokens/all/", views_tokens.token_all, name="token_all"),
    path("tokens/<str:prefix>/revoke/", views_tokens.token_revoke, name="token_revoke"),
]

# Staff management (clinic administrator) and the invitation link (views_staff).
urlpatterns += [
    path("staff/", views_staff.staff_list, name="staff_list"),
    path("staff/invite/", views_staff.staff_invite, name="staff_invite"),
    path("staff/<uuid:staff_uuid>/", views_staff.staff_detail, name="staff_detail"),
    path(
        "staff/<uuid:staff_uuid>/deactivate/",
        views_staff.staff_deactivate,
        name="staff_deactivate",
    ),
    path(
        "staff/<uuid:staff_uuid>/reactivate/",
        views_staff.staff_reactivate,
        name="staff_reactivate",
    ),
    path(
        "staff/<uuid:staff_uuid>/second-factor/reset/",
        views_staff.staff_second_factor_reset,
        name="staff_second_factor_reset",
    ),
    path(
        "staff/<uuid:staff_uuid>/invitation/",
        views_staff.staff_invitation_resend,
        name="staff_invitation_resend",
    ),
    path(
        "staff/<uuid:staff_uuid>/unlock/",
        views_staff.staff_sign_in_unlock,
        name="staff_sign_in_unlock",
    ),
    path(
        "welcome/<str:uidb64>/<str:token>/",
        views_staff.staff_invitation_link,
        name="staff_invitation_link",
    ),
    path("welcome/", views_staff.staff_invitation_accept, name="staff_invitation_accept"),
]
