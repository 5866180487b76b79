"""KetaCare settings: one module, driven by the environment.

Defaults are safe for production (DEBUG off, second factor required); the demo
(`make run`) and the tests switch the relaxed values on explicitly.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("KETACARE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}."
    )


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}.") from error


def env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

# Production refuses to start half-configured: each missing value is named.
if not DEBUG:
    missing = [n for n in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL") if not os.environ.get(n)]
    if missing:
        raise ImproperlyConfigured(
            "KetaCare is starting with DEBUG off, so it needs "
            + ", ".join(missing)
            + " in the environment. See docs/configuration.md (or set DEBUG=1 for a local demo)."
        )


def _development_secret_key() -> str:
    """A per-checkout key kept under var/, so demo sessions survive a restart."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key_file = VAR_DIR / "development-secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = os.environ.get("SECRET_KEY") or _development_secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS") or (["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# How many reverse proxies sit in front of the app; the audit trail records the client
# address they pass in X-Forwarded-For. 0 trusts no header (REMOTE_ADDR is the client).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "ninja",
    "clinic.core",
    "clinic.accounts",
    "clinic.locations",
    "clinic.notifications",
    "clinic.patients",
    "clinic.dashboard",
    "clinic.assessments",
    "clinic.outcomes",
    "clinic.screening",
    "clinic.protocols",
    "clinic.scheduling",
    "clinic.controlled_substances",
    "clinic.treatment_sessions",
    "clinic.billing",
    "clinic.journal",
    "clinic.home_program",
    "clinic.fhir.apps.FhirConfig",
    "clinic.portal",
    "clinic.public_site",
    "clinic.demo",
    "django_tasks_db",
    "clinic.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "clinic.core.middleware.RequestContextMiddleware",
    "clinic.core.middleware.IdleSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Before any view or CSRF check reads the body: too large is a 413, not a 400 or 500.
    "clinic.core.middleware.RequestTooLargeMiddleware",
    "clinic.accounts.middleware.StaffSecondFactorMiddleware",
    # request.location and its time zone, for staff (one query).
    "clinic.locations.middleware.LocationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "clinic.core.middleware.NoStoreMiddleware",
    "clinic.core.middleware.DomainErrorPageMiddleware",
    # Last, as django-axes asks, so it sees the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "clinic" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "clinic.core.context_processors.clinic",
                "clinic.locations.context_processors.location",
                "clinic.portal.context_processors.portal",
            ],
            # `date` and `time` that survive a year-1 or year-9999 value already stored.
            "builtins": ["clinic.core.templatetags.safe_dates"],
        },
    },
]

# Database: SQLite under var/ by default, PostgreSQL (production) from DATABASE_URL.
DATABASE_CONN_MAX_AGE_S = env_int("DATABASE_CONN_MAX_AGE_S", 600)
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{VAR_DIR / 'ketacare.sqlite3'}",
        conn_max_age=DATABASE_CONN_MAX_AGE_S,
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite: persistent connections buy nothing; WAL and a busy timeout keep
    # the demo responsive when the server and a management command overlap.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    )
# A read replica of the primary (optional): only reports and exports read from it, through
# clinic.core.db_router.reporting_database(); everything else, and every write, uses the primary.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "").strip()
REPORTING_DATABASE = "default"
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=DATABASE_CONN_MAX_AGE_S, conn_health_checks=True
    )
    if DATABASES["replica"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            "DATABASE_REPLICA_URL must be a PostgreSQL URL (postgres://...)."
        )
    # Read-only sessions: even pointed at a writable server, nothing is written through it.
    DATABASES["replica"].setdefault("OPTIONS", {})["options"] = (
        "-c default_transaction_read_only=on"
    )
    # Tests run against one database: the replica alias is the test primary.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["clinic.core.db_router.PrimaryReplicaRouter"]
    REPORTING_DATABASE = "replica"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Where `manage.py backup` writes when not given --output (docs/operations.md).
BACKUP_DIR = Path(os.environ.get("KETACARE_BACKUP_DIR", VAR_DIR / "backups"))

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Sessions end after a period of inactivity (sliding) and when the browser closes.
SESSION_IDLE_TIMEOUT_MIN = env_int("SESSION_IDLE_TIMEOUT_MIN", 30)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT_MIN * 60
SESSION_SAVE_EVERY_REQUEST = True
# ... but no more than once in this many seconds while nothing in the session changes
# (clinic/core/middleware.py IdleSessionMiddleware): one write per request otherwise.
SESSION_REFRESH_INTERVAL_S = env_int("SESSION_REFRESH_INTERVAL_S", 60)
if not 0 <= SESSION_REFRESH_INTERVAL_S <= SESSION_COOKIE_AGE // 2:
    raise ImproperlyConfigured(
        "SESSION_REFRESH_INTERVAL_S must be between 0 and half of SESSION_IDLE_TIMEOUT_MIN."
    )
# Flash messages live in the server-side session, not in a cookie the browser can read.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Lockout after repeated failed logins (django-axes): per username-and-address combination, so
# no one can lock out others (behind a proxy many clients share an address), plus a looser cap
# per username across addresses against password spraying (clinic/accounts/lockout.py).
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_LIMIT_PER_USERNAME = env_int("LOGIN_FAILURE_LIMIT_PER_USERNAME", 50)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MIN", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "clinic.accounts.lockout.ClinicLockoutHandler"
# The client address as the audit trail reads it (TRUSTED_PROXY_COUNT).
AXES_CLIENT_IP_CALLABLE = "clinic.core.middleware.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_SENSITIVE_PARAMETERS = ["password", "otp_token"]
AXES_VERBOSE = False

# A time-based one-time password is required of staff unless switched off (demo only).
REQUIRE_STAFF_2FA = env_bool("REQUIRE_STAFF_2FA", True)
# Days a personal API token works after it is created; every token expires.
API_TOKEN_EXPIRY_DAYS = env_int("API_TOKEN_EXPIRY_DAYS", 90)
if not 1 <= API_TOKEN_EXPIRY_DAYS <= 366:
    raise ImproperlyConfigured(
        f"API_TOKEN_EXPIRY_DAYS must be 1 to 366 days; got {API_TOKEN_EXPIRY_DAYS}."
    )
CLINIC_NAME = os.environ.get("CLINIC_NAME", "KetaCare Clinic")
# The address staff use to reach KetaCare; links in e-mail start with it.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# The clinic's telephone number, as patients should read it, e.g. "(212) 555-0142". Shown (as a
# tel: link on pages) wherever a patient is told to call the clinic; empty means not set, and
# those places then say "call the clinic" without a number.
CLINIC_PHONE = os.environ.get("CLINIC_PHONE", "").strip()
_phone_digits = sum(ch.isdigit() for ch in CLINIC_PHONE)
if CLINIC_PHONE and (
    not 3 <= _phone_digits <= 15 or any(ch not in "0123456789+-(). " for ch in CLINIC_PHONE)
):
    raise ImproperlyConfigured(
        "CLINIC_PHONE must be a telephone number of 3 to 15 digits, written with digits, "
        f"spaces and + - ( ) . only; got {CLINIC_PHONE!r}."
    )

# The clinic's Spravato REMS healthcare-setting ID, printed on each patient monitoring form.
SPRAVATO_REMS_SETTING_ID = os.environ.get("SPRAVATO_REMS_SETTING_ID", "")
OTP_TOTP_ISSUER = CLINIC_NAME


LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("CLINIC_TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
if DEBUG:
    # WhiteNoise warns about a missing STATIC_ROOT; in development it serves from the apps.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

PAGE_SIZE = env_int("PAGE_SIZE", 25)
# Home pages and in-basket sections show at most this many rows each, with the total and a
# link to the full, paginated list (clinic/core/pages.py). A page-size choice, not clinical.
SECTION_SIZE = env_int("SECTION_SIZE", 10)
SECTION_COUNT_CAP = env_int("SECTION_COUNT_CAP", 1000)
# A page that refreshes itself is audited once per page load (clinic/core/page_loads.py): how
# long the patients a page load has shown are remembered. A page open for longer is audited
# afresh, as if reloaded.
PAGE_LOAD_AUDIT_MEMORY_HOURS = env_int("PAGE_LOAD_AUDIT_MEMORY_HOURS", 12)

# A cache shared by every process on every app server (Redis) is needed in production: the
# consultation and portal password-reset rate limits count in it. Without REDIS_URL each
# process keeps its own in-memory cache (fine for the demo).
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Sessions live in the database (the one source of truth, shared by every app server). With
# REDIS_URL they are also cached there ("cached_db"): a request reads its session from Redis,
# while every save still writes the database, so a Redis restart or eviction signs no one out
# (ending a person's sessions goes through the session engine: clinic/accounts/staff.py).
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if REDIS_URL
    else "django.contrib.sessions.backends.db"
)

# Background work (reminders, alert e-mail) runs in `manage.py db_worker`, queued in the database;
# any number of workers, on any servers, share the queue (docs/production.md).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A task still "running" this long after a worker claimed it was abandoned by a worker that
# died; `deliver_due_notifications` marks it failed (clinic/notifications/abandoned.py). Our
# longest task, a reminder sweep over a whole network, takes about a minute.
TASK_ABANDONED_AFTER_MIN = env_int("TASK_ABANDONED_AFTER_MIN", 60)
if TASK_ABANDONED_AFTER_MIN < 10:
    raise ImproperlyConfigured("TASK_ABANDONED_AFTER_MIN must be at least 10 minutes.")

# Billing: how many days before an approved prior authorization's last day the billing queue,
# the chart, the plan and the booking page warn (issue 15 asks for 14).
PRIOR_AUTH_EXPIRY_WARNING_DAYS = env_int("PRIOR_AUTH_EXPIRY_WARNING_DAYS", 14)
if not 1 <= PRIOR_AUTH_EXPIRY_WARNING_DAYS <= 90:
    raise ImproperlyConfigured("PRIOR_AUTH_EXPIRY_WARNING_DAYS must be between 1 and 90.")

# Claims (box 25 and 33 of the CMS-1500; loops 1000A and 2010AA of the 837P): the clinic as
# the billing provider, its group (type 2) NPI and federal tax ID, and the clearinghouse the
# 837P files go to. Empty until the clinic sets them: a claim then says what is missing. The
# billing address defaults to the default location's.
BILLING_PROVIDER_NAME = os.environ.get("BILLING_PROVIDER_NAME", CLINIC_NAME)
BILLING_PROVIDER_NPI = os.environ.get("BILLING_PROVIDER_NPI", "")
BILLING_TAX_ID = os.environ.get("BILLING_TAX_ID", "")
BILLING_CONTACT_NAME = os.environ.get("BILLING_CONTACT_NAME", "")
BILLING_CONTACT_PHONE = os.environ.get("BILLING_CONTACT_PHONE", "")
CLEARINGHOUSE_NAME = os.environ.get("CLEARINGHOUSE_NAME", "")
CLEARINGHOUSE_SENDER_ID = os.environ.get("CLEARINGHOUSE_SENDER_ID", "")
CLEARINGHOUSE_RECEIVER_ID = os.environ.get("CLEARINGHOUSE_RECEIVER_ID", "")
# Test files (ISA15 "T") until the clearinghouse has approved the clinic's files.
CLAIMS_PRODUCTION = os.environ.get("CLAIMS_PRODUCTION", "0") == "1"

# Patient questionnaire links: how long a sent link stays valid, and a kiosk hand-over.
QUESTIONNAIRE_LINK_VALID_HOURS = env_int("QUESTIONNAIRE_LINK_VALID_HOURS", 72)
KIOSK_LINK_VALID_HOURS = env_int("KIOSK_LINK_VALID_HOURS", 1)
# Patient portal: how long an invitation's activation link stays valid (it works once), and
# how many password-reset requests one e-mail address or client address may make per window.
PORTAL_INVITATION_VALID_HOURS = env_int("PORTAL_INVITATION_VALID_HOURS", 72)
PORTAL_PASSWORD_RESET_RATE_LIMIT_COUNT = env_int("PORTAL_PASSWORD_RESET_RATE_LIMIT_COUNT", 5)
PORTAL_PASSWORD_RESET_RATE_LIMIT_WINDOW_MIN = env_int(
    "PORTAL_PASSWORD_RESET_RATE_LIMIT_WINDOW_MIN", 60
)

# Break the glass: how long a clinician's emergency access to a chart outside their care team
# lasts, and how many characters the stated reason needs at least (clinic policy choices).
EMERGENCY_ACCESS_VALID_HOURS = env_int("EMERGENCY_ACCESS_VALID_HOURS", 4)
EMERGENCY_ACCESS_REASON_MIN_LENGTH = env_int("EMERGENCY_ACCESS_REASON_MIN_LENGTH", 20)

# The public consultation form: at most this many requests per client address in each
# window (a fixed window, counted in Django's cache); more are answered with HTTP 429.
CONSULTATION_RATE_LIMIT_COUNT = env_int("CONSULTATION_RATE_LIMIT_COUNT", 5)
CONSULTATION_RATE_LIMIT_WINDOW_MIN = env_int("CONSULTATION_RATE_LIMIT_WINDOW_MIN", 60)

# /fhir/R4/: at most this many requests per user (all their API tokens together) in each
# window (a fixed window, counted in Django's cache); more are answered 429 with Retry-After.
# A clinic-policy default sized on Zus Health's published FHIR limit, 2,000 requests per
# minute per customer (docs.zushealth.com/docs/api-rate-limits).
FHIR_RATE_LIMIT_COUNT = env_int("FHIR_RATE_LIMIT_COUNT", 2000)
FHIR_RATE_LIMIT_WINDOW_MIN = env_int("FHIR_RATE_LIMIT_WINDOW_MIN", 1)
if FHIR_RATE_LIMIT_COUNT < 1 or FHIR_RATE_LIMIT_WINDOW_MIN < 1:
    raise ImproperlyConfigured(
        "FHIR_RATE_LIMIT_COUNT and FHIR_RATE_LIMIT_WINDOW_MIN must be 1 or more."
    )

# The base URL of KetaCare's own FHIR identifiers and CodeSystems (MRN and staff identifier
# systems, the instrument CodeSystem, Questionnaire URLs): a URL the clinic owns, stable once
# records carrying it have left. clinic/fhir/terminology.py (pure, no Django) reads the same
# variable; the FHIR app refuses to start if the two differ.
KETACARE_FHIR_BASE = (
    os.environ.get("KETACARE_FHIR_BASE", "").strip().rstrip("/") or "https://ketacare.example/fhir"
)
if not KETACARE_FHIR_BASE.startswith(("https://", "http://")):
    raise ImproperlyConfigured(
        f"KETACARE_FHIR_BASE must be an http(s) URL; got {KETACARE_FHIR_BASE!r}."
    )

# Clinic-policy overrides (see clinic/core/policy.py, clinic/assessments/policy.py and
# clinic/outcomes/policy.py); defaults come from docs/clinical/policy-defaults.md.
CLINIC_POLICY: dict = {}

# Shown to a patient whose answers raise a suicidality alert (policy-defaults.md, [G5]).
CRISIS_RESOURCES = [
    ("988 Suicide & Crisis Lifeline", "Call or text 988 (US), any time, day or night."),
    ("Emergency", "If you are in immediate danger, call 911 or go to the nearest emergency room."),
]

# Security headers. HTTPS settings follow DEBUG so that `check --deploy` is clean in production.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (Django's own middleware). Every script, style sheet, image and font
# is served by KetaCare itself, and no page has an inline script, inline style or eval, so the
# policy allows our own origin and nothing else: an injected <script> or style never runs.
# docs/security.md says how it is
# tested (a browser walk over every page that fails on any violation).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # A load balancer's health probe may speak plain HTTP to the app server.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Mail (Django 6.1 MAILERS): the console in the demo, SMTP in production.
_EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
MAILERS: dict[str, dict[str, object]] = {"default": {"BACKEND": _EMAIL_BACKEND}}
if _EMAIL_BACKEND.endswith("smtp.EmailBackend"):
    MAILERS["default"]["OPTIONS"] = {
        "host": os.environ.get("EMAIL_HOST", "localhost"),
        "port": env_int("EMAIL_PORT", 587),
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", True),
        "timeout": env_int("EMAIL_TIMEOUT_S", 20),
    }
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "KetaCare <no-reply@localhost>")

# Logs never carry protected health information: request logs name the route,
# not the query, and the audit trail (in the database) is where access is recorded.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}
