from django.urls import path

from clinic.accounts import views, views_tokens

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
