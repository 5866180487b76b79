"""The patient portal, mounted at /portal/. Each group of pages lives in its own views module."""

from django.urls import path

from clinic.portal import (
    views_account,
    views_bills,
    views_care,
    views_home_program,
    views_journal,
    views_record,
)

app_name = "portal"

urlpatterns = [
    # Account (views_account): activation from the invitation e-mail, password reset, second
    # factor, password change. Tokens arrive in a URL once and leave it at once (ADR 0003).
    path("activate/", views_account.activate, name="activate"),
    path("activate/<str:token>/", views_account.activate_link, name="activate_link"),
    path("password-reset/", views_account.password_reset, name="password_reset"),
    path("password-reset/sent/", views_account.password_reset_sent, name="password_reset_sent"),
    path(
        "password-reset/<str:uidb64>/<str:token>/",
        views_account.password_reset_link,
        name="password_reset_link",
    ),
    path(
        "password-reset/new/", views_account.password_reset_confirm, name="password_reset_confirm"
    ),
    path("account/", views_account.account, name="account"),
    path("account/second-factor/", views_account.second_factor, name="second_factor"),
    path("account/api-tokens/", views_account.api_tokens, name="api_tokens"),
    path(
        "account/api-tokens/<str:prefix>/revoke/",
        views_account.api_token_revoke,
        name="api_token_revoke",
    ),
    # Care (views_care): home, appointments with preparation, questionnaires, progress.
    path("", views_care.home, name="home"),
    path("appointments/", views_care.appointments, name="appointments"),
    path("appointments/<uuid:appointment_uuid>/", views_care.appointment, name="appointment"),
    path("questionnaires/", views_care.questionnaires, name="questionnaires"),
    path("questionnaires/<slug:code>/", views_care.questionnaire, name="questionnaire"),
    path(
        "questionnaires/result/<uuid:response_uuid>/",
        views_care.questionnaire_result,
        name="questionnaire_result",
    ),
    path("progress/", views_care.progress, name="progress"),
    path("bills/", views_bills.bills, name="bills"),
    # The whole record to take away (views_record).
    path("record/", views_record.record, name="record"),
    path(
        "record/download/<slug:file_format>/",
        views_record.record_download,
        name="record_download",
    ),
    path("bills/statement.pdf", views_bills.statement, name="statement"),
    path("bills/<uuid:charge_uuid>/superbill.pdf", views_bills.superbill, name="superbill"),
    # Intention and integration journal (views_journal).
    path(
        "appointments/<uuid:appointment_uuid>/intention/", views_journal.intention, name="intention"
    ),
    path("journal/", views_journal.journal, name="journal"),
    path("journal/new/", views_journal.entry_new, name="journal_new"),
    path("journal/<uuid:entry_uuid>/", views_journal.entry, name="journal_entry"),
    # At-home sublingual program (views_home_program).
    path("at-home/", views_home_program.home_sessions, name="home_sessions"),
    path("at-home/new/", views_home_program.home_session_new, name="home_session_new"),
    path("at-home/<uuid:log_uuid>/", views_home_program.home_session, name="home_session"),
]
