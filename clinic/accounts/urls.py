from django.urls import path

from clinic.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/patient/", views.PatientLoginView.as_view(), name="patient_login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("2fa/setup/", views.second_factor_setup, name="second_factor_setup"),
    path("2fa/verify/", views.second_factor_verify, name="second_factor_verify"),
]
