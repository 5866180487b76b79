from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "clinic.accounts"
    label = "accounts"
    verbose_name = "Staff accounts"

    def ready(self):
        # Sign-in events are infrastructure (not domain logic): audited through auth's signals.
        from clinic.accounts import auth_events  # noqa: F401
