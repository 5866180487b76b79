"""Test settings: the real settings with fast hashing and local-only services."""

import os

os.environ.setdefault("DEBUG", "1")

from config.settings import *  # noqa: E402,F403
from config.settings import DATABASES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
REQUIRE_STAFF_2FA = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and "replica" not in DATABASES:
    # On PostgreSQL, a read-only "replica" alias on the test database and the router, as
    # DATABASE_REPLICA_URL configures them, for the replica tests; reports still read the
    # primary (REPORTING_DATABASE) unless a test says otherwise.
    DATABASES["replica"] = {
        **DATABASES["default"],
        "OPTIONS": {
            **DATABASES["default"].get("OPTIONS", {}),
            "options": "-c default_transaction_read_only=on",
        },
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["clinic.core.db_router.PrimaryReplicaRouter"]
